"""What the lesson panel shows, computed from a runner without Textual."""

from __future__ import annotations

from mailsim.lesson.autoplay import Autoplay
from mailsim.lesson.loader import lesson_files, load_lesson
from mailsim.ui.lessons.view import DIAGRAM, Mark, PanelState, fenced, panel_view
from mailsim.ui.strings import Strings

LESSON_2 = load_lesson(next(p for p in lesson_files() if p.name.startswith("02-")))


def test_indented_lines_become_plain_fences_and_drawings_are_marked():
    text = "Type:\n\n    MAIL FROM:<a@b>\n    DATA\n\nThen:\n\n    A ──► B\n"
    assert fenced(text) == "Type:\n\n```text\nMAIL FROM:<a@b>\nDATA\n```\n\nThen:\n\n```" + DIAGRAM + "\nA ──► B\n```"
    assert fenced("no code\n    continued paragraph") == "no code\n    continued paragraph"


def test_the_view_follows_the_runner_step_by_step():
    player = Autoplay(LESSON_2, "en")
    runner, t, state = player.runner, Strings("en"), PanelState()
    runner.start(resume=False)   # the greeting step is current; the autoplayer opens the session
    state.just_done = 0 if runner.index == 1 else None
    view = panel_view(runner, "en", t, state)
    assert view.position == f"{runner.index + 1}/9"
    assert [line.mark for line in view.steps][: runner.index + 1][-1] is Mark.CURRENT
    assert view.text.startswith("## Step 2/9 · Introduce yourself with EHLO")
    assert "```text\nEHLO pc-alumno.example\n```" in view.text
    assert view.after.startswith("> **✔ Done: Connect and read the greeting**")
    assert ("lessons.keys.demo-key", "lessons.keys.demo") in view.keys
    runner.next_hint()
    view = panel_view(runner, "en", t, state)
    assert "> **Hint 1/2:** The command is `EHLO`" in view.text
    assert ("lessons.keys.hint-key", "lessons.keys.hint") in view.keys   # one more left
    runner.next_hint()
    assert ("lessons.keys.hint-key", "lessons.keys.hint") not in panel_view(runner, "en", t, state).keys


def test_a_wrong_answer_shows_its_feedback_and_the_end_shows_the_report():
    player = Autoplay(LESSON_2, "es")
    runner, t, state = player.runner, Strings("es"), PanelState()
    runner.start(resume=False)
    while runner.step is not None and runner.step.question is None:
        player._do(runner.step)
    state.answer = runner.answer(1, "es")   # 2xx: wrong
    view = panel_view(runner, "es", t, state)
    assert view.question is not None and len(view.question.choices) == 3 and not view.question.several
    assert view.feedback is not None and view.feedback.text.startswith("Todavía no se envió")
    player.play()
    state.report = ("~/r/smtp-first-session.md", "~/r/smtp-first-session.html")
    view = panel_view(runner, "es", t, state)
    assert view.finished and view.keys == ()
    assert "Lección terminada" in view.text
    assert "Pasos hechos: 9/9" in view.text
    assert "Preguntas acertadas al primer intento: 1/2" in view.text
    assert "`~/r/smtp-first-session.html`" in view.text
    assert all(line.mark is Mark.DONE for line in view.steps)
