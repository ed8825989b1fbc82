"""Benchmark of the POP3 server with poplib over loopback; run on demand:

    python tests/perf/bench_pop3.py [--messages 1000] [--size 2048] [--rounds 3]
                                    [--no-body-lines] [--profile]

A maildrop of N messages of about SIZE octets; the server runs in a child process
(its own interpreter, as under `mailsim serve`), with a Bus but no subscribers.
Prints LIST and RETR of all messages (messages/s, MB/s) and the NOOP round trip
(p50/p99). By default every line of a RETR body becomes a ServerLine event, as the
transcript needs; --no-body-lines measures bulk sessions that skip those events.
With --profile the server runs in this process under cProfile instead and the top
functions are printed.

Not collected by pytest (the name does not start with ``test_``).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import multiprocessing
import poplib
import pstats
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mailsim.events import Protocol  # noqa: E402
from mailsim.protocol.base import SessionConfig  # noqa: E402
from mailsim.store.store import MailStore  # noqa: E402
from mailsim.transcript.bus import Bus  # noqa: E402
from mailsim.transport.tcp import MailServers, ServerOptions  # noqa: E402

WORDS = b"the quick brown fox jumps over lazy dogs while mail flows through pop3 servers".split()


def sample_message(index: int, size: int) -> bytes:
    head = (
        f"From: Bench <bench@mailsim.test>\r\nTo: alice@mailsim.test\r\n"
        f"Subject: message {index}\r\nMessage-ID: <{index}@bench.mailsim.test>\r\n\r\n"
    ).encode()
    lines, length, n = [], len(head), index
    while length < size:
        words = [WORDS[(n + k) % len(WORDS)] for k in range(10)]
        n += 7
        line = b" ".join(words)
        if n % 11 == 0:
            line = b"." + line  # some lines need byte-stuffing
        lines.append(line + b"\r\n")
        length += len(lines[-1])
    return head + b"".join(lines)


def build_store(messages: int, size: int) -> MailStore:
    store = MailStore("mailsim.test")
    store.add_account("alice", "wonderland")
    for index in range(messages):
        store.append("alice", "INBOX", sample_message(index, size))
    return store


async def serve(store: MailStore, port_out, stop: threading.Event | None = None) -> None:
    options = ServerOptions(ports={Protocol.POP3: 0}, session_config=SessionConfig(auth_failure_delay=0))
    servers = MailServers(store, Bus(), options)
    addresses = await servers.start()
    port_out(addresses[Protocol.POP3][1])
    while stop is None or not stop.is_set():
        await asyncio.sleep(0.05)
    await servers.stop()


def child(messages: int, size: int, queue, body_lines: bool = True) -> None:
    if not body_lines:
        use_bulk_sessions()
    asyncio.run(serve(build_store(messages, size), queue.put))


def use_bulk_sessions() -> None:
    """Serve POP3 with sessions that send bodies without one event per line."""
    from mailsim.protocol import registry
    from mailsim.protocol.pop3 import Pop3Session

    class BulkPop3Session(Pop3Session):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.body_log_limit = 0

    registry.ENGINES[Protocol.POP3] = BulkPop3Session


def measure(port: int, rounds: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {"list": [], "retr": [], "octets": [], "noop": []}
    for _ in range(rounds):
        client = poplib.POP3("127.0.0.1", port, timeout=30)
        client.user("alice")
        client.pass_("wonderland")
        count, _ = client.stat()
        started = time.perf_counter()
        client.list()
        results["list"].append(time.perf_counter() - started)
        octets = 0
        started = time.perf_counter()
        for number in range(1, count + 1):
            octets += client.retr(number)[2]
        results["retr"].append(time.perf_counter() - started)
        results["octets"].append(octets)
        for _ in range(2000):
            started = time.perf_counter()
            client.noop()
            results["noop"].append(time.perf_counter() - started)
        client.quit()
    return results


def report(results: dict[str, list[float]], messages: int, body_lines: bool) -> None:
    print("body lines as events:", "yes (default)" if body_lines else "no (bulk sessions)")
    best_list, best_retr = min(results["list"]), min(results["retr"])
    octets = results["octets"][0]
    noop = sorted(results["noop"])
    print(f"maildrop: {messages} messages, {octets} octets ({octets / messages:.0f} per message)")
    print(f"LIST all: {best_list * 1000:8.2f} ms   {messages / best_list:10.0f} messages/s")
    print(
        f"RETR all: {best_retr * 1000:8.2f} ms   {messages / best_retr:10.0f} messages/s"
        f"   {octets / best_retr / 1e6:6.1f} MB/s"
    )
    print(
        f"NOOP round trip: p50 {noop[len(noop) // 2] * 1e6:.0f} µs"
        f"   p99 {noop[int(len(noop) * 0.99)] * 1e6:.0f} µs   ({len(noop)} samples)"
    )
    print(f"(best of {len(results['retr'])} rounds; poplib client in this process)")


def run_profiled(messages: int, size: int, rounds: int, body_lines: bool) -> None:
    store = build_store(messages, size)
    ready: list[int] = []
    stop = threading.Event()
    profiler = cProfile.Profile()

    def server_thread() -> None:
        profiler.enable()
        asyncio.run(serve(store, ready.append, stop))
        profiler.disable()

    thread = threading.Thread(target=server_thread)
    thread.start()
    while not ready:
        time.sleep(0.01)
    report(measure(ready[0], rounds), messages, body_lines)
    stop.set()
    thread.join()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(18)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--no-body-lines", action="store_true", help="bodies without one ServerLine event per line"
    )
    args = parser.parse_args()
    if args.profile:
        if args.no_body_lines:
            use_bulk_sessions()
        run_profiled(args.messages, args.size, args.rounds, not args.no_body_lines)
        return
    queue: multiprocessing.Queue = multiprocessing.Queue()
    process = multiprocessing.Process(
        target=child, args=(args.messages, args.size, queue, not args.no_body_lines), daemon=True
    )
    process.start()
    try:
        report(measure(queue.get(timeout=60), args.rounds), args.messages, not args.no_body_lines)
    finally:
        process.terminate()
        process.join()


if __name__ == "__main__":
    main()
