"""Figures for the app (a script, not a test; run: python tests/perf/bench_ui.py).

1. Start to first frame, cold (a fresh interpreter each time, headless), beside a
   minimal Textual app measured the same way in the same run; target < 1.5x. Each
   step is shown too: imports, building the app, up to the app running (its first
   screen composed and mounted, the first session opened), then the first frame.
2. Keystroke to rendered reply: Enter on "NOOP" until the reply is in the transcript
   and the screen has been refreshed.
3. A 100,000-line transcript: time to take the lines in, time per scroll step
   (PageUp / PageDown / Home / End) and the Enter-to-reply latency with it loaded.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNS = 7

# Each script prints where its time went (ms since its first line): imports done, app
# built, app running (auto-pilot called), first frame drawn (the first pause returned).
_PHASES = """
import time
_t0 = time.perf_counter()
def _ms():
    return (time.perf_counter() - _t0) * 1000
_marks = {}
async def first_frame(pilot):
    _marks["running"] = _ms()
    await pilot.pause()
    _marks["frame"] = _ms()
    pilot.app.exit()
"""

MINIMAL = _PHASES + """
from textual.app import App
from textual.widgets import Static
class Minimal(App):
    def compose(self):
        yield Static("hello")
_marks["imported"] = _ms()
app = Minimal()
_marks["built"] = _ms()
app.run(headless=True, size=(120, 40), auto_pilot=first_frame)
print(" ".join(f"{k}={v:.1f}" for k, v in _marks.items()))
"""

MAILSIM = _PHASES + """
from mailsim.ui.app import make_app
_marks["imported"] = _ms()
app = make_app(lang="en")
_marks["built"] = _ms()
app.run(headless=True, size=(120, 40), auto_pilot=first_frame)
print(" ".join(f"{k}={v:.1f}" for k, v in _marks.items()))
"""

PHASES = ("imported", "built", "running", "frame")


def cold_start(source: str) -> tuple[float, dict[str, float]]:
    """Wall time of a fresh interpreter running `source`, and the phases it printed."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", source], check=True, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    marks = dict(item.split("=") for item in done.stdout.split())
    return elapsed, {name: float(value) for name, value in marks.items()}


def startup() -> None:
    minimal, mailsim = [], []
    for _ in range(RUNS):  # interleaved, so machine noise hits both alike
        minimal.append(cold_start(MINIMAL))
        mailsim.append(cold_start(MAILSIM))
    m = statistics.median(t for t, _ in minimal)
    s = statistics.median(t for t, _ in mailsim)
    print(f"start to first frame (median of {RUNS}, cold, headless 120x40)")
    print(f"  minimal Textual app   {m * 1000:8.1f} ms")
    print(f"  mailsim               {s * 1000:8.1f} ms   ratio {s / m:.2f}x (target < 1.5x)")
    print("  where it goes (median ms of each step, after the interpreter is up):")
    print("                        " + "".join(f"{name:>10}" for name in PHASES))
    for label, runs in (("minimal", minimal), ("mailsim", mailsim)):
        steps = []
        for index, name in enumerate(PHASES):
            before = PHASES[index - 1] if index else None
            steps.append(statistics.median(p[name] - (p[before] if before else 0.0) for _, p in runs))
        print(f"  {label:<22}" + "".join(f"{step:10.1f}" for step in steps))


async def latency(pilot, app, count: int = 40) -> list[float]:
    times = []
    for _ in range(count):
        await pilot.press(*"NOOP")
        model = app.active_model()
        before = len(model.replies)
        start = time.perf_counter()
        await pilot.press("enter")
        while len(model.replies) == before:
            await asyncio.sleep(0)
        await pilot.pause()  # the refresh that shows it
        times.append(time.perf_counter() - start)
    return times


def _summary(times: list[float]) -> str:
    times = sorted(times)
    p95 = times[int(len(times) * 0.95) - 1]
    return f"median {statistics.median(times) * 1000:6.2f} ms   p95 {p95 * 1000:6.2f} ms"


async def interactive() -> None:
    sys.path.insert(0, str(ROOT))
    from mailsim.clock import FixedClock, SequentialIds
    from mailsim.ui.app import make_app

    app = make_app(lang="en", clock=FixedClock(), ids=SequentialIds("Q"), cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        print("keystroke to rendered reply (Enter on NOOP, 40 times)")
        print("  " + _summary(await latency(pilot, app)))

        model = app.active_model()
        pane = app.main.pane(model.session_id)
        start = time.perf_counter()
        # 50,000 pipelined NOOPs: 100,000 transcript lines (C: and S:).
        model.connection.send_bytes(b"NOOP\r\n" * 50_000)
        await pilot.pause()
        loaded = time.perf_counter() - start
        print(f"100,000-line transcript ({len(model.lines):,} lines)")
        print(f"  engine + bus + model + first frame   {loaded * 1000:8.1f} ms")
        pane.transcript.focus()
        await pilot.pause()
        steps = []
        for key in ["pageup"] * 20 + ["home", "end"] + ["pagedown"] * 5 + ["pageup"] * 20:
            start = time.perf_counter()
            await pilot.press(key)
            await pilot.pause()
            steps.append(time.perf_counter() - start)
        print("  scroll step (PageUp/PageDown/Home/End)  " + _summary(steps))
        pane.command_input.focus()
        await pilot.pause()
        print("  Enter-to-reply with it loaded          " + _summary(await latency(pilot, app, 20)))


def main() -> None:
    startup()
    asyncio.run(interactive())


if __name__ == "__main__":
    main()
