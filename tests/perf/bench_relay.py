"""Relay benchmark: queue entries relayed per second (a relay session each, client
engine against the MX engine, in-process), for a small and a 100 kB message, and the
cost of a bounce.

Run on demand: `python tests/perf/bench_relay.py [--messages 2000]`. Prints figures;
asserts nothing. Everything runs in one process with no sockets: what is measured is
the engines, the queue and the bounce builder, not the network.
"""

from __future__ import annotations

import argparse
import time

from mailsim.clock import FixedClock, SequentialIds, utc_datetime
from mailsim.protocol.relay import QueueRunner
from mailsim.store.model import QueuedMessage
from mailsim.store.world import build_store

SMALL = b"Subject: bench\r\n\r\n" + b"A line of ordinary text, about seventy octets long.................\r\n" * 20
LARGE = b"Subject: bench\r\n\r\n" + b"A line of ordinary text, about seventy octets long.................\r\n" * 1500


def run(count: int, recipient: str, body: bytes) -> float:
    """Seconds to queue and relay `count` messages to `recipient`."""
    store = build_store(clock=FixedClock(), ids=SequentialIds("Q"), seed_messages=False)
    runner = QueueRunner(store, lambda event: None)
    when = utc_datetime(store.clock)
    for number in range(count):
        store.queue_outgoing(QueuedMessage(f"B{number}", "alice@mailsim.test", recipient, body, when, "alice"))
    start = time.perf_counter()
    runner.run_due()
    elapsed = time.perf_counter() - start
    assert all(e.status.final for e in store.queue.entries)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    count = args.messages
    for label, recipient, body in (
        ("relayed, 1.5 kB", "carmen@ejemplo.test", SMALL),
        ("relayed, 100 kB", "carmen@ejemplo.test", LARGE),
        ("bounced (550 at RCPT), 1.5 kB", "nadie@ejemplo.test", SMALL),
        ("bounced (no such domain), 1.5 kB", "x@nada.test", SMALL),
    ):
        seconds = run(count, recipient, body)
        print(f"{label:34} {count / seconds:9.0f} per second   ({seconds * 1000 / count:.2f} ms each)")


if __name__ == "__main__":
    main()
