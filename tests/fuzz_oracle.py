"""What the engines' hypothesis tests share: mutated command lines, and the fuzz
oracle. A handler bug is caught and answered with the protocol's "local error" reply
so the session lives on — which a later NOOP OK would hide — so any reply keyed
`server-bug` fails the test."""

from __future__ import annotations

from collections.abc import Iterable

from hypothesis import strategies as st

from mailsim.events import Event, Reply


def mutate(base: bytes, edits: Iterable[tuple[int, bytes]]) -> bytes:
    """`base` with each word inserted at its position (clamped to the end)."""
    line = bytearray(base)
    for position, word in edits:
        position = min(position, len(line))
        line[position:position] = word
    return bytes(line)


def dialogs(valid: list[bytes], words: list[bytes], *, reach: int = 80, max_lines: int = 8) -> st.SearchStrategy:
    """Lists of command lines: valid ones with up to three words inserted, CRLF-ended."""
    edits = st.lists(st.tuples(st.integers(0, reach), st.sampled_from(words)), max_size=3)
    line = st.builds(lambda base, e: mutate(base, e) + b"\r\n", st.sampled_from(valid), edits)
    return st.lists(line, min_size=1, max_size=max_lines).map(b"".join)


def server_bugs(events: Iterable[Event]) -> list[Reply]:
    return [event for event in events if isinstance(event, Reply) and event.key == "server-bug"]


def assert_no_server_bug(events: Iterable[Event], sent: bytes) -> None:
    bugs = server_bugs(events)
    assert not bugs, f"a handler failed on {sent!r}: {bugs[0].text} (see the log for the traceback)"
