"""Benchmark of the IMAP server on a 10,000-message mailbox; run on demand:

    python tests/perf/bench_imap.py [--messages 10000] [--seconds 10] [--clients 40]

The server runs in a child process (as `mailsim serve` would), the clients in this
one, over real sockets on 127.0.0.1. Figures are printed, never asserted. The
issue's targets (from Dovecot and Twisted on the same 2-core machines) are shown
beside each figure. Not collected by pytest (the name does not start with test_).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mailsim.events import Protocol  # noqa: E402
from mailsim.protocol.imap.index import attach_index  # noqa: E402
from mailsim.store.world import build_store, load_world  # noqa: E402
from mailsim.transcript.bus import Bus  # noqa: E402
from mailsim.transport.limits import ServerLimits  # noqa: E402
from mailsim.transport.tcp import MailServers, ServerOptions  # noqa: E402

TARGETS_MS = {
    "SELECT": 20,
    "FETCH 1:* (FLAGS RFC822.SIZE ENVELOPE)": 100,
    "FETCH 1:* BODYSTRUCTURE": 60,
    "SEARCH FROM": 40,
    "SEARCH SUBJECT": 40,
    "SEARCH TEXT": 300,
    "UID STORE 1:* +FLAGS": 100,
}
NAMES = ("Ana Torres", "Bob Builder", "Carmen Ruiz", "David Chen", "Elena Sanz", "Farid Haddad")


def populate(count: int):
    """The default world, plus `count` messages in alice's INBOX built from the
    sample messages with varied senders and subjects."""
    store = build_store(seed_messages=False)
    attach_index(store)  # parse each message as it is stored, as a running server does
    samples = [m.raw for m in load_world().messages]
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    began = time.perf_counter()
    for number in range(count):
        name = NAMES[number % len(NAMES)]
        local = name.split()[0].lower()
        head = (
            f"From: {name} <{local}@universidad.example>\r\n"
            f"Subject: Message {number} about lab {number % 97}\r\n"
        ).encode()
        body = samples[number % len(samples)]
        store.append("alice", "INBOX", head + body, internal_date=start + timedelta(minutes=number),
                     flags=("\\Seen",) if number % 3 else ())
    return store, time.perf_counter() - began


def serve(count: int, port_queue) -> None:
    store, seconds = populate(count)

    async def main() -> None:
        # Every simulated client comes from 127.0.0.1: lift the per-address limit.
        limits = ServerLimits(max_per_protocol=1000, max_per_address=1000)
        servers = MailServers(store, Bus(), ServerOptions(ports={Protocol.IMAP: 0}, max_connections=1000, limits=limits))
        addresses = await servers.start()
        port_queue.put((addresses[Protocol.IMAP][1], seconds))
        await asyncio.Event().wait()

    asyncio.run(main())


class Client:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.number = 0

    @classmethod
    async def connect(cls, port: int) -> "Client":
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 26)
        client = cls(reader, writer)
        await reader.readline()
        return client

    async def command(self, text: str) -> tuple[bytes, int]:
        """Send, read to the tagged reply; (tagged line, octets received).

        Reads whole chunks and only looks at the end of what arrived: the tagged
        line is always last, so the client costs little next to the server."""
        self.number += 1
        tag = f"t{self.number}".encode()
        self.writer.write(tag + b" " + text.encode() + b"\r\n")
        chunks: list[bytes] = []
        received = 0
        tail = b""
        while True:
            chunk = await self.reader.read(1 << 20)
            if not chunk:
                raise ConnectionError("server closed")
            chunks.append(chunk)
            received += len(chunk)
            tail = (tail + chunk)[-4096:]
            if tail.endswith(b"\r\n"):
                start = tail.rfind(b"\r\n", 0, len(tail) - 2)
                last = tail[start + 2 :] if start >= 0 else tail
                if last.startswith(tag + b" "):
                    return last.rstrip(b"\r\n"), received

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


async def timed(client: Client, text: str, runs: int) -> tuple[float, int]:
    times = []
    size = 0
    for _ in range(runs):
        began = time.perf_counter()
        line, size = await client.command(text)
        times.append(time.perf_counter() - began)
        assert b" OK " in line, line
    return statistics.median(times) * 1000, size


async def single_commands(port: int, runs: int) -> None:
    client = await Client.connect(port)
    await client.command("LOGIN alice wonderland")
    rows = []
    rows.append(("SELECT", *await timed(client, "SELECT INBOX", runs)))
    rows.append(("FETCH 1:* (FLAGS RFC822.SIZE ENVELOPE)", *await timed(client, "FETCH 1:* (FLAGS RFC822.SIZE ENVELOPE)", runs)))
    rows.append(("FETCH 1:* BODYSTRUCTURE", *await timed(client, "FETCH 1:* BODYSTRUCTURE", runs)))
    rows.append(("SEARCH FROM", *await timed(client, "SEARCH FROM carmen", runs)))
    rows.append(("SEARCH SUBJECT", *await timed(client, 'SEARCH SUBJECT "lab 42"', runs)))
    rows.append(("SEARCH TEXT", *await timed(client, 'SEARCH TEXT "dot problem"', runs)))
    store_times = []
    for run in range(runs):
        sign = "+" if run % 2 == 0 else "-"
        began = time.perf_counter()
        line, size = await client.command(f"UID STORE 1:* {sign}FLAGS (\\Flagged)")
        store_times.append(time.perf_counter() - began)
    rows.append(("UID STORE 1:* +FLAGS", statistics.median(store_times) * 1000, size))
    await client.command("LOGOUT")
    await client.close()
    print(f"{'command':42} {'median ms':>10} {'target ms':>10} {'octets':>11}")
    for name, ms, size in rows:
        print(f"{name:42} {ms:10.1f} {TARGETS_MS[name]:10d} {size:11,d}")


async def classroom(port: int, clients: int, seconds: float, server_pid: int) -> None:
    """`clients` clients, each looping LOGIN / SELECT / FETCH 1:50 / LOGOUT."""
    durations: list[float] = []
    deadline = time.perf_counter() + seconds

    async def one() -> None:
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            client = await Client.connect(port)
            await client.command("LOGIN alice wonderland")
            await client.command("SELECT INBOX")
            await client.command("FETCH 1:50 (FLAGS RFC822.SIZE ENVELOPE)")
            await client.command("LOGOUT")
            await client.close()
            durations.append(time.perf_counter() - began)

    began = time.perf_counter()
    client_cpu = time.process_time()
    server_cpu = _cpu_seconds(server_pid)
    await asyncio.gather(*(one() for _ in range(clients)))
    elapsed = time.perf_counter() - began
    client_cpu = time.process_time() - client_cpu
    server_cpu = _cpu_seconds(server_pid) - server_cpu
    durations.sort()
    p99 = durations[int(len(durations) * 0.99) - 1] * 1000 if durations else 0.0
    print(
        f"classroom load: {clients} clients for {elapsed:.1f} s: {len(durations)} sessions completed "
        f"(target >= 2,600), p50 {durations[len(durations) // 2] * 1000:.0f} ms, "
        f"p99 {p99:.0f} ms (target < 220); CPU: server {server_cpu:.1f} s, clients {client_cpu:.1f} s"
    )


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc), 0 elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    import os

    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def engine_only(count: int, runs: int) -> None:
    """The same commands on a sans-IO session in this process: the engine's own cost,
    without sockets, the event loop or the client."""
    from mailsim.protocol.imap import ImapSession

    store, _ = populate(count)
    session = ImapSession(store, session_id="bench")
    session.start()
    session.receive_data(b"a LOGIN alice wonderland\r\nb SELECT INBOX\r\n")
    session.data_to_send()
    session.events()
    commands = [
        ("SELECT", "SELECT INBOX"),
        ("FETCH 1:* (FLAGS RFC822.SIZE ENVELOPE)", "FETCH 1:* (FLAGS RFC822.SIZE ENVELOPE)"),
        ("FETCH 1:* BODYSTRUCTURE", "FETCH 1:* BODYSTRUCTURE"),
        ("SEARCH FROM", "SEARCH FROM carmen"),
        ("SEARCH SUBJECT", 'SEARCH SUBJECT "lab 42"'),
        ("SEARCH TEXT", 'SEARCH TEXT "dot problem"'),
        ("UID STORE 1:* +FLAGS", None),
    ]
    print(f"engine only (sans-IO, {count:,} messages):")
    for number, (name, text) in enumerate(commands):
        times = []
        for run in range(runs):
            line = text or f"UID STORE 1:* {'+' if run % 2 == 0 else '-'}FLAGS (\\Flagged)"
            began = time.perf_counter()
            session.receive_data(f"e{number}.{run} {line}\r\n".encode())
            session.data_to_send()
            session.events()
            times.append(time.perf_counter() - began)
        print(f"  {name:40} {statistics.median(times) * 1000:10.1f} ms (target {TARGETS_MS[name]})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--engine", action="store_true", help="measure the sans-IO engine only, in process")
    args = parser.parse_args()
    if args.engine:
        engine_only(args.messages, args.runs)
        return
    queue: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(args.messages, queue), daemon=True)
    server.start()
    port, seconds = queue.get(timeout=600)
    print(f"{args.messages:,} messages stored and indexed in {seconds:.1f} s "
          f"({seconds / args.messages * 1000:.2f} ms per message)")
    try:
        asyncio.run(single_commands(port, args.runs))
        asyncio.run(classroom(port, args.clients, args.seconds, server.pid))
    finally:
        server.terminate()
        server.join()


if __name__ == "__main__":
    main()
