"""The lesson screen's behaviour: progress saved and resumed, reset, the picker, the
palette of the main app, the language, hints, wrong answers and the demo key."""

from __future__ import annotations

from pathlib import Path

from mailsim.clock import FixedClock, SequentialIds
from mailsim.lesson.loader import lesson_files, load_lesson
from mailsim.ui.app import make_app
from mailsim.ui.lessons.catalog import LessonSettings
from mailsim.ui.lessons.picker import LessonPickerScreen
from mailsim.ui.lessons.screen import LessonScreen
from mailsim.ui.lessons.start import palette_commands

from .harness import lesson_screen, lessons_app, play_step, settings, settle

LESSON_2 = next(p for p in lesson_files() if p.name.startswith("02-"))


async def test_progress_is_saved_and_resumed_with_the_session_open_again(tmp_path: Path) -> None:
    chosen = settings(tmp_path)
    app = lessons_app(LESSON_2, tmp_path, settings=chosen)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await lesson_screen(pilot)
        for _ in range(2):   # EHLO, MAIL FROM
            await play_step(pilot, screen, "en")
        assert screen.runner.index == 3
    saved = chosen.progress.load("smtp-first-session")
    assert saved is not None and saved.step_index == 3

    again = lessons_app(LESSON_2, tmp_path, settings=chosen)
    async with again.run_test(size=(80, 24)) as pilot:
        screen = await lesson_screen(pilot)
        assert screen.runner.index == 3
        assert screen.panel.view.position == "4/9"
        # The step's session is open again (sessions do not survive a restart).
        assert screen.session_for(screen.runner.step) is not None
        # The earlier lines were sent again to the new session: RCPT TO works at once.
        model = again.sessions[screen.session_for(screen.runner.step)]
        assert model.state == "mail"
        await play_step(pilot, screen, "en")
        assert screen.runner.index == 4


async def test_reset_from_the_palette_starts_again_on_a_fresh_store(tmp_path: Path) -> None:
    app = lessons_app(LESSON_2, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await lesson_screen(pilot)
        for _ in range(6):   # up to the message, which delivers to bob
            await play_step(pilot, screen, "en")
        delivered = len(app.store.mailbox("bob", "INBOX").messages)
        commands = {c.title: c for c in palette_commands(app, app.screen)}
        reset = commands[app.strings("lessons.palette.reset")]
        await reset.callback()
        fresh = await lesson_screen(pilot)
        assert fresh is not screen
        assert fresh.runner.index == 1   # the greeting step ticks as the new session opens
        assert len(app.store.mailbox("bob", "INBOX").messages) == delivered - 1
        assert app.lesson_settings.progress.load("smtp-first-session").step_index == 1


async def test_picker_opens_the_lesson_chosen_and_forgets_progress(tmp_path: Path) -> None:
    chosen = settings(tmp_path)
    lesson = load_lesson(LESSON_2)
    from mailsim.lesson.progress import LessonProgress

    chosen.progress.save(LessonProgress(lesson.id, step_index=2, completed={"greeting": 1.0, "ehlo": 2.0}))
    app = lessons_app(None, tmp_path, settings=chosen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, 4)
        picker = app.screen
        assert isinstance(picker, LessonPickerScreen)
        row = next(i for i, e in enumerate(picker.entries) if e.path == LESSON_2)
        assert picker.entries[row].done == 2
        picker.table.move_cursor(row=row)
        await pilot.press("r")
        await settle(pilot)
        assert chosen.progress.load(lesson.id) is None
        assert picker.entries[row].done == 0
        await pilot.press("enter")
        screen = await lesson_screen(pilot)
        assert screen.lesson.id == lesson.id
        assert screen.runner.index == 1


async def test_closing_the_picker_of_mailsim_lessons_quits(tmp_path: Path) -> None:
    app = lessons_app(None, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, 4)
        assert isinstance(app.screen, LessonPickerScreen)
        await pilot.press("escape")
        await settle(pilot)
    assert app.return_code == 0


async def test_the_main_app_palette_opens_the_picker_and_starts_a_lesson(tmp_path: Path) -> None:
    clock = FixedClock(1_790_000_000.0)
    app = make_app(clock=clock, ids=SequentialIds("Q"), cursor_blink=False, lang="en")
    app.lesson_settings = LessonSettings(progress=settings(tmp_path).progress, report_dir=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        old_store = app.store
        session = next(iter(app.sessions))
        app.send(session, "EHLO x.example")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert app.strings("lessons.palette.pick") in titles
        assert app.strings("lessons.palette.hint") not in titles   # no lesson yet
        pick = next(c for c in app.get_system_commands(app.screen) if c.title == app.strings("lessons.palette.pick"))
        pick.callback()
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, LessonPickerScreen)
        picker.table.move_cursor(row=next(i for i, e in enumerate(picker.entries) if e.path == LESSON_2))
        await pilot.press("enter")
        screen = await lesson_screen(pilot)
        assert app.store is not old_store          # the lesson's world, fresh
        assert session not in app.sessions          # the old console session is closed
        assert screen.runner.index == 1
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert app.strings("lessons.palette.hint") in titles


async def test_hints_wrong_answers_and_language(tmp_path: Path) -> None:
    app = lessons_app(LESSON_2, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await lesson_screen(pilot)
        step = screen.runner.step
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert screen.runner.hints_shown(step) == 1
        assert "Hint 1/2" in screen.panel.view.text
        await pilot.press("ctrl+g", "ctrl+g")   # the third is one too many: nothing more
        await settle(pilot)
        assert screen.runner.hints_shown(step) == 2
        for _ in range(4):   # EHLO, MAIL, RCPT, DATA
            await play_step(pilot, screen, "en")
        assert screen.runner.step.question is not None
        assert screen.focused is screen.panel.choices
        await pilot.press("home", "down", "enter")   # wrong: 2xx
        await settle(pilot)
        assert screen.panel.view.feedback is not None and not screen.panel.view.feedback.correct
        assert "No text has been sent yet" in screen.panel.view.feedback.text
        assert screen.runner.progress.answers["class-of-354"][0].correct is False
        await pilot.press("f9")   # Spanish, lesson texts included
        await settle(pilot, 4)
        assert "Pregunta: la clase del 354" in screen.panel.view.text
        assert "Todavía no se envió" in screen.panel.view.feedback.text
        await pilot.press("home", "enter")   # right: 3xx
        await settle(pilot)
        assert screen.runner.index == 6
        assert "Exacto: 3xx" in screen.panel.view.after


async def test_the_demo_key_types_into_the_input_without_sending(tmp_path: Path) -> None:
    app = lessons_app(LESSON_2, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await lesson_screen(pilot)
        await pilot.press("ctrl+y")
        await settle(pilot)
        pane = screen.pane(screen.session_for(screen.runner.step))
        assert pane.command_input.value == "EHLO pc-alumno.example"
        assert screen.focused is pane.command_input
        assert screen.runner.index == 1   # nothing sent yet
        await pilot.press("enter")
        await settle(pilot)
        assert screen.runner.index == 2
        # A lesson key on a step without a demo line says why instead.
        await pilot.press("ctrl+y", "enter", "ctrl+y", "enter", "ctrl+y", "enter")
        await settle(pilot)
        assert screen.runner.step.question is not None
        assert not screen.check_action("demo", ())
