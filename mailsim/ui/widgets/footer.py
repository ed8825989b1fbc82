"""The footer of every mailsim screen: Textual's, fitted to the terminal's width and
rebuilt once per refresh."""

from __future__ import annotations

from rich.cells import cell_len
from textual.screen import Screen
from textual.widgets import Footer as _Footer
from textual.widgets._footer import FooterKey

# The keys the footer leaves out first when the terminal is too narrow to show them all
# (F1 lists every key, and they all keep working): a cut label is worse than none.
FOOTER_SPARE = ("toggle_theme", "toggle_bytes", "toggle_listen", "quit", "toggle_language", "close_session",
                "cycle", "compose", "split", "open_session('pop3')", "open_session('imap')", "open_session('smtp')",
                "help")


class Footer(_Footer):
    """Textual's footer, rebuilt once per refresh however often the bindings changed,
    and fitted to the terminal's width.

    Opening a session moves the focus a few times before the first frame; each move
    asks the footer to recompose (a dozen keys restyled each time). Once is enough:
    the recompose reads the bindings as they are when it runs. Keys that do not fit
    are left out in the order of `FOOTER_SPARE`, never cut in the middle of a word
    (nor drawn under the command palette's key at the right).
    """

    _recompose_pending = False
    _composed_for = 0

    def compose(self):
        widgets = list(super().compose())
        keys = [w for w in widgets if isinstance(w, FooterKey) and not w.has_class("-command-palette")]
        palette = [w for w in widgets if isinstance(w, FooterKey) and w.has_class("-command-palette")]

        def width(key: FooterKey) -> int:
            text = cell_len(key.key_display) + cell_len(key.description)
            return text + 2 if self.compact else text + 3  # compact: "key desc" + margin; else " key desc "

        room = self._composed_for = self.app.size.width
        used = sum(width(k) for k in keys) + sum(width(k) + 1 for k in palette)
        for action in FOOTER_SPARE:
            if used <= room:
                break
            for key in [k for k in keys if k.action == action]:
                widgets.remove(key)
                keys.remove(key)
                used -= width(key)
        while used > room and keys:  # a screen's own keys, from the right, when still too many
            key = keys.pop()
            widgets.remove(key)
            used -= width(key)
        self.styles.grid_size_columns = max(len(keys), 1)
        yield from widgets

    def on_resize(self) -> None:
        if self.app.size.width != self._composed_for and not self._recompose_pending:
            self._recompose_pending = True
            self.call_after_refresh(self._recompose_once)

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        if not self._recompose_pending:
            self._recompose_pending = True
            self.call_after_refresh(self._recompose_once)

    async def _recompose_once(self) -> None:
        self._recompose_pending = False
        await self.recompose()
