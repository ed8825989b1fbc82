"""What an engine's transition table says, in the shapes the views need.

Each engine module keeps one `TRANSITIONS` table, `(state, verb) -> next state`
(h11's idea: the table is the truth). The suggestions, the state diagram and the input
modes are all read from it here, so a new engine appears correctly with no UI change.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from mailsim.protocol.base import CommandInfo, Session

# Pseudo-verbs (in angle brackets) name input that is not a command. These ones mean
# "the client is now sending a body, line by line", so the input becomes multi-line.
MULTILINE_INPUT = frozenset({"<end of data>"})


def transitions_of(engine: type[Session] | None) -> Mapping[tuple[Any, str], Any]:
    """The engine's table (every engine class carries its module's `TRANSITIONS`)."""
    return engine.TRANSITIONS if engine is not None else {}


def state_name(state: Any) -> str:
    return str(state.value) if isinstance(state, enum.Enum) else str(state)


def states_of(engine: type[Session] | None) -> list[str]:
    """Every state, in the enum's order (that order reads as the session's flow)."""
    if engine is None:
        return []
    initial = getattr(engine, "initial_state", None)
    if isinstance(initial, enum.Enum):
        return [state_name(s) for s in type(initial)]
    seen: dict[str, None] = {}
    for source, _verb in transitions_of(engine):
        seen.setdefault(state_name(source))
    return list(seen)


def initial_state(engine: type[Session] | None) -> str:
    initial = getattr(engine, "initial_state", None) if engine is not None else None
    return state_name(initial) if initial is not None else ""


def is_pseudo(verb: str) -> bool:
    return verb.startswith("<")


def valid_verbs(engine: type[Session] | None, state: str) -> list[str]:
    """The verbs the table allows in `state`, pseudo-verbs included, in table order."""
    return list(_verbs_by_state(engine).get(state, ()))


@cache
def _verbs_by_state(engine: type[Session] | None) -> dict[str, tuple[str, ...]]:
    # Asked on every line of a session; the tables never change at run time.
    grouped: dict[str, dict[str, None]] = {}
    for source, verb in transitions_of(engine):
        grouped.setdefault(state_name(source), {})[verb] = None
    return {state: tuple(verbs) for state, verbs in grouped.items()}


def valid_verbs_all(engine: type[Session] | None) -> list[str]:
    """Every verb of the table, in table order."""
    return list(dict.fromkeys(verb for _source, verb in transitions_of(engine)))


def commands_now(engine: type[Session] | None, state: str) -> list[CommandInfo]:
    """The real commands valid in `state`, with their syntax and RFC section."""
    if engine is None:
        return []
    return [engine.COMMANDS[verb] for verb in valid_verbs(engine, state) if verb in engine.COMMANDS]


@cache
def verbs_now(engine: type[Session] | None, state: str) -> tuple[str, ...]:
    """What can be typed in `state`, the lines that are not commands too (IMAP's DONE),
    most particular to the state first: in IMAP's selected state FETCH, STORE and
    SEARCH come before CAPABILITY or LOGOUT, which every state allows."""
    by_state = _verbs_by_state(engine)
    reach = {verb: sum(verb in verbs for verbs in by_state.values()) for verbs in by_state.values() for verb in verbs}
    verbs = [verb for verb in by_state.get(state, ()) if not is_pseudo(verb)]
    return tuple(sorted(verbs, key=lambda verb: reach[verb]))  # stable: table order within a rank


@cache
def is_multiline(engine: type[Session] | None, state: str) -> bool:
    # Asked for every client line the model takes in: cached like the verbs.
    return any(verb in MULTILINE_INPUT for verb in _verbs_by_state(engine).get(state, ()))


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    verbs: tuple[str, ...]

    @property
    def loops(self) -> bool:
        return self.source == self.target


def edges_of(engine: type[Session] | None) -> list[Edge]:
    """The table grouped into arrows: one per (source, target), with every verb on it."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for (source, verb), target in transitions_of(engine).items():
        targets = target if isinstance(target, (set, frozenset, tuple, list)) else (target,)
        for each in targets:
            key = (state_name(source), state_name(each) if each is not None else state_name(source))
            verbs = grouped.setdefault(key, [])
            if verb not in verbs:
                verbs.append(verb)
    return [Edge(source, target, tuple(verbs)) for (source, target), verbs in grouped.items()]


def syntax_stub(info: CommandInfo) -> str:
    """What to type before the first argument: `MAIL FROM:<reverse-path>` -> `MAIL FROM:<`."""
    syntax = info.syntax
    cut = min((i for i in (syntax.find("<"), syntax.find("[")) if i >= 0), default=len(syntax))
    stub = syntax[:cut]
    if stub.endswith(":") and cut < len(syntax) and syntax[cut] == "<":
        stub += "<"
    if not stub.strip():
        return info.verb + " "
    return stub if stub.endswith(("<", " ")) else stub.rstrip() + (" " if cut < len(syntax) else "")


COMMON_MIN_STATES = 3


def common_verbs(engine: type[Session] | None) -> tuple[set[str], set[str]]:
    """Verbs the diagram states once instead of on every row.

    (loops, exits): verbs that leave the state unchanged wherever they are valid, and
    verbs that lead to the same final state (one with no way out) from everywhere,
    each valid in at least COMMON_MIN_STATES states (NOOP, HELP; QUIT).
    """
    edges = edges_of(engine)
    sources = {e.source for e in edges}
    finals = {e.target for e in edges} - sources
    by_verb: dict[str, list[Edge]] = {}
    for edge in edges:
        for verb in edge.verbs:
            by_verb.setdefault(verb, []).append(edge)
    loops, exits = set(), set()
    for verb, its in by_verb.items():
        if len({e.source for e in its}) < COMMON_MIN_STATES:
            continue
        if all(e.loops for e in its):
            loops.add(verb)
        elif len({e.target for e in its}) == 1 and its[0].target in finals:
            exits.add(verb)
    return loops, exits


@dataclass(frozen=True)
class Layout:
    """How the state diagram is laid out, decided from the table alone.

    `path` is the session's main line: the longest chain of commands from the initial
    state. A client line that is not a command (an AUTH response) does not move the
    session along that line, and a state entered only to come back with nothing done
    in it (IDLE, an AUTH exchange) is a `detour`, drawn beside each state it is
    entered from. Other states off the path are `side` states. `edges` are the arrows
    left once the verbs valid almost everywhere are set apart: `anywhere_loops`, and
    `anywhere_exits` (target state, verbs), drawn once for the whole diagram.
    """

    states: tuple[str, ...]
    path: tuple[str, ...]
    detours: frozenset[str]
    side: tuple[str, ...]
    edges: tuple[Edge, ...]
    anywhere_loops: tuple[str, ...]
    anywhere_exits: tuple[tuple[str, tuple[str, ...]], ...]


@cache
def layout_of(engine: type[Session] | None) -> Layout:
    states = states_of(engine)
    loops, exits = common_verbs(engine)
    order = {state: index for index, state in enumerate(states)}
    edges: list[Edge] = []
    exit_groups: dict[str, list[str]] = {}
    for edge in edges_of(engine):
        for verb in edge.verbs:
            if verb in exits:
                exit_groups.setdefault(edge.target, [])
                if verb not in exit_groups[edge.target]:
                    exit_groups[edge.target].append(verb)
        verbs = tuple(v for v in edge.verbs if v not in loops and v not in exits)
        if verbs:
            edges.append(Edge(edge.source, edge.target, verbs))
    successors: dict[str, set[str]] = {}
    predecessors: dict[str, set[str]] = {}
    looping = {e.source for e in edges if e.loops}
    for edge in edges:
        if not edge.loops:
            successors.setdefault(edge.source, set()).add(edge.target)
            predecessors.setdefault(edge.target, set()).add(edge.source)
    initial = initial_state(engine) or (states[0] if states else "")
    detours = frozenset(
        s for s in states
        if s != initial and s not in looping and successors.get(s) and successors[s] <= predecessors.get(s, set())
    )
    forward: dict[str, list[str]] = {}
    for edge in edges:
        if edge.loops or edge.source in detours or edge.target in detours:
            continue
        if all(is_pseudo(v) for v in edge.verbs):
            continue  # a line that finishes an exchange, not a step of the session
        forward.setdefault(edge.source, []).append(edge.target)
    for targets in forward.values():
        targets.sort(key=lambda s: order.get(s, len(order)))
    path = _longest_path(initial, forward) if initial else []
    on_path = set(path)
    side = tuple(s for s in states if s not in on_path and s not in detours)
    all_verbs = valid_verbs_all(engine)
    return Layout(
        states=tuple(states),
        path=tuple(path),
        detours=detours,
        side=side,
        edges=tuple(edges),
        anywhere_loops=tuple(v for v in all_verbs if v in loops),
        anywhere_exits=tuple((target, tuple(verbs)) for target, verbs in exit_groups.items()),
    )


def _longest_path(start: str, forward: Mapping[str, list[str]]) -> list[str]:
    """The longest simple path from `start` (tables are small: an exhaustive walk)."""
    best = [start]
    path = [start]

    def walk() -> None:
        nonlocal best
        if len(path) > len(best):
            best = list(path)
        for target in forward.get(path[-1], ()):
            if target not in path:
                path.append(target)
                walk()
                path.pop()

    walk()
    return best
