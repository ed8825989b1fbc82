"""The composer: build a message field by field and watch its MIME tree and
raw source change (the inspector's widgets), then send it through SMTP.

The screen only edits a ``Draft`` (``mailsim.mime.compose``) and shows what
the stdlib makes of it; it dismisses with a ``Submission`` and the host app
types it into an SMTP console session (``sending.py``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingsMap
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Label, Select, Static, TextArea

from mailsim.mime import build_model
from mailsim.mime.compose import Attachment, Draft, Submission
from mailsim.ui.inspector.describe import count_parts, human_size
from mailsim.ui.inspector.part_tree import PartTree
from mailsim.ui.inspector.raw_view import RawSourceView
from mailsim.ui.inspector.texts import Texts

#: Seconds of quiet typing before the tree and raw source are rebuilt.
REBUILD_DELAY = 0.2


class ComposerScreen(Screen[Submission | None]):
    CSS_PATH = ["../inspector/widgets.tcss", "composer.tcss"]
    BINDINGS = [
        Binding("ctrl+s", "send", "ui.composer-send", priority=True),
        Binding("escape", "close", "ui.key-close"),
    ]

    def __init__(
        self,
        draft: Draft | None = None,
        *,
        forwardable: Sequence[tuple[str, bytes]] = (),
        lang: str = "en",
    ) -> None:
        super().__init__()
        self.draft = draft or Draft()
        self.forwardable = list(forwardable)
        self.texts = Texts(lang)
        self._pending = None
        localized = BindingsMap()
        for _key, binding in self._bindings:
            text = self.texts(binding.description)
            localized._add_binding(dataclasses.replace(binding, description=text, tooltip=text))
        self._bindings = localized

    def compose(self) -> ComposeResult:
        t, draft = self.texts, self.draft
        yield Header()
        with Horizontal(id="composer-body"):
            with VerticalScroll(id="composer-form"):
                for key, field_id, value in (
                    ("ui.composer-from", "composer-from", draft.sender),
                    ("ui.composer-to", "composer-to", draft.to),
                    ("ui.composer-subject", "composer-subject", draft.subject),
                ):
                    with Horizontal(classes="composer-field"):
                        yield Label(t(key))
                        yield Input(value, id=field_id)
                yield Label(t("ui.composer-text"))
                yield TextArea(draft.text, id="composer-text", soft_wrap=True)
                yield Label(t("ui.composer-html"))
                yield TextArea(draft.html, id="composer-html", language=None, soft_wrap=True)
                yield Label(t("ui.composer-attach"))
                with Horizontal(classes="composer-row"):
                    yield Input(placeholder="~/Carta.odt", id="composer-path")
                    yield Button(t("ui.composer-attach-button"), id="composer-attach")
                if self.forwardable:
                    yield Label(t("ui.composer-forward"))
                    with Horizontal(classes="composer-row"):
                        yield Select(
                            [(label, index) for index, (label, _raw) in enumerate(self.forwardable)],
                            id="composer-forward-choice", prompt="…",
                        )
                        yield Button(t("ui.composer-forward-button"), id="composer-forward")
                with Horizontal(classes="composer-row"):
                    yield Button(t("ui.composer-remove"), id="composer-remove")
                    yield Button(t("ui.composer-send"), id="composer-send", variant="primary")
                yield Static(id="composer-status")
            with Vertical(id="composer-preview"):
                yield PartTree(t, id="part-tree")
                yield RawSourceView(id="raw-view")
        yield Footer()

    @property
    def tree(self) -> PartTree:
        return self.query_one("#part-tree", PartTree)

    @property
    def raw_view(self) -> RawSourceView:
        return self.query_one("#raw-view", RawSourceView)

    def on_mount(self) -> None:
        self.title = self.texts("ui.composer-title")
        self.tree.border_title = self.texts("ui.tree")
        for area in self.query(TextArea):
            area.cursor_blink = bool(getattr(self.app, "cursor_blink", True))
        self.rebuild()
        self.query_one("#composer-from", Input).focus()

    # -- the draft follows the form ---------------------------------------------------

    def _read_form(self) -> None:
        draft = self.draft
        draft.sender = self.query_one("#composer-from", Input).value
        draft.to = self.query_one("#composer-to", Input).value
        draft.subject = self.query_one("#composer-subject", Input).value
        draft.text = self.query_one("#composer-text", TextArea).text
        draft.html = self.query_one("#composer-html", TextArea).text

    def rebuild(self) -> None:
        """Rebuild the message from the form and show it: tree and raw source."""
        self._pending = None
        self._read_form()
        raw = self.draft.as_bytes()
        model = build_model(raw)
        self.raw_view.set_model(model)
        self.tree.show_model(model)
        self.raw_view.border_title = self.texts(
            "ui.raw", size=f"{len(raw):,}", lines=f"{self.raw_view.line_count:,}"
        )
        self.tree.border_subtitle = self.texts("ui.composer-parts", parts=count_parts(model), size=human_size(len(raw)))
        problems = self.draft.problems()
        if problems:
            self._status("\n".join(
                self.texts("ui.composer-problem", field=name, error=why) for name, why in problems.items()
            ))

    def _schedule(self) -> None:
        if self._pending is not None:
            self._pending.stop()
        self._pending = self.set_timer(REBUILD_DELAY, self.rebuild)

    def _status(self, text: str) -> None:
        self.query_one("#composer-status", Static).update(text)

    @on(Input.Changed, "#composer-from, #composer-to, #composer-subject")
    def _field_changed(self) -> None:
        self._schedule()

    @on(TextArea.Changed)
    def _body_changed(self) -> None:
        self._schedule()

    # -- attachments and forwarding ------------------------------------------------------

    def attach(self, path: str) -> Attachment | None:
        """Attach the file at ``path``; the tree shows the new base64 part."""
        try:
            attachment = Attachment.from_path(path)
        except OSError as exc:
            self._status(self.texts("ui.composer-no-file", path=path, error=exc.strerror or exc))
            return None
        self.draft.attachments.append(attachment)
        self.rebuild()
        self._status(self.texts("ui.composer-attached", filename=attachment.filename, type=attachment.content_type,
                                size=f"{len(attachment.data):,}"))
        return attachment

    def forward(self, index: int) -> None:
        label, raw = self.forwardable[index]
        self.draft.forwarded.append(raw)
        self.rebuild()
        self._status(self.texts("ui.composer-forwarded", subject=label))

    def remove_last(self) -> None:
        if self.draft.forwarded:
            self.draft.forwarded.pop()
        elif self.draft.attachments:
            self.draft.attachments.pop()
        self.rebuild()

    @on(Button.Pressed, "#composer-attach")
    @on(Input.Submitted, "#composer-path")
    def _attach_pressed(self) -> None:
        path_input = self.query_one("#composer-path", Input)
        if path_input.value.strip() and self.attach(path_input.value.strip()) is not None:
            path_input.value = ""

    @on(Button.Pressed, "#composer-forward")
    def _forward_pressed(self) -> None:
        choice = self.query_one("#composer-forward-choice", Select).value
        if isinstance(choice, int):
            self.forward(choice)

    @on(Button.Pressed, "#composer-remove")
    def _remove_pressed(self) -> None:
        self.remove_last()

    @on(Button.Pressed, "#composer-send")
    def _send_pressed(self) -> None:
        self.action_send()

    # -- leaving -----------------------------------------------------------------------------

    def action_send(self) -> None:
        self.rebuild()
        if not self.draft.envelope_sender or not self.draft.recipients:
            self._status(self.texts("ui.composer-need-addresses"))
            return
        self.dismiss(Submission.of(self.draft))

    def action_close(self) -> None:
        self.dismiss(None)
