"""The path of a message read from its Received: lines (RFC 5321 §4.4), row by row."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from mailsim.mime.trace import message_path, parse_received, return_path

RAW = (
    b"Return-Path: <alice@mailsim.test>\r\n"
    b"Received: from mailsim.test (192.0.2.10)\r\n"
    b"\tby mx.ejemplo.test (mailsim) with ESMTP id R0001\r\n"
    b"\tfor <carmen@ejemplo.test>; Mon, 21 Sep 2026 14:16:20 +0000\r\n"
    b"Received: from pc-alice.example (198.51.100.7)\r\n"
    b"\tby mailsim.test (mailsim) with ESMTPA id Q0002\r\n"
    b"\tfor <carmen@ejemplo.test>; Mon, 21 Sep 2026 14:13:20 +0000\r\n"
    b"Subject: x\r\n\r\nbody\r\n"
)


def test_hops_in_path_order_with_the_delay_between_them() -> None:
    first, second = message_path(RAW)
    assert (first.number, first.from_host, first.from_detail, first.by_host, first.with_protocol, first.queue_id) == (
        1, "pc-alice.example", "198.51.100.7", "mailsim.test", "ESMTPA", "Q0002")
    assert first.recipient == "carmen@ejemplo.test" and first.delay is None
    assert first.date == datetime(2026, 9, 21, 14, 13, 20, tzinfo=timezone.utc)
    assert (second.by_host, second.queue_id, second.delay) == ("mx.ejemplo.test", "R0001", 180.0)
    assert return_path(RAW) == "alice@mailsim.test"


@pytest.mark.parametrize(
    ("value", "fields"),
    [
        ("by mailsim.test (mailsim) id Q1B;\r\n\tMon, 21 Sep 2026 14:13:20 +0000", ("", "mailsim.test", "", "Q1B")),
        ("from [203.0.113.5] (helo=x) by mx.example with esmtps id 1abc-02", ("[203.0.113.5]", "mx.example", "esmtps", "1abc-02")),
        ("from a.example by b.example; not a date", ("a.example", "b.example", "", "")),
    ],
)
def test_received_lines_as_other_servers_write_them(value: str, fields: tuple[str, ...]) -> None:
    hop = parse_received(value)
    assert (hop.from_host, hop.by_host, hop.with_protocol, hop.queue_id) == fields


def test_a_message_nobody_relayed_has_no_path_and_a_bounce_has_the_null_sender() -> None:
    assert message_path(b"Subject: x\r\n\r\nbody\r\n") == []
    assert return_path(b"Return-Path: <>\r\nSubject: x\r\n\r\n") == ""
    assert return_path(b"Subject: x\r\n\r\n") is None
