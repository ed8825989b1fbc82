"""The state diagram drawn from each engine's table: every state, every arrow where it
belongs (followed on the drawn rows, lanes included), the current state and the last
transition marked."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from mailsim.protocol.imap.session import ImapSession
from mailsim.protocol.pop3 import Pop3Session
from mailsim.protocol.smtp import SmtpSession
from mailsim.ui import machine
from mailsim.ui.widgets.state_panel import (
    CURRENT, LAST, NODE, draw_anywhere, draw_compact, draw_diagram, plain,
)

ENGINES = [SmtpSession, Pop3Session, ImapSession]
WIDTH = 50  # the sidebar's inner width at 120x40


def _columns(row):
    column = 0
    for piece in row:
        yield column, piece
        column += len(piece.text)


def _node_rows(rows):
    return {number: row[0].state for number, row in enumerate(rows) if row and row[0].role in (NODE, CURRENT)}


def _owner(rows, number):
    """The path node a row hangs under: the nearest node row at or above it."""
    nodes = _node_rows(rows)
    return nodes[max(n for n in nodes if n <= number)]


def _lane_end(rows, number):
    """Follow the lane the row joins to the row where it ends in ◀; that row's node."""
    lines = plain(rows)
    # The row's own corner: the last one on it (an outer lane may pass further right).
    column = max(lines[number].rfind(corner) for corner in "┐┘┤")
    assert column >= 0, lines[number]
    for step in (-1, 1):
        other = number
        while True:
            other += step
            if not 0 <= other < len(lines) or column >= len(lines[other]):
                break
            glyph = lines[other][column]
            if glyph not in "│┤┐┘┼":
                break
            if "◀" in lines[other] and glyph in "┐┘┤":
                return rows[other][0].state
            if glyph in "┐┘":
                break
    raise AssertionError(f"lane from row {number} ends nowhere:\n" + "\n".join(lines))


def _names(text, verb):
    return f" {verb} " in f" {' '.join(text.replace('↺', '').split())} "


def _where_drawn(rows, anywhere, source, verb, target):
    """Where (source --verb--> target) is on the drawing, checked against its geometry."""
    for column, piece in _columns(anywhere):
        if _names(piece.text, verb):
            if source == target:
                return "anywhere loop"
            following = [p for c, p in _columns(anywhere) if c > column]
            if following[1].state == target:
                return "anywhere exit"
    for number, row in enumerate(rows):
        pieces = list(_columns(row))
        for index, (column, piece) in enumerate(pieces):
            if piece.edge != (source, target) or not _names(piece.text, verb):
                continue
            before = [p for _c, p in pieces[:index]]
            after = [p for _c, p in pieces[index + 1:]]
            if source == target:
                assert _owner(rows, number) == source
                return "loop"
            if before and before[0].text.strip() == "▼":
                nodes = _node_rows(rows)
                assert nodes[max(n for n in nodes if n < number)] == source
                assert nodes[min(n for n in nodes if n > number)] == target
                return "path"
            if after and after[0].text == "→":
                assert after[1].state == target and _owner(rows, number) == source
                return "branch"
            if after and after[0].text == "↩":
                assert before[-2].state == source and _owner(rows, number) == target
                return "return"
            side = next((p.state for p in reversed(before) if p.state), None)
            assert (side or _owner(rows, number)) == source
            assert _lane_end(rows, number) == target
            return "lane"
    return None


@pytest.mark.parametrize("engine", ENGINES, ids=lambda e: e.protocol.value)
def test_every_state_and_every_arrow_of_the_table_is_drawn(engine):
    layout = machine.layout_of(engine)
    current = machine.initial_state(engine)
    rows = draw_diagram(layout, current, None, WIDTH)
    anywhere = draw_anywhere(layout, current, None, "In any state:")
    drawn_states = {p.state for row in rows + [anywhere] for p in row if p.state}
    assert drawn_states == set(machine.states_of(engine))
    missing = []
    for (source, verb), targets in machine.transitions_of(engine).items():
        for target in targets if isinstance(targets, tuple) else (targets,):
            where = _where_drawn(rows, anywhere, machine.state_name(source), verb, machine.state_name(target))
            if where is None:
                missing.append((machine.state_name(source), verb, machine.state_name(target)))
    assert not missing, "\n".join(plain(rows)) + f"\nnot drawn: {missing}"
    assert all(len(line) <= WIDTH for line in plain(rows)), "\n".join(plain(rows))


@pytest.mark.parametrize("engine", ENGINES, ids=lambda e: e.protocol.value)
def test_the_current_state_and_only_it_is_marked(engine):
    layout = machine.layout_of(engine)
    for state in machine.states_of(engine):
        rows = draw_diagram(layout, state, None, WIDTH) + [draw_anywhere(layout, state, None, "")]
        marked = {p.state for row in rows for p in row if p.role == CURRENT}
        assert marked == {state}
        compact = draw_compact(layout, state, None, 30)
        assert {p.state for row in compact for p in row if p.role == CURRENT} == {state}
        assert all(len(line) <= 30 for line in plain(compact))


@pytest.mark.parametrize("engine", ENGINES, ids=lambda e: e.protocol.value)
def test_the_last_transition_is_highlighted(engine):
    layout = machine.layout_of(engine)
    for edge in layout.edges:
        last = SimpleNamespace(old=edge.source, new=edge.target, command=edge.verbs[0])
        rows = draw_diagram(layout, edge.target, last, WIDTH)
        highlighted = {p.edge for row in rows for p in row if p.role == LAST and p.edge}
        assert highlighted == {(edge.source, edge.target)}, "\n".join(plain(rows))


def test_the_main_paths_read_as_the_protocols_do():
    assert machine.layout_of(SmtpSession).path == ("connected", "greeted", "mail", "rcpt", "data")
    assert machine.layout_of(Pop3Session).path == ("authorization", "transaction", "update")
    imap = machine.layout_of(ImapSession)
    assert imap.path == ("not authenticated", "authenticated", "selected")
    assert imap.detours == {"idle"}
    assert machine.layout_of(SmtpSession).anywhere_exits == (("closed", ("QUIT",)),)
