"""The state machine of the session's protocol, drawn from the engine's table.

Every state is a row; its arrows (verbs → next state) follow, loops last. Nothing is
drawn by hand per protocol: the rows come from `machine.edges_of(engine)`, so the
picture and the engine cannot disagree. The current state and the arrow of the last
transition are highlighted; below, the transition and the command that caused it, and
for SMTP the mail transaction so far.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from mailsim.protocol.explain import Explainer
from mailsim.ui import machine
from mailsim.ui.model import SessionModel
from mailsim.ui.strings import Strings


class StatePanel(Static):
    COMPONENT_CLASSES = {
        "state-panel--current",
        "state-panel--state",
        "state-panel--verb",
        "state-panel--arrow-last",
        "state-panel--loop",
        "state-panel--label",
        "state-panel--value",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model: SessionModel | None = None
        self.compact = False  # small terminals: the current state's row only
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

    def _c(self, name: str):
        return self.get_component_rich_style(f"state-panel--{name}", partial=True)

    def _build(self) -> RenderableType:
        model, t = self.model, self.strings
        if model is None:
            return Text(t("state.no-session"))
        if not model.available:
            return Text(t("state.not-built", protocol=model.protocol.value.upper()))
        last = model.last_transition
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column(no_wrap=True)
        table.add_column(ratio=1, overflow="fold")
        common_loops, common_exits = machine.common_verbs(model.engine)
        edges = []
        for edge in machine.edges_of(model.engine):
            verbs = tuple(v for v in edge.verbs if v not in common_loops and v not in common_exits)
            if verbs:
                edges.append(machine.Edge(edge.source, edge.target, verbs))
        parts: list[RenderableType] = []
        if self.compact:
            strip = Text(overflow="fold")
            for index, state in enumerate(machine.states_of(model.engine)):
                if index:
                    strip.append(" › ", self._c("loop"))
                strip.append(state, self._c("current") if state == model.state else self._c("state"))
            parts.append(strip)
        for state in machine.states_of(model.engine):
            current = state == model.state
            if self.compact and not current:
                continue
            name = state
            label = Text(("▶ " if current else "  ") + name, self._c("current") if current else self._c("state"))
            arrows = Text()
            outgoing = [e for e in edges if e.source == state and not e.loops]
            loops = [e for e in edges if e.source == state and e.loops]
            for index, edge in enumerate(outgoing):
                if index:
                    arrows.append(" · ")
                is_last = last is not None and last.old == edge.source and last.new == edge.target
                verb_style = self._c("arrow-last") if is_last else self._c("verb")
                arrows.append(" ".join(edge.verbs), verb_style)
                arrows.append(" → ")
                arrows.append(edge.target, self._c("arrow-last") if is_last else self._c("state"))
            if loops:
                if outgoing:
                    arrows.append("\n")
                arrows.append("↺ " + " ".join(v for e in loops for v in e.verbs), self._c("loop"))
            table.add_row(label, arrows)
        parts.append(table)
        if (common_loops or common_exits) and not self.compact:
            anywhere = Text(overflow="fold")
            anywhere.append(t("state.anywhere") + " ", self._c("label"))
            targets = {e.target for e in machine.edges_of(model.engine) for v in e.verbs if v in common_exits}
            for target in sorted(targets):
                verbs = [v for v in machine.valid_verbs_all(model.engine) if v in common_exits]
                anywhere.append(" ".join(verbs), self._c("verb"))
                anywhere.append(" → " + target + "  ")
            if common_loops:
                loops = [v for v in machine.valid_verbs_all(model.engine) if v in common_loops]
                anywhere.append("↺ " + " ".join(loops), self._c("loop"))
            parts.append(anywhere)
        name, meaning = self.explainer.state(model.protocol, model.state)
        now = Text(overflow="fold")
        now.append(t("state.now") + " ", self._c("label"))
        now.append(name, self._c("value"))
        if not self.compact:
            parts.append(now)
        if last is not None:
            parts.append(self._pair(t("state.last"), t("state.transition", old=last.old, new=last.new,
                                                          command=last.command or "—")))
        else:
            parts.append(self._pair(t("state.last"), t("state.no-transition")))
        envelope = model.envelope
        if envelope is not None:
            parts.append(self._envelope(envelope))
        return Group(*parts)

    def _state_label(self, state: str) -> str:
        model = self.model
        if model is None:
            return state
        name, _meaning = self.explainer.state(model.protocol, state)
        return name or state

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
        rows = [Text(t("state.transaction"), self._c("label"))]
        rows.append(self._pair("  " + t("state.reverse-path"), f"<{sender}>" if sender is not None else "—"))
        rows.append(self._pair("  " + t("state.forward-paths"),
                               ", ".join(f"<{r}>" for r in recipients) if recipients else "—"))
        rows.append(self._pair("  " + t("state.data"), t("state.octets", count=size)))
        if self.compact:
            line = Text(overflow="fold")
            line.append("MAIL ", self._c("label"))
            line.append(f"<{sender}>" if sender is not None else "—", self._c("value"))
            line.append("  RCPT ", self._c("label"))
            line.append(str(len(recipients)), self._c("value"))
            line.append("  DATA ", self._c("label"))
            line.append(str(size), self._c("value"))
            return line
        return Group(*rows)
