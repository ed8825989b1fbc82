"""The state machine of the session's protocol, drawn as a diagram from the engine's table.

Nothing is drawn by hand per protocol: `machine.layout_of(engine)` orders the states
along the session's main path, and `draw_diagram` turns that into rows of text. Each
state is a framed node `[ name ]`; the main path runs down the left (`▼ VERBS` between
nodes); loops are `↺ VERBS` under a node; an arrow that goes back (or skips ahead)
leaves its node as `VERBS ──┤` into a lane on the right that ends at `◀──┐` beside
its target; a detour (an AUTH exchange, IDLE) hangs off each node it is entered from
as `├─VERB→[ detour ]─VERB↩`. Verbs valid in every state are one line below. On small
terminals (`compact`) only the main path is drawn, wrapped: `[connected]─EHLO/HELO→…`.

The current state and the arrow of the last transition are highlighted; below, the
transition and the command that caused it, and for SMTP the mail transaction so far.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.style import Style
from rich.text import Text
from textual.widgets import Static

from mailsim.protocol.explain import Explainer
from mailsim.ui import machine
from mailsim.ui.model import SessionModel
from mailsim.ui.strings import Strings

# A drawn piece's role names its component class: `state-panel--<role>`.
NODE, CURRENT, VERB, LAST, LOOP, EDGE, LABEL, VALUE = (
    "node", "current", "verb", "arrow-last", "loop", "edge", "label", "value")
NARROWEST = 24  # below this the diagram is drawn as if it had this many columns


@dataclass(frozen=True)
class Piece:
    """A run of text in the diagram, what it stands for, and how it is styled."""

    text: str
    role: str
    state: str = ""                        # a node: the state it draws
    edge: tuple[str, str] | None = None    # an arrow's label: (source, target)


Row = list[Piece]


def _width(row: Row) -> int:
    return sum(len(p.text) for p in row)


def _node(state: str, current: str, compact: bool = False) -> Piece:
    text = f"[{state}]" if compact else f"[ {state} ]"
    return Piece(text, CURRENT if state == current else NODE, state=state)


def _is_last(last: Any, source: str, target: str) -> bool:
    return last is not None and last.old == source and last.new == target


def _label(edge: machine.Edge, last: Any, joiner: str = " ") -> Piece:
    role = LAST if _is_last(last, edge.source, edge.target) else VERB
    return Piece(joiner.join(edge.verbs), role, edge=(edge.source, edge.target))


def _wrap_words(words: list[str], first: int, rest: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in words:
        room = first if not lines else rest
        if line and len(line) + 1 + len(word) > room:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    return lines


@dataclass
class _Line:
    pieces: Row
    lane: str | None = None      # the target whose lane this row joins
    arrives: bool = False        # the row of the lane's target (◀)
    role: str = EDGE             # the joining line's style


def draw_diagram(layout: machine.Layout, current: str, last: Any, width: int) -> list[Row]:
    """The full diagram in rows `width` columns wide (lanes on the right)."""
    width = max(width, NARROWEST)
    path = layout.path
    on_path = set(path)
    step = {(path[i], path[i + 1]) for i in range(len(path) - 1)}
    edges = [e for e in layout.edges if not e.loops]
    loops = {e.source: e for e in layout.edges if e.loops}
    hosted_side: dict[str, str] = {}   # side state -> the path node its row hangs under
    for edge in edges:
        if edge.source in on_path and edge.target in layout.side:
            hosted_side.setdefault(edge.target, edge.source)
    lane_edges = [e for e in edges if (e.source, e.target) not in step and e.target in on_path
                  and (e.source in on_path or hosted_side.get(e.source))]
    lane_targets = list(dict.fromkeys(e.target for e in lane_edges))
    base = width - 2 * len(lane_targets)
    drawn: set[tuple[str, str]] = set(step)

    lines: list[_Line] = []
    for index, state in enumerate(path):
        final = index == len(path) - 1
        arrives = state in lane_targets
        head = _Line([_node(state, current)], lane=state if arrives else None, arrives=arrives)
        lines.append(head)
        under: list[tuple[str, _Line]] = []   # (kind, line): kind "loop" or "branch"
        loop = loops.get(state)
        outs = [e for e in lane_edges if e.source == state]
        if loop is not None:
            drawn.add((state, state))
            role = LAST if _is_last(last, state, state) else LOOP
            text = "↺ " + " ".join(loop.verbs)
            if not arrives and _width(head.pieces) + 1 + len(text) < base - 4:
                head.pieces += [Piece(" ", EDGE), Piece(text, role, edge=(state, state))]
            else:
                wrapped = _wrap_words(["↺", *loop.verbs], base - 5, base - 7)
                for number, part in enumerate(wrapped):
                    piece = Piece(part if number == 0 else "  " + part, role, edge=(state, state))
                    under.append(("loop", _Line([piece])))
        for edge in outs:
            drawn.add((edge.source, edge.target))
            label = _label(edge, last)
            if head.lane is None and _width(head.pieces) + len(label.text) + 4 < base:
                head.pieces += [Piece("  " if len(head.pieces) > 1 else " ", EDGE), label]
                head.lane, head.role = edge.target, label.role
            else:
                under.append(("branch", _Line([label], lane=edge.target, role=label.role)))
        for edge in edges:
            if edge.source != state:
                continue
            if edge.target in layout.detours:
                detour = edge.target
                back = next((e for e in edges if e.source == detour and e.target == state), None)
                row = [_label(edge, last), Piece("→", EDGE), _node(detour, current)]
                drawn.add((state, detour))
                if back is not None:
                    drawn.add((detour, state))
                    row += [Piece("─", EDGE), _label(back, last), Piece("↩", EDGE)]
                under.append(("branch", _Line(row)))
            elif edge.target in layout.side:
                drawn.add((state, edge.target))
                row = [_label(edge, last), Piece("→", EDGE), _node(edge.target, current)]
                line = _Line(row)
                under.append(("branch", line))
                if hosted_side.get(edge.target) == state:
                    for number, away in enumerate(e for e in lane_edges if e.source == edge.target):
                        drawn.add((away.source, away.target))
                        label = _label(away, last)
                        if number == 0:
                            line.pieces += [Piece(" ", EDGE), label]
                            line.lane, line.role = away.target, label.role
                        else:
                            under.append(("branch", _Line([Piece(" " * (_width(row) - 2), EDGE), label],
                                                          lane=away.target, role=label.role)))
        last_branch = max((i for i, (kind, _) in enumerate(under) if kind == "branch"), default=-1)
        for number, (kind, line) in enumerate(under):
            if kind == "loop":
                trunk = "  │ " if not final or number < last_branch else "    "
            else:
                trunk = "  ╰─" if final and number == last_branch else "  ├─"
            line.pieces.insert(0, Piece(trunk, EDGE))
            lines.append(line)
        if not final:
            following = next((e for e in edges if e.source == state and e.target == path[index + 1]), None)
            arrow = [Piece("  ▼ ", LAST if _is_last(last, state, path[index + 1]) else EDGE)]
            if following is not None:
                arrow.append(_label(following, last))
            lines.append(_Line(arrow))
    # Whatever the path and its branches did not draw: one row per arrow, named ends.
    for edge in edges:
        if (edge.source, edge.target) in drawn:
            continue
        drawn.add((edge.source, edge.target))
        lines.append(_Line([_node(edge.source, current), Piece(" ─", EDGE), _label(edge, last),
                            Piece("→ ", EDGE), _node(edge.target, current)]))
    shown = {p.state for line in lines for p in line.pieces if p.state}
    for state in layout.states:
        if state not in shown and state not in {t for t, _ in layout.anywhere_exits}:
            lines.append(_Line([_node(state, current)]))
    return _join_lanes(lines, lane_targets, width)


def _join_lanes(lines: list[_Line], lane_targets: list[str], width: int) -> list[Row]:
    """Pad each row to the lanes and draw them: `─┤` where an arrow joins, `◀─┐` at its end."""
    spans: dict[str, tuple[int, int]] = {}
    for number, line in enumerate(lines):
        if line.lane in lane_targets:
            low, high = spans.get(line.lane, (number, number))
            spans[line.lane] = (min(low, number), max(high, number))
    # Short spans nearest the diagram, so long ones cross as few lines as possible.
    order = sorted((t for t in lane_targets if t in spans), key=lambda t: spans[t][1] - spans[t][0])
    base = width - 2 * len(order)
    rows: list[Row] = []
    for number, line in enumerate(lines):
        row = list(line.pieces)
        active = [spans[t][0] <= number <= spans[t][1] for t in order]
        joins = order.index(line.lane) if line.lane in order else -1
        used = _width(row)
        if joins >= 0:
            fill = max(base - used, 1)
            row.append(Piece(" ◀" + "─" * (fill - 2) if line.arrives else " " + "─" * (fill - 1),
                             EDGE if line.arrives else line.role))
        else:
            row.append(Piece(" " * max(base - used, 0), EDGE))
        cells = ""
        for lane, target in enumerate(order):
            low, high = spans[target]
            if lane == joins:
                cells += "─" + ("┐" if number == low else "┘" if number == high else "┤")
            elif lane < joins:
                cells += "─" + ("┼" if active[lane] else "─")
            else:
                cells += " " + ("│" if active[lane] else " ")
        if cells.strip():
            if joins >= 0:
                row.append(Piece(cells, EDGE if line.arrives else line.role))
            else:
                row.append(Piece(cells, EDGE))
        rows.append(row)
    return rows


def draw_compact(layout: machine.Layout, current: str, last: Any, width: int) -> list[Row]:
    """The main path on as few rows as `width` allows, breaking between nodes and arrows;
    a current state off the path is added after it."""
    width = max(width, 8)
    units: list[Row] = []
    path = layout.path
    for index, state in enumerate(path):
        if index:
            edge = next((e for e in layout.edges if e.source == path[index - 1] and e.target == state), None)
            role = LAST if _is_last(last, path[index - 1], state) else EDGE
            unit = [Piece("─", role)]
            if edge is not None:
                unit.append(_label(edge, last, "/"))
            unit.append(Piece("→", role))
            units.append(unit)
        units.append([_node(state, current, compact=True)])
    if current and current not in path:
        units.append([Piece(" ┆ ", EDGE), _node(current, current, compact=True)])
    rows: list[Row] = [[]]
    for unit in units:
        if rows[-1] and _width(rows[-1]) + _width(unit) > width:
            rows.append([])
        rows[-1].extend(unit)
    return rows


def draw_anywhere(layout: machine.Layout, current: str, last: Any, caption: str) -> Row:
    """The verbs valid in (nearly) every state, once: `QUIT → [ closed ]  ↺ NOOP HELP`."""
    row = [Piece(caption, LABEL)]
    for target, verbs in layout.anywhere_exits:
        role = LAST if last is not None and last.new == target else VERB
        row += [Piece(" ", EDGE), Piece(" ".join(verbs), role), Piece(" → ", EDGE), _node(target, current)]
    if layout.anywhere_loops:
        row += [Piece("  ", EDGE), Piece("↺ " + " ".join(layout.anywhere_loops), LOOP)]
    return row


def plain(rows: list[Row]) -> list[str]:
    return ["".join(p.text for p in row).rstrip() for row in rows]


class Drawing:
    """Rows drawn for the width Rich gives at render time, so a resize redraws them."""

    def __init__(self, draw: Callable[[int], list[Row]], style: Callable[[str], Style], wrap: bool = False) -> None:
        self.draw, self.style, self.wrap = draw, style, wrap

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for row in self.draw(options.max_width):
            text = Text(no_wrap=not self.wrap, overflow="fold" if self.wrap else "crop", end="\n")
            for piece in row:
                text.append(piece.text, self.style(piece.role))
            if not self.wrap:
                text.rstrip()
            yield text

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(1, options.max_width)


class StatePanel(Static):
    # Node frames need an opaque background that stands off the panel in either theme.
    SCOPED_CSS = False
    DEFAULT_CSS = """
    StatePanel > .state-panel--node { color: $foreground; background: $panel-lighten-1; }
    App.-light-mode StatePanel > .state-panel--node { background: $panel-darken-1; }
    StatePanel > .state-panel--edge { color: $foreground 50%; }
    """
    COMPONENT_CLASSES = {
        "state-panel--current",
        "state-panel--node",
        "state-panel--state",
        "state-panel--verb",
        "state-panel--arrow-last",
        "state-panel--edge",
        "state-panel--loop",
        "state-panel--label",
        "state-panel--value",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model: SessionModel | None = None
        self.compact = False  # small terminals: the main path on a line or two
        self._shown: tuple[Any, ...] | None = None
        self.strings = Strings()
        self.explainer = Explainer()

    def show(self, model: SessionModel | None, strings: Strings, explainer: Explainer) -> None:
        """Draw `model`, unless what the panel shows of it is what is on screen already
        (a NOOP changes no state: the panel, and the layout around it, stay as they are)."""
        self.model, self.strings, self.explainer = model, strings, explainer
        key = self._key()
        if key == self._shown:
            return
        self._shown = key
        self.border_title = strings("state.title", protocol=model.protocol.value.upper()) if model else strings("state.title-none")
        self.update(self._build())

    def _key(self) -> tuple[Any, ...]:
        model = self.model
        if model is None:
            return (None, self.strings.lang)
        envelope = model.envelope
        transaction = None
        if envelope is not None:
            transaction = (getattr(envelope, "sender", None), tuple(getattr(envelope, "recipients", []) or []),
                           int(getattr(envelope, "data_size", 0) or 0))
        return (model.session_id, model.available, model.state, model.last_transition, transaction, self.compact,
                self.strings.lang)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if self.is_mounted:
            self._shown = self._key()
            self.update(self._build())

    def _c(self, name: str) -> Style:
        return self.get_component_rich_style(f"state-panel--{name}", partial=True)

    def _build(self) -> RenderableType:
        model, t = self.model, self.strings
        if model is None:
            return Text(t("state.no-session"))
        if not model.available:
            return Text(t("state.not-built", protocol=model.protocol.value.upper()))
        last = model.last_transition
        layout = machine.layout_of(model.engine)
        styles = {role: self._c(role) for role in (NODE, CURRENT, VERB, LAST, LOOP, EDGE, LABEL, VALUE)}
        style = styles.__getitem__
        state = model.state
        parts: list[RenderableType] = []
        if self.compact:
            parts.append(Drawing(lambda width: draw_compact(layout, state, last, width), style))
        else:
            parts.append(Drawing(lambda width: draw_diagram(layout, state, last, width), style))
            if layout.anywhere_exits or layout.anywhere_loops:
                caption = t("state.anywhere")
                parts.append(Drawing(lambda _width: [draw_anywhere(layout, state, last, caption)], style, wrap=True))
            name, _meaning = self.explainer.state(model.protocol, state)
            parts.append(self._pair(t("state.now"), name))
        if last is not None:
            parts.append(self._pair(t("state.last"), t("state.transition", old=last.old, new=last.new,
                                                          command=last.command or "—")))
        else:
            parts.append(self._pair(t("state.last"), t("state.no-transition")))
        envelope = model.envelope
        if envelope is not None:
            parts.append(self._envelope(envelope))
        return Group(*parts)

    def _pair(self, label: str, value: str) -> Text:
        text = Text(overflow="fold")
        text.append(label + " ", self._c("label"))
        text.append(value, self._c("value"))
        return text

    def _envelope(self, envelope: Any) -> RenderableType:
        t = self.strings
        sender = getattr(envelope, "sender", None)
        recipients = list(getattr(envelope, "recipients", []) or [])
        size = int(getattr(envelope, "data_size", 0) or 0)
        if self.compact:
            line = Text(overflow="fold")
            line.append("MAIL ", self._c("label"))
            line.append(f"<{sender}>" if sender is not None else "—", self._c("value"))
            line.append("  RCPT ", self._c("label"))
            line.append(str(len(recipients)), self._c("value"))
            line.append("  DATA ", self._c("label"))
            line.append(str(size), self._c("value"))
            return line
        rows = [Text(t("state.transaction"), self._c("label"))]
        rows.append(self._pair("  " + t("state.reverse-path"), f"<{sender}>" if sender is not None else "—"))
        rows.append(self._pair("  " + t("state.forward-paths"),
                               ", ".join(f"<{r}>" for r in recipients) if recipients else "—"))
        rows.append(self._pair("  " + t("state.data"), t("state.octets", count=size)))
        return Group(*rows)
