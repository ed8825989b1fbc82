"""Account names from a roster become directories under --store: names that would
leave it or share another account's folder are refused with file:line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mailsim.store.store import MailStore, StoreError
from mailsim.store.world import WorldError, parse_account_option, parse_roster


@pytest.mark.parametrize("name", ["../../x", "x/../bob", "/etc", ".hidden", "a b", "x\\y", "..", "bob/", "-rf", ""])
def test_bad_names_in_a_csv_roster_name_their_line(tmp_path: Path, name: str) -> None:
    roster = tmp_path / "class.csv"
    roster.write_text(f"user,password\nana,pw1\n{name},pw2\n", encoding="utf-8")
    if not name:
        with pytest.raises(WorldError):
            parse_roster(roster)
        return
    with pytest.raises(WorldError) as error:
        parse_roster(roster)
    assert str(error.value).startswith(f"{roster}:3: ")


def test_bad_name_in_a_toml_roster_names_its_line(tmp_path: Path) -> None:
    roster = tmp_path / "class.toml"
    roster.write_text('[[accounts]]\nname = "ana"\npassword = "a"\n\n[[accounts]]\nname = "x/../bob"\npassword = "b"\n')
    with pytest.raises(WorldError) as error:
        parse_roster(roster)
    assert error.value.line == 6 and "x/../bob" in error.value.message


def test_good_names_pass(tmp_path: Path) -> None:
    roster = tmp_path / "class.txt"
    roster.write_text("ana.garcia:pw\nluis_2:pw\nmaría-josé:pw\n", encoding="utf-8")
    assert [a.name for a in parse_roster(roster)] == ["ana.garcia", "luis_2", "maría-josé"]


def test_command_line_and_store_refuse_them_too() -> None:
    with pytest.raises(ValueError, match="may hold only"):
        parse_account_option("../x:pw")
    with pytest.raises(StoreError):
        MailStore().add_account("x/../bob", "pw")


def test_serve_refuses_the_roster_and_writes_nothing_outside_the_store(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("../../escaped,pw\n", encoding="utf-8")
    store_dir = tmp_path / "a" / "b" / "store"
    done = subprocess.run(
        [sys.executable, "-m", "mailsim", "serve", "--accounts", str(roster), "--store", str(store_dir),
         "--smtp-port", "0", "--pop3-port", "0", "--imap-port", "0", "--quiet"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2
    assert f"{roster}:1: account name '../../escaped'" in done.stderr
    assert not (tmp_path / "a" / "escaped").exists() and not store_dir.exists()
