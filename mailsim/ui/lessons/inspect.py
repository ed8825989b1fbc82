"""The MIME inspector as a lesson sees it: every part the student looks at is reported
(as its IMAP section) so that an `opened` step can tick.

The inspector is its own package; if it is missing, `inspector_screen` returns None
and the lesson screen says so instead.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

Reported = Callable[[str], None]


def section_of(node: Any, root: Any) -> str:
    """The IMAP section a lesson names a part by ("" for the whole message)."""
    if node is root:
        return ""
    return node.part_number or node.header_section or ""


def inspector_screen(raw: bytes, *, title: str, lang: str, part: str, reported: Reported) -> Any | None:
    """An inspector screen on `raw` that highlights `part` and reports each part shown."""
    try:
        from mailsim.ui.inspector import screen as inspector_module
        from mailsim.ui.inspector.screen import InspectorScreen
    except ImportError:
        return None

    folder = Path(inspector_module.__file__).parent

    class LessonInspector(InspectorScreen):
        # Relative CSS paths resolve against the defining module: point at the inspector's own.
        CSS_PATH = [str(folder / path) for path in (
            [InspectorScreen.CSS_PATH] if isinstance(InspectorScreen.CSS_PATH, str) else InspectorScreen.CSS_PATH)]

        def on_mount(self) -> None:
            if part:
                self.call_after_refresh(self.select_section, part)

        def show_node(self, node: Any) -> None:
            super().show_node(node)
            reported(section_of(node, self.model.root))

    return LessonInspector.from_bytes(raw, title=title, lang=lang)
