"""Benchmark: record a long lab session (about 100,000 events), then load and re-execute
it, and time single steps forward and back and long jumps.

    python tests/perf/bench_replay.py [--events 100000]

The recording is made the way the app makes one: engines driven in-process, every event
on a Bus, a Recorder with the starting world. An IMAP session idles in alice's INBOX
the whole time, so every delivery wakes it (several sessions interleaved); now and then
a POP3 session reads and deletes bob's mail.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from mailsim.events import Protocol
from mailsim.protocol.registry import ENGINES
from mailsim.store.world import build_store
from mailsim.transcript.bus import Bus
from mailsim.transcript.recorder import start_recording
from mailsim.transcript.replay import Replay


def record(path: Path, target_events: int) -> int:
    store = build_store()
    bus = Bus()
    count = [0]
    bus.subscribe(lambda event: count.__setitem__(0, count[0] + 1))
    recording = start_recording(store, bus, path, source="bench")
    numbers = iter(range(1, 10**9))

    def open_session(protocol: Protocol):
        session = ENGINES[protocol](store, session_id=f"console-{protocol.value}-{next(numbers)}", peer="console")
        session.start()
        return session

    def drain(*sessions) -> None:
        for session in sessions:
            bus.publish_all(session.events())
            session.data_to_send()
            session.take_delay()

    def send(session, text: str, *others) -> None:
        session.receive_data(text.encode() + b"\r\n")
        drain(session, *others)

    idler = None
    if Protocol.IMAP in ENGINES:
        idler = open_session(Protocol.IMAP)
        send(idler, "i1 LOGIN alice wonderland")
        send(idler, "i2 SELECT INBOX")
        send(idler, "i3 IDLE")
    others = (idler,) if idler else ()
    smtp = open_session(Protocol.SMTP)
    drain(smtp)
    send(smtp, "EHLO bench.mailsim.test")
    sent = 0
    while count[0] < target_events:
        sent += 1
        send(smtp, "MAIL FROM:<bob@mailsim.test>", *others)
        send(smtp, "RCPT TO:<alice@mailsim.test>", *others)
        if sent % 3 == 0:
            send(smtp, "RCPT TO:<bob@mailsim.test>", *others)
        send(smtp, "DATA", *others)
        send(smtp, f"Subject: message {sent}\r\n\r\nbody of message {sent}\r\n.", *others)
        if sent % 200 == 0 and Protocol.POP3 in ENGINES:
            pop = open_session(Protocol.POP3)
            drain(pop)
            for line in ("USER bob", "PASS builder", "STAT", "LIST", "DELE 1", "DELE 2", "QUIT"):
                send(pop, line)
    send(smtp, "QUIT", *others)
    if idler:
        send(idler, "DONE")
        send(idler, "i4 LOGOUT")
    recording.stop()
    return count[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "long.jsonl"
        started = time.perf_counter()
        events = record(path, args.events)
        recorded = time.perf_counter() - started
        size = path.stat().st_size
        print(f"recorded {events:,} events ({size / 1e6:.1f} MB) in {recorded:.2f} s")

        marks: list[float] = []
        started = time.perf_counter()
        replay = Replay.load(path, progress=marks.append)
        loaded = time.perf_counter() - started
        print(f"load + re-execute: {loaded:.2f} s for {len(replay.steps):,} steps "
              f"({events / loaded:,.0f} events/s); {len(marks)} progress reports; "
              f"{len(replay.differences)} differences")

        steps = len(replay.steps)
        forward, back, jumps = [], [], []
        position = steps // 2
        replay.mailboxes_at(position)
        for _ in range(500):
            started = time.perf_counter()
            replay.mailboxes_at(position + 1)
            replay.state_at(replay.steps[position].session_id, position + 1)
            forward.append(time.perf_counter() - started)
            started = time.perf_counter()
            replay.mailboxes_at(position)
            replay.state_at(replay.steps[position].session_id, position)
            back.append(time.perf_counter() - started)
            position += 1
        rng = random.Random(1)
        for _ in range(200):
            target = rng.randrange(steps + 1)
            started = time.perf_counter()
            replay.mailboxes_at(target)
            jumps.append(time.perf_counter() - started)

        def figures(name: str, values: list[float]) -> None:
            values = sorted(values)
            print(f"{name:>14}: median {statistics.median(values) * 1e6:8.1f} µs, "
                  f"p99 {values[int(len(values) * 0.99) - 1] * 1e6:8.1f} µs, max {values[-1] * 1e6:8.1f} µs")

        figures("step forward", forward)
        figures("step back", back)
        figures("random jump", jumps)
        rows = sum(len(v) for v in replay.mailboxes_at(steps).values())
        print(f"mailbox rows at the end: {rows:,}; checkpoints: {len(replay.mailboxes._checkpoints)}")


if __name__ == "__main__":
    main()
