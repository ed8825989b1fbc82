"""A lesson opened directly names the lessons it builds on; the lab report names a
person, never a role account such as root."""

from __future__ import annotations

from pathlib import Path

from mailsim.lesson.loader import lesson_files, load_lesson
from mailsim.lesson.progress import LessonProgress
from mailsim.lesson.report import LabReport
from mailsim.ui.lessons.catalog import _student

from .harness import lesson_screen, lessons_app, settle

LESSON_5 = next(p for p in lesson_files() if p.name.startswith("05-"))


async def test_prerequisites_are_named_when_a_lesson_is_opened_directly(tmp_path: Path):
    app = lessons_app(LESSON_5, tmp_path, lang="es")
    async with app.run_test(size=(80, 24)) as pilot:
        await lesson_screen(pilot)
        await settle(pilot)
        said = [n.message for n in app._notifications]
        assert any("«Una primera sesión SMTP»" in m for m in said), said


def test_the_student_is_a_person_or_a_blank_to_fill_in():
    assert _student({"MAILSIM_STUDENT": "Ana Pérez"}) == "Ana Pérez"
    assert _student({}).lower() not in {"root", "admin"}
    lesson = load_lesson(LESSON_5)
    report = LabReport.build(lesson, LessonProgress(lesson.id), [], lang="en", student="")
    assert "- **Student:** ____" in report.markdown()


LESSON_8 = next(p for p in lesson_files() if p.name.startswith("08-"))


async def test_a_drawing_is_shown_whole_at_80_columns_and_120(tmp_path: Path):
    from textual.widgets.markdown import MarkdownFence

    from mailsim.ui.lessons.view import drawing_width

    for size in ((80, 24), (120, 40)):
        app = lessons_app(LESSON_8, tmp_path / f"{size[0]}", lang="es")
        async with app.run_test(size=size) as pilot:
            screen = await lesson_screen(pilot)
            await settle(pilot)
            drawing = drawing_width(screen.panel.view.text)
            assert drawing > 60  # the step opens on the three-state drawing
            fences = [f for f in screen.panel.query(MarkdownFence).results(MarkdownFence) if f.has_class("-drawing")]
            assert fences and all(f.max_scroll_x == 0 for f in fences), [(f.size, f.virtual_size) for f in fences]
            await pilot.press("ctrl+f")  # on to a step where the console is needed
            await settle(pilot)
            assert screen.query_one("#work").size.width >= 36


async def test_from_the_picker_the_prerequisites_are_not_repeated(tmp_path: Path):
    from mailsim.ui.lessons.start import start_lesson

    app = lessons_app(LESSON_5, tmp_path, lang="en")
    async with app.run_test(size=(120, 40)) as pilot:
        await lesson_screen(pilot)
        app.clear_notifications()
        await start_lesson(app, LESSON_5, prerequisites_shown=True)  # as the picker starts it
        await settle(pilot)
        assert not [n for n in app._notifications if "builds on" in n.message]
