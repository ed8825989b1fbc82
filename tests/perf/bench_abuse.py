"""What a mischievous client costs a shared `mailsim serve`; run on demand:

    python tests/perf/bench_abuse.py [--connections 100] [--junk-mib 1]
                                     [--message-mib 5] [--retr 60] [--holders 20]

Starts `mailsim serve` in a child process (defaults for everything but the ports)
and reads its resident memory (VmRSS) from /proc. Prints:

1. RSS growth while 100 unauthenticated IMAP connections, from 100 loopback
   addresses, each announce `a LOGIN {26000000}` (the 25 MiB maximum) and then send
   JUNK MiB anyway; and after they close.
2. RSS growth while one POP3 client pipelines 60 `RETR` of a 5 MB message and reads
   nothing (then reads it all, to check every copy arrived); the same for an IMAP
   `FETCH 1:* BODY.PEEK[]` that sends one byte at a time and reads nothing.
3. Another address's IMAP LOGIN round trip while 127.0.0.1 holds its connection
   maximum (and knocks for more), against the same with no one holding.
4. Password guessing: 20 parallel POP3 connections from one address guessing alice's
   password for 5 s: how many guesses were judged, how many refused by the lock-out.

Linux only (/proc, and 127.x source addresses). Not collected by pytest.
"""

from __future__ import annotations

import argparse
import re
import smtplib
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def start_server() -> tuple[subprocess.Popen, dict[str, int]]:
    server = subprocess.Popen(
        [sys.executable, "-m", "mailsim", "serve", "--quiet",
         "--smtp-port", "0", "--pop3-port", "0", "--imap-port", "0"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    ports: dict[str, int] = {}
    while len(ports) < 3:
        line = server.stdout.readline()  # type: ignore[union-attr]
        if not line:
            raise RuntimeError(server.stderr.read())  # type: ignore[union-attr]
        found = re.match(r"(\w+)\s+listening on [\d.]+:(\d+)", line)
        if found:
            ports[found.group(1)] = int(found.group(2))
    return server, ports


def connect(port: int, source: str = "127.0.0.1", rcvbuf: int | None = None) -> socket.socket:
    sock = socket.socket()
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.bind((source, 0))
    sock.settimeout(30)
    sock.connect(("127.0.0.1", port))
    return sock


def recv_until(sock: socket.socket, marker: bytes, data: bytearray | None = None) -> bytearray:
    data = data if data is not None else bytearray()
    start = 0
    while data.find(marker, start) < 0:
        start = max(len(data) - len(marker), 0)
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise RuntimeError(f"closed before {marker!r}")
        data += chunk
    return data


def settle(pid: int, seconds: float = 2.0) -> float:
    time.sleep(seconds)
    return rss_mib(pid)


def preauth_literals(pid: int, port: int, connections: int, junk_mib: int) -> None:
    before = rss_mib(pid)
    socks, answers = [], {}
    junk = b"j" * (1 << 20)
    for n in range(connections):
        sock = connect(port, f"127.0.{1 + n // 250}.{1 + n % 250}")
        recv_until(sock, b"ready\r\n")
        sock.sendall(b"a LOGIN {26000000}\r\n")
        answer = bytes(recv_until(sock, b"\r\n")).strip()
        answers[answer] = answers.get(answer, 0) + 1
        socks.append(sock)
    for sock in socks:
        for _ in range(junk_mib):
            try:
                sock.sendall(junk)
            except OSError:
                break
    during = settle(pid)
    for sock in socks:
        sock.close()
    after = settle(pid)
    print(f"1. {connections} unauthenticated IMAP connections announcing a 26000000-octet literal"
          f" (+{junk_mib} MiB sent anyway each)")
    for answer, count in answers.items():
        print(f"   {count} x {answer.decode()}")
    print(f"   RSS {before:.1f} MiB -> {during:.1f} MiB while connected (+{during - before:.1f})"
          f" -> {after:.1f} MiB after they closed (+{after - before:.1f})")


def deliver(smtp_port: int, size_mib: int) -> None:
    line = b"x" * 76 + b"\r\n"
    body = b"Subject: big\r\n\r\n" + line * (size_mib * (1 << 20) // len(line))
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=60) as client:
        client.sendmail("bob@mailsim.test", ["alice@mailsim.test"], body)


def pipelined_retr(pid: int, ports: dict[str, int], size_mib: int, count: int) -> None:
    deliver(ports["SMTP"], size_mib)
    before = rss_mib(pid)
    sock = connect(ports["POP3"], rcvbuf=4096)
    data = recv_until(sock, b">\r\n")
    sock.sendall(b"USER alice\r\nPASS wonderland\r\nSTAT\r\n")
    data = recv_until(sock, b"\r\n+OK ", bytearray())
    data = recv_until(sock, b"\r\n", data)
    stat = recv_until(sock, b"\r\n", bytearray(data.split(b"\r\n", 2)[-1]))
    number = int(stat.split()[1])
    sock.sendall(b"".join(b"RETR %d\r\n" % number for _ in range(count)))
    stalled = settle(pid, 3.0)
    started = time.monotonic()
    received = 0
    while received < count:
        data = bytearray()
        data = recv_until(sock, b"\r\n.\r\n", data)
        received += 1
    elapsed = time.monotonic() - started
    sock.close()
    print(f"2. one POP3 client pipelining {count} RETR of a {size_mib} MiB message, reading nothing for 3 s")
    print(f"   RSS {before:.1f} MiB -> {stalled:.1f} MiB while stalled (+{stalled - before:.1f});"
          f" then all {count} copies read in {elapsed:.1f} s")


def trickled_fetch(pid: int, ports: dict[str, int]) -> None:
    before = rss_mib(pid)
    sock = connect(ports["IMAP"], rcvbuf=4096)
    recv_until(sock, b"ready\r\n")
    sock.sendall(b"a LOGIN alice wonderland\r\nb SELECT INBOX\r\nc FETCH 1:* BODY.PEEK[]\r\n")
    for byte in b"d NOOP\r\n" * 20:
        sock.sendall(bytes([byte]))
        time.sleep(0.01)
    stalled = settle(pid, 2.0)
    sock.close()
    print("   IMAP FETCH 1:* BODY.PEEK[] with one byte sent at a time, reading nothing:"
          f" RSS {before:.1f} -> {stalled:.1f} MiB (+{stalled - before:.1f})")


def login_round_trip(port: int, source: str, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        started = time.monotonic()
        sock = connect(port, source)
        recv_until(sock, b"ready\r\n")
        sock.sendall(b"a LOGIN bob builder\r\nb LOGOUT\r\n")
        recv_until(sock, b"b OK")
        sock.close()
        times.append((time.monotonic() - started) * 1000)
    return times


def held_slots(port: int, holders: int, rounds: int) -> None:
    quiet = login_round_trip(port, "127.0.0.2", rounds)
    held = []
    for _ in range(holders):
        sock = connect(port)
        recv_until(sock, b"ready\r\n")
        held.append(sock)
    refused = connect(port)
    refusal = bytes(recv_until(refused, b"\r\n")).strip().decode()
    refused.close()
    busy = login_round_trip(port, "127.0.0.2", rounds)
    for sock in held:
        sock.close()
    print(f"3. 127.0.0.1 holds {holders} IMAP connections; its next one gets: {refusal}")
    print(f"   127.0.0.2 LOGIN+LOGOUT round trip: median {statistics.median(busy):.1f} ms,"
          f" max {max(busy):.1f} ms (no one holding: median {statistics.median(quiet):.1f} ms)")


def guessing(port: int, workers: int, seconds: float) -> None:
    counts = {"judged": 0, "locked": 0, "connections": 0}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def guess(worker: int) -> None:
        attempt = 0
        while time.monotonic() < stop:
            try:
                sock = connect(port)
                recv_until(sock, b">\r\n")
                with lock:
                    counts["connections"] += 1
                while time.monotonic() < stop:
                    attempt += 1
                    sock.sendall(b"USER alice\r\nPASS guess-%d-%d\r\n" % (worker, attempt))
                    data = recv_until(sock, b"\r\n-ERR ", bytearray())
                    data = recv_until(sock, b"\r\n", data)
                    with lock:
                        counts["locked" if b"[SYS/TEMP]" in data else "judged"] += 1
                sock.close()
            except (OSError, RuntimeError):
                continue  # hung up after too many failures: connect again

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(f"4. {workers} parallel POP3 connections from one address guessing for {seconds:g} s:"
          f" {counts['judged']} guesses judged, {counts['locked']} refused by the lock-out,"
          f" {counts['connections']} connections opened")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--junk-mib", type=int, default=1)
    parser.add_argument("--message-mib", type=int, default=5)
    parser.add_argument("--retr", type=int, default=60)
    parser.add_argument("--holders", type=int, default=20, help="the per-address maximum of the server")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    server, ports = start_server()
    try:
        time.sleep(0.5)
        print(f"server RSS at start: {rss_mib(server.pid):.1f} MiB")
        preauth_literals(server.pid, ports["IMAP"], args.connections, args.junk_mib)
        pipelined_retr(server.pid, ports, args.message_mib, args.retr)
        trickled_fetch(server.pid, ports)
        held_slots(ports["IMAP"], args.holders, args.rounds)
        guessing(ports["POP3"], 20, 5.0)
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
