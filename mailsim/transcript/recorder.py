"""Writes Bus events as JSON Lines, and reads them back.

File format (schema version 1): the first line is a header object
`{"mailsim_transcript": 1, "created": <ISO time>, ...}`; every following line is one
event as produced by `Event.to_record()`: `{"kind": ..., "session_id": ..., "timestamp":
..., <fields>}`. Byte fields are `{"text": "..."}` when valid UTF-8, else
`{"base64": "..."}`. See `mailsim/transcript/README.md` for every kind and field.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from mailsim.events import Event, RecordError, event_from_record

SCHEMA_VERSION = 1
HEADER_KEY = "mailsim_transcript"


class Recorder:
    """A Bus subscriber that appends each event to a JSON Lines stream."""

    def __init__(self, stream: IO[str], *, metadata: dict[str, Any] | None = None) -> None:
        self._stream = stream
        header = {HEADER_KEY: SCHEMA_VERSION, **(metadata or {})}
        self._write(header)

    @classmethod
    def to_file(cls, path: str | Path, **kwargs: Any) -> "Recorder":
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        return cls(path.open("w", encoding="utf-8"), **kwargs)

    def __call__(self, event: Event) -> None:
        self._write(event.to_record())

    def _write(self, obj: dict[str, Any]) -> None:
        self._stream.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n")
        self._stream.flush()

    def close(self) -> None:
        self._stream.close()


@dataclass(frozen=True)
class TranscriptError(Exception):
    """A transcript line that cannot be read, with its 1-based line number."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def read_transcript(path: str | Path) -> tuple[dict[str, Any], list[Event]]:
    """The header and the events of a JSON Lines transcript, or TranscriptError."""
    path = Path(path)
    with path.open(encoding="utf-8", errors="replace") as stream:
        lines = _numbered(stream)
        header = _read_header(str(path), lines)
        events = [_read_event(str(path), number, text) for number, text in lines]
    return header, events


def _numbered(stream: IO[str]) -> Iterator[tuple[int, str]]:
    for number, text in enumerate(stream, start=1):
        if text.strip():
            yield number, text


def _read_header(path: str, lines: Iterator[tuple[int, str]]) -> dict[str, Any]:
    try:
        number, text = next(lines)
    except StopIteration:
        raise TranscriptError(path, 1, "empty file: not a mailsim transcript") from None
    header = _parse_json(path, number, text)
    version = header.get(HEADER_KEY)
    if version is None:
        raise TranscriptError(path, number, f"first line lacks the {HEADER_KEY!r} header")
    if version != SCHEMA_VERSION:
        raise TranscriptError(path, number, f"schema version {version!r}, expected {SCHEMA_VERSION}")
    return header


def _read_event(path: str, number: int, text: str) -> Event:
    record = _parse_json(path, number, text)
    try:
        return event_from_record(record)
    except RecordError as exc:
        raise TranscriptError(path, number, str(exc)) from None


def _parse_json(path: str, number: int, text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TranscriptError(path, number, f"not valid JSON ({exc.msg}, column {exc.colno})") from None
    if not isinstance(value, dict):
        raise TranscriptError(path, number, "a line must be a JSON object")
    return value
