"""Events, the Bus and the JSON Lines recorder."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from mailsim.events import ClientLine, Note, Protocol, Reply, ReplyClass, RecordError, event_from_record
from mailsim.transcript.bus import Bus
from mailsim.transcript.recorder import SCHEMA_VERSION, Recorder, TranscriptError, read_transcript
from mailsim.transcript.wirelog import WireLog


def test_events_are_frozen_and_validated() -> None:
    event = ClientLine("s1", 1.0, Protocol.SMTP, b"NOOP\r\n")
    with pytest.raises(AttributeError):
        event.data = b"x"  # type: ignore[misc]
    with pytest.raises(ValueError):
        ClientLine("", 1.0, Protocol.SMTP, b"x")
    with pytest.raises(ValueError):
        Reply("s1", 1.0, Protocol.SMTP, "", ReplyClass.SUCCESS, "NOOP", "Ok")


def test_reply_classes_of_smtp_codes() -> None:
    assert [ReplyClass.of_smtp(c) for c in (250, 354, 421, 550)] == [
        ReplyClass.SUCCESS, ReplyClass.INTERMEDIATE, ReplyClass.TRANSIENT, ReplyClass.PERMANENT
    ]
    with pytest.raises(ValueError):
        ReplyClass.of_smtp(150)


def test_non_utf8_bytes_round_trip_as_base64() -> None:
    event = ClientLine("s1", 1.0, Protocol.SMTP, b"\xff\xfe\r\n")
    record = event.to_record()
    assert record["data"] == {"base64": "//4NCg=="}
    assert event_from_record(json.loads(json.dumps(record))) == event


@pytest.mark.parametrize(
    "record",
    [
        {"kind": "nope", "session_id": "s", "timestamp": 1},
        {"kind": "client", "session_id": "s", "timestamp": 1, "protocol": "smtp"},
        {"kind": "client", "session_id": "s", "timestamp": 1, "protocol": "gopher", "data": {"text": "x"}},
        {"kind": "client", "session_id": "s", "timestamp": 1, "protocol": "smtp", "data": "plain"},
        [1, 2],
    ],
)
def test_malformed_records_raise_record_error(record) -> None:
    with pytest.raises(RecordError):
        event_from_record(record)


def test_bus_delivers_in_order_and_survives_a_broken_subscriber() -> None:
    bus = Bus()
    seen = []

    def broken(event):
        raise RuntimeError("boom")

    bus.subscribe(broken)
    unsubscribe = bus.subscribe(seen.append)
    events = [Note("s", float(i), Protocol.SMTP, "k") for i in range(3)]
    bus.publish_all(events)
    unsubscribe()
    bus.publish(Note("s", 9.0, Protocol.SMTP, "k"))
    assert seen == events


def test_recorder_writes_header_and_events(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    recorder = Recorder.to_file(path, metadata={"source": "test"})
    events = [
        ClientLine("s1", 1.5, Protocol.SMTP, b"EHLO x\r\n"),
        Reply("s1", 1.6, Protocol.SMTP, "250", ReplyClass.SUCCESS, "EHLO", "hi", key="ehlo"),
        Note("s1", 1.7, Protocol.SMTP, "smtp.relay-denied", (("address", "x@y.example"),)),
    ]
    for event in events:
        recorder(event)
    recorder.close()
    first = json.loads(path.read_text().splitlines()[0])
    assert first == {"mailsim_transcript": SCHEMA_VERSION, "source": "test"}
    header, loaded = read_transcript(path)
    assert header["source"] == "test"
    assert loaded == events


def test_corrupt_transcripts_report_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"mailsim_transcript": 1}\n{"kind": "client", "session_id": "s", "timestamp": 1, '
                    '"protocol": "smtp", "data": {"text": "x"}}\n{not json\n')
    with pytest.raises(TranscriptError) as error:
        read_transcript(path)
    assert str(error.value).startswith(f"{path}:3: not valid JSON")
    path.write_text('{"kind": "client"}\n')
    with pytest.raises(TranscriptError) as error:
        read_transcript(path)
    assert ":1: first line lacks" in str(error.value)
    path.write_text("")
    with pytest.raises(TranscriptError):
        read_transcript(path)


def test_wire_log_lines() -> None:
    stream = io.StringIO()
    log = WireLog(stream)
    log(ClientLine("tcp-smtp-1", 0.0, Protocol.SMTP, b"EHLO x\r\n"))
    log(ClientLine("tcp-smtp-1", 0.0, Protocol.SMTP, b"\x00junk\r\n"))
    lines = stream.getvalue().splitlines()
    assert lines[0].endswith("tcp-smtp-1 C: EHLO x")
    assert lines[1].endswith("C: \\x00junk")
