"""What the live console explains, for the step being replayed: the state machine of the
step's session (the same diagram, the state and the last transition highlighted) and
what its last reply means, with the notes it raised, in the replay's language.

Both panels are the console's own widgets, fed a `SessionModel` rebuilt from the
replay's events up to the step: a model moving one step forward takes that step's
events; a jump back or to another session starts again from the first step.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal

from mailsim.protocol.explain import Explainer
from mailsim.protocol.registry import ENGINES
from mailsim.transcript.replay import Replay
from mailsim.ui.model import SessionModel
from mailsim.ui.strings import Strings
from mailsim.ui.widgets.reply_panel import ReplyExplanation
from mailsim.ui.widgets.state_panel import StatePanel


class StepExplained(Horizontal):
    def __init__(self, lang: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.strings, self.explainer = Strings(lang), Explainer(lang)
        self._model: SessionModel | None = None
        self._upto = 0  # steps applied to the model

    def compose(self) -> ComposeResult:
        yield StatePanel(id="replay-machine")
        yield ReplyExplanation(id="replay-explained")

    @property
    def machine(self) -> StatePanel:
        return self.query_one("#replay-machine", StatePanel)

    @property
    def explained(self) -> ReplyExplanation:
        return self.query_one("#replay-explained", ReplyExplanation)

    def show(self, replay: Replay, session_id: str | None, position: int) -> None:
        model = self.model_at(replay, session_id, position) if session_id else None
        self.machine.compact = True  # the main path on two rows: the replay needs the room
        self.machine.show(model, self.strings, self.explainer)
        self.explained.border_title = self.strings("reply.title")
        self.explained.show(model, self.strings, self.explainer)

    def model_at(self, replay: Replay, session_id: str, position: int) -> SessionModel:
        """The session as the console would have shown it after `position` steps."""
        model = self._model
        if model is None or model.session_id != session_id or position < self._upto:
            protocol = replay.session_protocols[session_id]
            model = self._model = SessionModel(session_id, protocol, ENGINES.get(protocol))
            self._upto = 0
        for step in replay.steps[self._upto:position]:
            for event in step.events:
                if event.session_id == session_id:
                    model.apply(event)
        self._upto = position
        return model
