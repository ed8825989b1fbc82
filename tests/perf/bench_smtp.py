"""SMTP benchmark: messages per second over 1 and 8 connections, NOOP round trip.

Run on demand: `python tests/perf/bench_smtp.py [--seconds 5]`. Prints figures; asserts
nothing. The server runs in its own process, as it would for a class. When aiosmtpd is
installed (`pip install -e '.[bench]'`), it is measured in the same run, on the same
work, and the ratio is printed: machines are noisy, ratios within one run are not.
"""

from __future__ import annotations

import argparse
import importlib.util
import smtplib
import socket
import statistics
import subprocess
import sys
import multiprocessing
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MESSAGE = (
    b"From: alice@mailsim.test\r\nTo: bob@mailsim.test\r\nSubject: bench\r\n\r\n"
    + b"A benchmark line of ordinary text, about seventy octets long......\r\n" * 20
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def start_mailsim(port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "mailsim", "serve", "--quiet", "--smtp-port", str(port),
         "--pop3-port", "0", "--imap-port", "0", "--max-connections", "1000"],
        cwd=ROOT, stdout=subprocess.DEVNULL,
    )


def start_aiosmtpd(port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def send_loop(port: int, seconds: float) -> int:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo("bench.example")
        deadline = time.perf_counter() + seconds
        sent = 0
        while time.perf_counter() < deadline:
            client.sendmail("alice@mailsim.test", ["bob@mailsim.test"], MESSAGE)
            sent += 1
        return sent


def messages_per_second(port: int, connections: int, seconds: float) -> float:
    """Each connection is a client process of its own, so the clients' GIL is not
    what is measured."""
    with multiprocessing.Pool(connections) as pool:
        start = time.perf_counter()
        counts = pool.starmap(send_loop, [(port, seconds)] * connections)
        elapsed = time.perf_counter() - start
    return sum(counts) / elapsed


def noop_round_trip(port: int, count: int = 5000) -> tuple[float, float]:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo("bench.example")
        samples = []
        for _ in range(count):
            start = time.perf_counter()
            client.noop()
            samples.append(time.perf_counter() - start)
    samples.sort()
    return statistics.median(samples) * 1000, samples[int(len(samples) * 0.99)] * 1000


def measure(name: str, start: Callable[[int], subprocess.Popen], seconds: float) -> dict[str, float]:
    port = free_port()
    server = start(port)
    try:
        wait_for(port)
        figures = {
            "1 connection (msg/s)": messages_per_second(port, 1, seconds),
            "8 connections (msg/s)": messages_per_second(port, 8, seconds),
        }
        p50, p99 = noop_round_trip(port)
        figures["NOOP p50 (ms)"] = p50
        figures["NOOP p99 (ms)"] = p99
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"\n{name}")
    for label, value in figures.items():
        print(f"  {label:24} {value:10.3f}" if label.endswith("(ms)") else f"  {label:24} {value:10.0f}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each throughput run")
    args = parser.parse_args()
    print(f"SMTP benchmark, {len(MESSAGE)}-octet messages, {args.seconds:.0f} s per run, smtplib clients")
    ours = measure("mailsim", start_mailsim, args.seconds)
    if importlib.util.find_spec("aiosmtpd") is None:
        print("\naiosmtpd is not installed: no comparison (pip install -e '.[bench]')")
        return
    theirs = measure("aiosmtpd (Sink handler)", start_aiosmtpd, args.seconds)
    print("\nmailsim / aiosmtpd")
    for label in ours:
        print(f"  {label:24} {ours[label] / theirs[label]:10.2f}x")


if __name__ == "__main__":
    main()
