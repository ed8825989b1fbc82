"""Kill -9 rounds against `mailsim serve --store DIR` while several senders deliver,
and what the Maildir holds afterwards; the cost of fsync in deliveries/second; and an
unauthenticated SMTP flood against the default quota (server memory before/after).

Run on demand: `python tests/perf/bench_store_crash.py [--rounds 10] [--senders 3]
[--no-fsync] [--flood-seconds 10]`. Prints figures; asserts nothing (the suite's
tests/hardening/test_store_durability.py runs one round as a test).

Each round starts the server on the same store, lets `--senders` SMTP clients send
numbered messages as fast as they can, kills the server with SIGKILL at a random
moment, and drops one foreign file into `new/` (as another delivery agent would).
Then the store is loaded as the next server would load it, and counted:

* acknowledged: messages the server answered 250 for;
* stored: numbered messages on disk;
* lost: acknowledged but not stored (the durability promise says 0);
* unacknowledged but stored: the kill came between the rename and the 250 (allowed:
  the client would send it again, RFC 5321 §6.1);
* duplicated: a message stored twice, or two messages with one UID (must be 0).
"""

from __future__ import annotations

import argparse
import random
import re
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from mailsim.store.maildir import attach_maildir  # noqa: E402
from mailsim.store.world import build_store  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(store: Path, port: int, fsync: bool) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "mailsim", "serve", "--quiet", "--store", str(store), "--smtp-port", str(port),
         "--pop3-port", "0", "--imap-port", "0", "--quota", "0", "--fsync" if fsync else "--no-fsync"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    assert process.stdout is not None
    process.stdout.readline()  # "SMTP listening on ...": ready
    return process


def sender(port: int, name: str, acknowledged: list[str], stop: threading.Event) -> None:
    number = 0
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            while not stop.is_set():
                tag = f"{name}-{number}"
                client.sendmail("load@example.org", ["bob@mailsim.test"], f"Subject: {tag}\r\n\r\nbody {tag}\r\n")
                acknowledged.append(tag)  # only after the 250
                number += 1
    except (OSError, smtplib.SMTPException):
        pass  # the server was killed


def stored_tags(store_dir: Path) -> tuple[Counter, int, int]:
    """Tags on disk (with counts), duplicated UIDs, and messages in bob's INBOX."""
    store = build_store()
    attach_maildir(store, store_dir, durable=False)
    messages = store.mailbox("bob", "INBOX").messages
    uids = Counter(m.uid for m in messages)
    tags = Counter()
    for message in messages:
        found = re.search(rb"^Subject: (s\d+-\d+)\r$", message.raw, re.M)
        if found:
            tags[found.group(1).decode()] += 1
    return tags, sum(n - 1 for n in uids.values() if n > 1), len(messages)


def crash_rounds(rounds: int, senders: int, fsync: bool) -> None:
    store_dir = Path(tempfile.mkdtemp(prefix="mailsim-crash-")) / "store"
    port = free_port()
    acknowledged: list[str] = []
    random.seed(11)
    for round_number in range(rounds):
        server = start(store_dir, port, fsync)
        stop = threading.Event()
        threads = [
            threading.Thread(target=sender, args=(port, f"s{round_number * 100 + n}", acknowledged, stop))
            for n in range(senders)
        ]
        for thread in threads:
            thread.start()
        time.sleep(random.uniform(0.3, 1.2))
        server.send_signal(signal.SIGKILL)
        server.wait()
        stop.set()
        for thread in threads:
            thread.join()
        foreign = store_dir / "bob" / "new" / f"{int(time.time())}.foreign{round_number}.otherhost"
        foreign.write_bytes(b"Subject: dropped in by another program\n\nx\n")
    tags, duplicate_uids, total = stored_tags(store_dir)
    acked = set(acknowledged)
    lost = acked - tags.keys()
    extra = tags.keys() - acked
    duplicated = sum(n - 1 for n in tags.values() if n > 1)
    print(f"kill -9 rounds: {rounds}, senders: {senders}, {'--fsync' if fsync else '--no-fsync'}")
    print(f"  acknowledged (250):           {len(acked)}")
    print(f"  stored (numbered messages):   {sum(tags.values())}  (+{rounds} foreign files; {total} in INBOX)")
    print(f"  lost (acknowledged, missing): {len(lost)}")
    print(f"  stored, not acknowledged:     {len(extra)}")
    print(f"  duplicated messages:          {duplicated}")
    print(f"  duplicated UIDs:              {duplicate_uids}")


def deliveries_per_second(fsync: bool | None, count: int) -> float:
    """Messages per second into one store (None: no --store at all, memory only)."""
    with tempfile.TemporaryDirectory() as tmp:
        store = build_store()
        store.default_quota = 0
        if fsync is not None:
            attach_maildir(store, Path(tmp), durable=fsync)
        raw = b"Subject: bench\r\n\r\n" + b"A benchmark line of ordinary text, about seventy octets long.....\r\n" * 20
        began = time.perf_counter()
        for _ in range(count):
            store.append("bob", "INBOX", raw)
        return count / (time.perf_counter() - began)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def quota_flood(seconds: float, senders: int) -> None:
    """Unauthenticated senders push 1 MB messages at bob (no --store, default quota)."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mailsim", "serve", "--quiet", "--smtp-port", str(port), "--pop3-port", "0",
         "--imap-port", "0"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    assert server.stdout is not None
    server.stdout.readline()
    before = rss_mib(server.pid)
    message = b"Subject: flood\r\n\r\n" + (b"x" * 998 + b"\r\n") * 1000
    counts: Counter = Counter()
    deadline = time.monotonic() + seconds

    def flood() -> None:
        while time.monotonic() < deadline:
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
                    client.sendmail("x@example.org", ["bob@mailsim.test"], message)
                    counts["accepted"] += 1
            except smtplib.SMTPRecipientsRefused:
                counts["452 4.2.2 at RCPT"] += 1
            except smtplib.SMTPDataError as refused:
                counts[f"{refused.smtp_code} at DATA"] += 1

    threads = [threading.Thread(target=flood) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    after = rss_mib(server.pid)
    server.terminate()
    server.wait()
    print(f"unauthenticated flood, {senders} senders x {seconds:.0f} s of 1 MB messages to one account:")
    print(f"  {dict(counts)}")
    print(f"  server RSS {before:.0f} -> {after:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--senders", type=int, default=3)
    parser.add_argument("--fsync", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--count", type=int, default=500, help="messages for the deliveries/second figures")
    parser.add_argument("--flood-seconds", type=float, default=10)
    args = parser.parse_args()
    crash_rounds(args.rounds, args.senders, args.fsync)
    print("store.append of a 1.4 KB message, messages/second:")
    for label, mode in (("memory only (no --store)", None), ("--store --no-fsync", False), ("--store --fsync", True)):
        print(f"  {label:26} {deliveries_per_second(mode, args.count):8.0f}")
    quota_flood(args.flood_seconds, args.senders)


if __name__ == "__main__":
    main()
