"""Drive an engine and an observer with the same conversation and compare their events.

The engine is fed the client's bytes turn by turn; what it sends back after each turn
is the server's side. The observer hears both streams in that order. Compared, field
by field except the timestamp:

- client lines (consecutive message-text or literal blocks joined: an engine cuts them
  where its buffer ended, which a relay cannot see),
- the server's bytes, in runs of status lines and of message content (an engine batches
  FETCH responses into blocks and a socket cuts where it likes),
- replies, state changes (each in its own order: an engine may move before or after
  the reply that shows it; an observer only learns of a move from the reply),
- the connection's end.

Not compared, because only the server can know them: `Delivered` and `DeletionMarked`
(store facts), and the engine's notes (many read the store or the engine's settings);
the observer's own notes are tested on their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mailsim.clock import FixedClock, SequentialIds
from mailsim.events import ClientLine, Closed, Connected, Event, LineKind, Reply, ServerLine, StateChanged
from mailsim.protocol.base import Session
from mailsim.protocol.observer import DialogObserver
from mailsim.store.world import build_store

_JOINED = (LineKind.DATA.value, LineKind.LITERAL.value)


@dataclass
class Conversation:
    events: list[Event]
    turns: list[tuple[bytes, bytes]]  # (client bytes, server bytes answered to them)
    closed: bool


def drive_engine(engine: type[Session], client_turns: list[bytes], *, store: Any = None) -> Conversation:
    store = store or build_store(clock=FixedClock(1_790_000_000.0), ids=SequentialIds("Q"))
    session = engine(store, session_id="s", peer="console", config=None)
    session.config = type(session.config)(hostname=store.domain, auth_failure_delay=0)
    session.start()
    turns = [(b"", session.data_to_send())]
    for data in client_turns:
        session.receive_data(data)
        turns.append((data, session.data_to_send()))
    return Conversation(session.events(), turns, session.closed)


def drive_observer(observer: type[DialogObserver], conversation: Conversation) -> list[Event]:
    watcher = observer(session_id="s", peer="console", clock=FixedClock(1_790_000_000.0))
    watcher.start()
    for client, server in conversation.turns:
        watcher.client_data(client)
        watcher.server_data(server)
    if conversation.closed:
        watcher.server_eof()
    return watcher.events()


def comparable(events: list[Event]) -> dict[str, list[tuple]]:
    client: list[tuple] = []
    server: list[tuple] = []
    replies, states, ends = [], [], []
    for event in events:
        if isinstance(event, ClientLine):
            facts = (event.line_kind, event.verb, event.tag)
            if client and event.line_kind in _JOINED and client[-1][1:] == facts:
                client[-1] = (client[-1][0] + event.data, *facts)
            else:
                client.append((event.data, *facts))
        elif isinstance(event, ServerLine):
            if server and server[-1][1] == event.content:
                server[-1] = (server[-1][0] + event.data, event.content)
            else:
                server.append((event.data, event.content))
        elif isinstance(event, Reply):
            replies.append((event.code, event.reply_class, event.command, event.text, event.enhanced, event.tag, event.key))
        elif isinstance(event, StateChanged):
            states.append((event.old, event.new, event.command))
        elif isinstance(event, (Closed, Connected)):
            ends.append((event.kind, getattr(event, "reason", ""), getattr(event, "peer", "")))
    return {"client": client, "server": server, "replies": replies, "states": states, "ends": ends}


def assert_same(engine: type[Session], observer: type[DialogObserver], client_turns: list[bytes]) -> list[Event]:
    """Assert the observer says what the engine said; returns the observer's events."""
    conversation = drive_engine(engine, client_turns)
    seen = drive_observer(observer, conversation)
    expected, actual = comparable(conversation.events), comparable(seen)
    for part in expected:
        differing = [(n, e, a) for n, (e, a) in enumerate(zip(expected[part], actual[part])) if e != a]
        assert (part, len(actual[part]), differing[:1]) == (part, len(expected[part]), [])
    return seen


def observe_wire_events(observer: type[DialogObserver], events: list[Event], session_id: str) -> list[Event]:
    """Feed an observer one session's wire events in the order the engine produced them
    (a valid order for a relay: an engine answers only what it has read)."""
    first = next(e for e in events if isinstance(e, Connected) and e.session_id == session_id)
    watcher = observer(session_id=session_id, peer=first.peer, clock=FixedClock(1_790_000_000.0))
    watcher.start()
    for event in events:
        if event.session_id != session_id:
            continue
        if isinstance(event, ClientLine):
            watcher.client_data(event.data)
        elif isinstance(event, ServerLine):
            watcher.server_data(event.data)
        elif isinstance(event, Closed):
            watcher.server_eof()
    return watcher.events()


def assert_same_events(observer: type[DialogObserver], events: list[Event], session_id: str) -> list[Event]:
    seen = observe_wire_events(observer, events, session_id)
    expected = comparable([e for e in events if e.session_id == session_id])
    actual = comparable(seen)
    for part in expected:
        differing = [(n, e, a) for n, (e, a) in enumerate(zip(expected[part], actual[part])) if e != a]
        assert (part, len(actual[part]), differing[:1]) == (part, len(expected[part]), [])
    return seen
