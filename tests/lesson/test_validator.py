"""The validator: each kind of problem, reported as file:line: message, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mailsim.cli import main
from mailsim.lesson.loader import LessonError, check_files, check_lesson, load_lesson

VALID = '''\
format_version = 1
id = "sample"
protocols = ["smtp"]
level = "beginner"
minutes = 5

[title]
es = "Ejemplo"
en = "Sample"

[summary]
es = "Resumen"
en = "Summary"

[[steps]]
id = "greet"
demo = "EHLO x.example"

[steps.title]
es = "Saludo"
en = "Greeting"

[steps.instructions]
es = "Escribe EHLO."
en = "Type EHLO."

[steps.expect]
kind = "reply"
code = "250"
answering = "EHLO"

[[steps.actions]]
do = "open-session"
protocol = "smtp"

[[steps]]
id = "quit"
demo = "QUIT"

[steps.title]
es = "Fin"
en = "End"

[steps.instructions]
es = "Escribe QUIT."
en = "Type QUIT."

[steps.expect]
kind = "reply"
code = "221"
'''


def write(tmp_path: Path, text: str, name: str = "lesson.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str) -> list[str]:
    return [str(p) for p in check_lesson(write(tmp_path, text), known_ids=set())]


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    count = 0
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            count += 1
            if count == occurrence:
                return number
    raise AssertionError(needle)


def test_the_sample_is_valid(tmp_path: Path) -> None:
    assert problems_of(tmp_path, VALID) == []
    lesson = load_lesson(write(tmp_path, VALID), known_ids=set())
    assert [s.id for s in lesson.steps] == ["greet", "quit"]


def test_unknown_top_level_key(tmp_path: Path) -> None:
    text = VALID.replace('minutes = 5\n', 'minutes = 5\nduration = 7\n')
    path = tmp_path / "lesson.toml"
    assert problems_of(tmp_path, text) == [f"{path}:{line_of(text, 'duration')}: unknown key 'duration' in the lesson (allowed: format_version, id, level, minutes, prerequisites, protocols, steps, summary, title, world)"]


def test_unknown_key_in_the_second_step_points_into_that_step(tmp_path: Path) -> None:
    text = VALID.replace('id = "quit"\n', 'id = "quit"\nhint = "typo"\n')
    [problem] = problems_of(tmp_path, text)
    assert f":{line_of(text, 'hint = ')}: unknown key 'hint' in step 2" in problem


def test_missing_language(tmp_path: Path) -> None:
    text = VALID.replace('[steps.title]\nes = "Fin"\nen = "End"\n', '[steps.title]\nes = "Fin"\n')
    [problem] = problems_of(tmp_path, text)
    assert problem.endswith(f":{line_of(text, '[steps.title]', 2)}: step 'quit': missing language 'en'")


def test_unknown_language(tmp_path: Path) -> None:
    text = VALID.replace('[summary]\nes = "Resumen"\n', '[summary]\nes = "Resumen"\nfr = "Résumé"\n')
    [problem] = problems_of(tmp_path, text)
    assert f":{line_of(text, '[summary]')}: the lesson: unknown language 'fr'" in problem


def test_reply_code_the_engine_never_sends(tmp_path: Path) -> None:
    text = VALID.replace('code = "221"', 'code = "299"')
    [problem] = problems_of(tmp_path, text)
    assert f":{line_of(text, 'code = ' + chr(34) + '299')}: step 'quit', expect: the SMTP server never replies 299" in problem


def test_reply_key_and_code_that_disagree(tmp_path: Path) -> None:
    text = VALID.replace('code = "221"', 'code = "221"\nkey = "no-such-user"')
    [problem] = problems_of(tmp_path, text)
    assert "reply 'no-such-user' is 550, never 221" in problem
    assert f":{line_of(text, 'key = ')}:" in problem


def test_reply_class_the_protocol_never_uses(tmp_path: Path) -> None:
    text = VALID.replace('code = "221"', 'class = "bad"')
    [problem] = problems_of(tmp_path, text)
    assert "never sends a reply of class 'bad'" in problem


def test_verb_the_protocol_does_not_have(tmp_path: Path) -> None:
    text = VALID.replace('kind = "reply"\ncode = "221"', 'kind = "command"\nverb = "STAT"')
    [problem] = problems_of(tmp_path, text)
    assert f":{line_of(text, 'verb = ')}: step 'quit', expect: SMTP has no command 'STAT'" in problem


def test_state_that_does_not_exist(tmp_path: Path) -> None:
    text = VALID.replace('kind = "reply"\ncode = "221"', 'kind = "state"\nstate = "transaction"')
    [problem] = problems_of(tmp_path, text)
    assert f":{line_of(text, 'state = ')}: step 'quit', expect: SMTP has no state 'transaction'" in problem


def test_bad_regular_expression(tmp_path: Path) -> None:
    text = VALID.replace('kind = "reply"\ncode = "221"', 'kind = "command"\nverb = "QUIT"\nargument = "(["')
    [problem] = problems_of(tmp_path, text)
    assert f":{line_of(text, 'argument = ')}:" in problem and "not a valid regular expression" in problem


def test_delivery_to_an_address_nobody_receives(tmp_path: Path) -> None:
    text = VALID.replace('demo = "QUIT"\n', 'session = "smtp"\ndemo = "QUIT"\n').replace(
        'kind = "reply"\ncode = "221"', 'kind = "delivered"\nto = "nadie@mailsim.test"'
    )
    problems = problems_of(tmp_path, text)
    assert any(f":{line_of(text, 'to = ')}:" in p and "no account of the lesson's world receives mail" in p for p in problems)


def test_demo_with_no_session_open(tmp_path: Path) -> None:
    text = VALID.replace('[[steps.actions]]\ndo = "open-session"\nprotocol = "smtp"\n', "")
    problem, second = problems_of(tmp_path, text)
    assert f":{line_of(text, 'demo = ', 2)}: step 'quit'" in second
    assert f":{line_of(text, 'demo = ')}: step 'greet': the demo is typed into a smtp session, but no step so far opens one" in problem


def test_unknown_action_and_panel(tmp_path: Path) -> None:
    text = VALID.replace('do = "open-session"\nprotocol = "smtp"\n', 'do = "open-session"\nprotocol = "smtp"\n\n[[steps.actions]]\ndo = "show-panel"\npanel = "radar"\n')
    [problem] = problems_of(tmp_path, text)
    assert f":{line_of(text, 'panel = ')}: step 'greet', action 2: 'panel' must be one of" in problem


def test_world_message_that_does_not_parse(tmp_path: Path) -> None:
    world = '''
[world]
domain = "mailsim.test"

[[world.accounts]]
name = "ana"
password = "secreto"

[[world.messages]]
account = "ana"
raw = """
From: a@b.example
Subject: ok

fine
"""

[[world.messages]]
account = "ana"
raw = "this is not a message at all, only text without any header"
'''
    text = VALID.replace("\n[[steps]]\nid = \"greet\"", world + "\n[[steps]]\nid = \"greet\"", 1)
    [problem] = problems_of(tmp_path, text)
    assert f":{line_of(text, '[[world.messages]]', 2)}: world message 2 does not parse" in problem


def test_world_with_an_unknown_account(tmp_path: Path) -> None:
    world = '\n[world]\n\n[[world.accounts]]\nname = "ana"\npassword = "x"\n\n[[world.mailboxes]]\naccount = "eva"\nname = "Work"\n'
    text = VALID.replace("\n[[steps]]\nid = \"greet\"", world + "\n[[steps]]\nid = \"greet\"", 1)
    [problem] = problems_of(tmp_path, text)
    assert problem.endswith(f":{line_of(text, 'account = ' + chr(34) + 'eva')}: unknown account 'eva'")


def test_world_message_from_an_asset_loads(tmp_path: Path) -> None:
    world = '\n[world]\n\n[[world.accounts]]\nname = "ana"\npassword = "x"\n\n[[world.messages]]\naccount = "ana"\nasset = "world/messages/alice/03-carta-adjunta.eml"\n'
    text = VALID.replace("\n[[steps]]\nid = \"greet\"", world + "\n[[steps]]\nid = \"greet\"", 1)
    lesson = load_lesson(write(tmp_path, text), known_ids=set())
    assert lesson.world is not None and b"Carta.odt" in lesson.world.messages[0].raw


def test_toml_syntax_error_has_its_line(tmp_path: Path) -> None:
    text = VALID.replace('level = "beginner"', 'level = beginner')
    [problem] = problems_of(tmp_path, text)
    assert f":{line_of(text, 'level = ')}: TOML:" in problem


def test_format_version_missing_or_not_first(tmp_path: Path) -> None:
    missing = VALID.replace("format_version = 1\n", "")
    assert any(p.endswith(":1: the file must start with 'format_version = 1'") for p in problems_of(tmp_path, missing))
    late = VALID.replace("format_version = 1\n", "").replace('minutes = 5\n', 'minutes = 5\nformat_version = 1\n')
    assert any(":1: 'format_version' must come first" in p for p in problems_of(tmp_path, late))


def test_question_without_a_right_choice(tmp_path: Path) -> None:
    question = '''
[[steps]]
id = "ask"

[steps.title]
es = "P"
en = "Q"

[steps.instructions]
es = "Responde."
en = "Answer."

[steps.question]
kind = "choice"
prompt.es = "¿Sí?"
prompt.en = "Yes?"

[[steps.question.choices]]
es = "a"
en = "a"

[[steps.question.choices]]
es = "b"
en = "b"
'''
    [problem] = problems_of(tmp_path, VALID + question)
    assert "no choice is marked 'correct = true'" in problem
    assert f":{line_of(VALID + question, '[steps.question]')}:" in problem


def test_several_problems_are_all_reported(tmp_path: Path) -> None:
    text = VALID.replace('code = "221"', 'code = "299"').replace('level = "beginner"', 'level = "expert"')
    problems = problems_of(tmp_path, text)
    assert len(problems) == 2


def test_load_raises_with_every_problem(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace('code = "221"', 'code = "299"'))
    with pytest.raises(LessonError) as caught:
        load_lesson(path, known_ids=set())
    assert caught.value.problems[0].line > 0


def test_unknown_prerequisite_and_duplicate_ids(tmp_path: Path) -> None:
    first = write(tmp_path, VALID.replace('minutes = 5\n', 'minutes = 5\nprerequisites = ["nope"]\n'), "a.toml")
    second = write(tmp_path, VALID, "b.toml")
    problems = [str(p) for p in check_files([first, second])]
    assert any("prerequisite 'nope' is not a known lesson id" in p and p.startswith(f"{first}:6:") for p in problems)
    assert any(p.startswith(f"{second}:2: id 'sample' is also used by") for p in problems)


def test_cli_check_reports_lines_and_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, VALID, "good.toml")
    assert main(["lessons", "check", str(good)]) == 0
    bad = write(tmp_path, VALID.replace('code = "221"', 'code = "299"'), "bad.toml")
    assert main(["lessons", "check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}:{line_of(bad.read_text(), 'code = ' + chr(34) + '299')}: step 'quit', expect: the SMTP server never replies 299" in out


def test_cli_never_shows_a_traceback(tmp_path: Path) -> None:
    garbage = write(tmp_path, "\x00\xff not toml [[[", "garbage.toml")
    missing = tmp_path / "missing.toml"
    result = subprocess.run(
        [sys.executable, "-m", "mailsim", "lessons", "check", str(garbage), str(missing)],
        capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert f"{garbage}:1: TOML:" in result.stdout
    assert f"{missing}:0: cannot read" in result.stdout


def test_cli_list_and_ui_entry(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--lang", "en", "lessons", "list"]) == 0
    out = capsys.readouterr().out
    assert "smtp-first-session" in out and "A first SMTP session" in out and "beginner" in out and "15 min" in out
    assert main(["lesson", "no-such-lesson"]) == 2
