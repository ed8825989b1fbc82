"""Benchmark of the MIME model and its IMAP views; run on demand:

    python tests/perf/bench_mime.py

Not collected by pytest (the name does not start with ``test_``).
"""

from __future__ import annotations

import base64
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mailsim.mime import build_model  # noqa: E402
from mailsim.mime.imap import bodystructure, envelope  # noqa: E402

CRLF = b"\r\n"


def big_message(total_bytes: int = 25 * 1024 * 1024, parts: int = 200) -> bytes:
    """A multipart/mixed message of ``parts`` base64 attachments, about
    ``total_bytes`` long, whose last part nests ``depth`` multiparts."""
    per_part = total_bytes * 3 // 4 // parts
    chunk = base64.encodebytes(os.urandom(per_part)).replace(b"\n", CRLF)
    out = [
        b"From: Alice <alice@mailsim.test>", b"To: bob@mailsim.test", b"Subject: big",
        b"MIME-Version: 1.0", b'Content-Type: multipart/mixed; boundary="outer"', b"",
    ]
    for index in range(parts - 1):
        out += [
            b"--outer", b"Content-Type: application/octet-stream",
            b"Content-Transfer-Encoding: base64",
            b'Content-Disposition: attachment; filename="f%d.bin"' % index, b"", chunk,
        ]
    out += [b"--outer", nested_message(100, headers=False), b"--outer--", b""]
    return CRLF.join(out)


def nested_message(depth: int = 100, headers: bool = True) -> bytes:
    """``depth`` multiparts, each inside the previous one."""
    lines = [b"From: a@b.test", b"Subject: deep", b"MIME-Version: 1.0"] if headers else []
    for level in range(depth):
        lines += [b'Content-Type: multipart/mixed; boundary="b%d"' % level, b"", b"--b%d" % level]
    lines += [b"Content-Type: text/plain", b"", b"bottom"]
    for level in reversed(range(depth)):
        lines += [b"--b%d--" % level]
    return CRLF.join(lines) + CRLF


TYPICAL = CRLF.join([
    b"Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)",
    b'From: "Fred Foobar" <foobar@Blurdybloop.COM>',
    b"Subject: =?utf-8?q?Carta_de_presentaci=C3=B3n?=",
    b"To: mooch@owatagu.siam.edu, Team: a@x.test, b@x.test;",
    b"Message-Id: <B27397-0100000@Blurdybloop.COM>",
    b"MIME-Version: 1.0",
    b'Content-Type: multipart/mixed; boundary="b1"',
    b"",
    b"--b1",
    b'Content-Type: multipart/alternative; boundary="b2"',
    b"",
    b"--b2",
    b"Content-Type: text/plain; charset=utf-8",
    b"",
    b"Hola",
    b"--b2",
    b"Content-Type: text/html; charset=utf-8",
    b"",
    b"<p>Hola</p>",
    b"--b2--",
    b"--b1",
    b"Content-Type: application/vnd.oasis.opendocument.text; name=Carta.odt",
    b"Content-Disposition: attachment; filename=Carta.odt",
    b"Content-Transfer-Encoding: base64",
    b"",
    b"UEsDBAoAAAAAAA==",
    b"--b1--",
    b"",
])


def timed(function, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    big = big_message()
    deep = nested_message(100)
    model = build_model(big)
    print(f"25 MB message: {len(big) / 1e6:.1f} MB, {sum(1 for _ in model.walk())} nodes")
    print(f"  build_model            {timed(lambda: build_model(big), 5) * 1e3:8.1f} ms")
    print(f"  bodystructure          {timed(lambda: bodystructure(model), 5) * 1e3:8.1f} ms")
    print(f"100-deep nested message: {len(deep)} bytes")
    print(f"  build_model            {timed(lambda: build_model(deep), 5) * 1e3:8.1f} ms")
    typical_model = build_model(TYPICAL)
    print(f"typical message: {len(TYPICAL)} bytes, {sum(1 for _ in typical_model.walk())} nodes")
    print(f"  build_model            {timed(lambda: build_model(TYPICAL), 200) * 1e6:8.1f} us")
    print(f"  bodystructure          {timed(lambda: bodystructure(typical_model), 200) * 1e6:8.1f} us")
    print(f"  envelope               {timed(lambda: envelope(typical_model), 200) * 1e6:8.1f} us")


if __name__ == "__main__":
    main()
