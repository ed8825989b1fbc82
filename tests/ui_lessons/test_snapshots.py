"""The picker, the lesson panel mid-lesson and the end of a lesson, as the student sees
them, compared with the accepted SVG snapshots.

Accept a change only after looking at the report: `pytest tests/ui_lessons --snapshot-update`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from uihelpers import HeldClock

from mailsim.lesson.loader import lesson_files, load_lesson
from mailsim.lesson.progress import LessonProgress
from mailsim.ui.widgets.mailbox_view import HIGHLIGHT_SECONDS, MailboxView

from .harness import START, lessons_app, lesson_screen, play_lesson, settings, settle

SIZES = [(80, 24), (120, 40)]
IDS = ["80x24", "120x40"]
LIBRARY = tuple(lesson_files()[:4])   # a fixed library: the snapshots do not change as lessons are added
LESSON_2 = LIBRARY[1]
REPORTS = Path("/tmp/mailsim-lesson-snapshots/reports")   # shown on the end screen: fixed


def _settings(root: Path):
    chosen = settings(root)
    chosen.library = LIBRARY
    chosen.report_dir = REPORTS
    return chosen


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_picker(snap_compare, tmp_path: Path, size) -> None:
    chosen = _settings(tmp_path)
    first, second = (load_lesson(p) for p in LIBRARY[:2])
    chosen.progress.save(LessonProgress(first.id, step_index=len(first.steps), started_at=START,
                                        finished_at=START + 900,
                                        completed={s.id: START for s in first.steps}))
    chosen.progress.save(LessonProgress(second.id, step_index=3, started_at=START,
                                        completed={s.id: START for s in second.steps[:3]}))

    async def run_before(pilot):
        await settle(pilot, 4)
        await pilot.press("down")   # the lesson in progress, its summary below
        await settle(pilot)

    app = lessons_app(None, tmp_path, settings=chosen)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_lesson_panel_mid_lesson(snap_compare, tmp_path: Path, size) -> None:
    async def run_before(pilot):
        await lesson_screen(pilot)
        for _ in range(2):   # EHLO, MAIL FROM with the demo key
            await pilot.press("ctrl+y", "enter")
            await settle(pilot)
        await pilot.press("ctrl+g")   # the first hint of RCPT TO
        await settle(pilot, 4)

    app = lessons_app(LESSON_2, tmp_path, settings=_settings(tmp_path))
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_question_with_a_wrong_answer(snap_compare, tmp_path: Path, size) -> None:
    async def run_before(pilot):
        await lesson_screen(pilot)
        for _ in range(4):   # EHLO, MAIL FROM, RCPT TO, DATA
            await pilot.press("ctrl+y", "enter")
            await settle(pilot)
        await pilot.press("down", "enter")   # the second choice: wrong
        await settle(pilot, 4)

    app = lessons_app(LESSON_2, tmp_path, lang="es", settings=_settings(tmp_path))
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_end_of_lesson(snap_compare, tmp_path: Path, size) -> None:
    fades = HeldClock()

    async def run_before(pilot):
        await play_lesson(pilot, "en")
        await settle(pilot, 4)
        fades.advance(HIGHLIGHT_SECONDS)  # what changed during the lesson has faded
        for view in pilot.app.screen.query(MailboxView):
            view.rebuild()
        await settle(pilot)

    app = lessons_app(LESSON_2, tmp_path, settings=_settings(tmp_path), highlight_clock=fades)
    assert snap_compare(app, terminal_size=size, run_before=run_before)
