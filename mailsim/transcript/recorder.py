"""Writes Bus events as JSON Lines, and reads them back.

File format (schema version 1): the first line is a header object
`{"mailsim_transcript": 1, "created": <ISO time>, ...}`; every following line is one
event as produced by `Event.to_record()`: `{"kind": ..., "session_id": ..., "timestamp":
..., <fields>}`. Byte fields are `{"text": "..."}` when valid UTF-8, else
`{"base64": "..."}`. See `mailsim/transcript/README.md` for every kind and field.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from mailsim.events import Event, RecordError, event_from_record
from mailsim.private import open_private

if TYPE_CHECKING:
    from mailsim.protocol.base import SessionConfig
    from mailsim.store.store import MailStore
    from mailsim.transcript.bus import Bus
    from mailsim.transcript.secrets import SecretStandIns

SCHEMA_VERSION = 1
HEADER_KEY = "mailsim_transcript"


class Recorder:
    """A Bus subscriber that appends each event to a JSON Lines stream; with
    `secrets`, passwords are replaced by their stand-ins (`transcript/secrets.py`)."""

    def __init__(
        self,
        stream: IO[str],
        *,
        metadata: dict[str, Any] | None = None,
        secrets: "SecretStandIns | None" = None,
    ) -> None:
        self._stream = stream
        self._secrets = secrets
        header = {HEADER_KEY: SCHEMA_VERSION, **(metadata or {})}
        self._write(header)

    @classmethod
    def to_file(cls, path: str | Path, **kwargs: Any) -> "Recorder":
        return cls(open_private(path), **kwargs)  # 0600: it holds what students typed

    def __call__(self, event: Event) -> None:
        if self._secrets is not None:
            event = self._secrets.event(event)
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
    header, numbered = read_numbered(path)
    return header, [event for _, event in numbered]


def read_numbered(
    path: str | Path, *, progress: Callable[[float], None] | None = None
) -> tuple[dict[str, Any], list[tuple[int, Event]]]:
    """The header and `(line number, event)` pairs; `progress` hears the fraction read."""
    path = Path(path)
    try:
        total = path.stat().st_size or 1
        stream = path.open(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise TranscriptError(str(path), 0, f"cannot read: {exc.strerror}") from None
    with stream:
        lines = _numbered(stream)
        header = _read_header(str(path), lines)
        events = []
        done = 0
        for number, text in lines:
            events.append((number, _read_event(str(path), number, text)))
            done += len(text)
            if progress is not None and number % 5000 == 0:
                progress(min(done / total, 1.0))
    if progress is not None:
        progress(1.0)
    return header, events


def is_transcript_text(first_line: str) -> bool:
    """Whether a file's first line is a JSON Lines transcript header."""
    return first_line.lstrip().startswith("{") and HEADER_KEY in first_line


def _numbered(stream: IO[str]) -> Iterator[tuple[int, str]]:
    for number, text in enumerate(stream, start=1):
        if text.strip():
            yield number, text


# -- recording what the app and `mailsim serve` do ----------------------------------------


def recordings_dir() -> Path:
    """Where the app keeps its recordings: `<user data dir>/mailsim/recordings`."""
    import platformdirs

    return Path(platformdirs.user_data_dir("mailsim")) / "recordings"


class Recording:
    """A Recorder attached to a Bus, with the starting world in its header."""

    def __init__(self, path: Path, recorder: Recorder, unsubscribe: Callable[[], None]) -> None:
        self.path = path
        self._recorder = recorder
        self._unsubscribe = unsubscribe

    def stop(self) -> None:
        self._unsubscribe()
        self._recorder.close()


def start_recording(
    store: "MailStore",
    bus: "Bus",
    path: str | Path | None = None,
    *,
    source: str = "app",
    config: "SessionConfig | None" = None,
    metadata: dict[str, Any] | None = None,
) -> Recording:
    """Record every event on `bus` into `path` (default: a new file named by the time in
    `recordings_dir()`), with what a replay needs to rebuild `store` as it is now.

    Call it before any session opens: the store's id generator may be replaced by a
    reproducible one.
    """
    from datetime import datetime, timezone

    from mailsim.transcript.secrets import SecretStandIns
    from mailsim.transcript.snapshot import starting_point

    created = datetime.now(timezone.utc)
    if path is None:
        path = recordings_dir() / f"{created.strftime('%Y%m%d-%H%M%S')}.jsonl"
        number = 1
        while path.exists():
            number += 1
            path = path.with_name(f"{created.strftime('%Y%m%d-%H%M%S')}-{number}.jsonl")
    header = {
        "source": source,
        "created": created.isoformat(timespec="seconds"),
        **(metadata or {}),
    }
    secrets = SecretStandIns(store)
    header["start"] = starting_point(store, config, passwords=secrets.passwords)
    recorder = Recorder.to_file(path, metadata=header, secrets=secrets)
    return Recording(Path(path), recorder, bus.subscribe(recorder))


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
        if not text.endswith("\n"):
            raise TranscriptError(path, number, "the last line is cut short: the recording was truncated") from None
        raise TranscriptError(path, number, f"not valid JSON ({exc.msg}, column {exc.colno})") from None
    if not isinstance(value, dict):
        raise TranscriptError(path, number, "a line must be a JSON object")
    return value
