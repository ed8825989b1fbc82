"""`mailsim` records the app's sessions by default, and the recording replays clean."""

from __future__ import annotations

from pathlib import Path

import pytest
from uihelpers import enter_line

from mailsim.store.world import build_store
from mailsim.transcript.replay import Replay
from mailsim.ui import app as app_module


@pytest.mark.parametrize("record", [True, False])
def test_run_app_records_a_replayable_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], record: bool
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    original_run = app_module.MailsimApp.run

    async def student(pilot) -> None:
        await pilot.pause()
        for line in ("EHLO aula.example", "MAIL FROM:<alice@mailsim.test>", "RCPT TO:<bob@mailsim.test>"):
            await enter_line(pilot, line)
        pilot.app.exit()

    def headless_run(self, *args, **kwargs):
        return original_run(self, headless=True, size=(120, 40), auto_pilot=student)

    monkeypatch.setattr(app_module.MailsimApp, "run", headless_run)
    assert app_module.run_app(build_store(), lang="en", record=record) == 0
    recordings = list(tmp_path.rglob("*.jsonl"))
    if not record:
        assert recordings == []
        return
    assert len(recordings) == 1
    assert f"mailsim replay {recordings[0]}" in capsys.readouterr().out
    replay = Replay.load(recordings[0])
    assert replay.differences == []
    assert len(replay.steps) >= 4
