"""`mailsim replay` without a screen: check a recording, export it, or list its steps.

Exit codes: 0 no difference, 1 differences found, 2 the recording cannot be read.
"""

from __future__ import annotations

import sys
from typing import IO

from mailsim.private import write_private_text
from mailsim.transcript.recorder import TranscriptError
from mailsim.transcript.replay import Replay, format_difference

EXIT_CLEAN, EXIT_DIFFERENCES, EXIT_UNREADABLE = 0, 1, 2


def _load(path: str, err: IO[str]) -> Replay | None:
    try:
        replay = Replay.load(path)
    except TranscriptError as exc:
        print(f"mailsim: {exc}", file=err)
        return None
    for warning in replay.warnings:
        print(f"mailsim: {path}: warning: {warning}", file=err)
    return replay


def run_headless(
    path: str, *, check: bool = False, export: str | None = None, output: str | None = None,
    out: IO[str] | None = None, err: IO[str] | None = None, lang: str = "en",
) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    replay = _load(path, err)
    if replay is None:
        return EXIT_UNREADABLE
    if export:
        from mailsim.transcript.export import export as render

        document = render(replay, export, lang)
        if output:
            try:
                write_private_text(output, document)
            except OSError as exc:
                print(f"mailsim: cannot write {output}: {exc.strerror}", file=err)
                return EXIT_UNREADABLE
        else:
            out.write(document)
    if check:
        for difference in replay.differences:
            print(format_difference(difference), file=out)
        steps = len(replay.steps)
        if replay.differences:
            changed = len({d.step for d in replay.differences})
            print(f"{path}: {changed} of {steps} steps answer differently", file=out)
            return EXIT_DIFFERENCES
        print(f"{path}: {steps} steps, no difference", file=out)
    return EXIT_CLEAN


def show_as_text(path: str, out: IO[str] | None = None, err: IO[str] | None = None) -> int:
    """The steps as plain text, for when the replay screen is not available."""
    out, err = out or sys.stdout, err or sys.stderr
    replay = _load(path, err)
    if replay is None:
        return EXIT_UNREADABLE
    from mailsim.transcript.export import to_text

    out.write(to_text(replay))
    return EXIT_DIFFERENCES if replay.differences else EXIT_CLEAN
