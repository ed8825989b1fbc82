"""Scrolling widgets whose box does not depend on what they hold.

Textual's `virtual_size` is a layout reactive: every change (a keystroke in an Input, a
line added to a log, a row added to a DataTable) reflows the whole screen. For a widget
whose own size is set by its container (`1fr`, a fixed height), the content size only
moves its scrollbars, so the mixin updates those and repaints the widget, and the rest
of the screen is left alone.
"""

from __future__ import annotations

from textual.geometry import Size
from textual.reactive import Reactive


class FixedBoxScrolling:
    """Mix in before the widget class: `class Log(FixedBoxScrolling, ScrollView)`."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False, repaint=True)

    def watch_virtual_size(self, size: Size) -> None:
        self._scroll_update(size)  # type: ignore[attr-defined]  # scrollbars and scroll limits
