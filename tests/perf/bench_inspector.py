"""Benchmark of the MIME inspector; run on demand:

    python tests/perf/bench_inspector.py

Opens the inspector headless on a 25 MB message of 200 parts and on one
nested 100 deep, and prints how long each step takes: the model, the raw
view's line index and regions, the part tree, and the whole screen up to
its first frame; then how many raw lines were rendered for that frame
(the view is virtualised: a screenful, not 345,000 lines).

Not collected by pytest (the name does not start with ``test_``).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_mime import big_message, nested_message  # noqa: E402

from mailsim.mime import build_model  # noqa: E402
from mailsim.ui.inspector.app import make_inspector_app  # noqa: E402
from mailsim.ui.inspector.raw_view import regions_of  # noqa: E402
from mailsim.ui.inspector.screen import InspectorScreen  # noqa: E402


def timed(function, repeat: int = 5) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


async def open_screen(raw: bytes, size=(120, 40)) -> dict[str, float]:
    app = make_inspector_app(raw, title="bench")
    start = time.perf_counter()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        first_frame = time.perf_counter() - start
        screen: InspectorScreen = app.screen
        rendered = len(screen.raw_view._cache)
        # Walk to the last part: selection, details and a new raw frame far down.
        last = list(screen.model.walk())[-1]
        start = time.perf_counter()
        screen.select_section(last.label)
        await pilot.pause()
        jump = time.perf_counter() - start
        lines = screen.raw_view.line_count
    return {"first_frame": first_frame, "rendered": rendered, "jump": jump, "lines": lines}


def report(name: str, raw: bytes) -> None:
    print(f"\n{name}: {len(raw) / 1e6:.1f} MB")
    model_s, model = timed(lambda: build_model(raw))
    parts = sum(1 for _ in model.walk())
    regions_s, regions = timed(lambda: regions_of(model))
    import re

    index_s, _ = timed(lambda: [m.end() for m in re.finditer(b"\n", raw)])
    print(f"  model ({parts} nodes)            {model_s * 1000:8.1f} ms")
    print(f"  raw regions ({len(regions)})          {regions_s * 1000:8.1f} ms")
    print(f"  raw line index                {index_s * 1000:8.1f} ms")
    figures = asyncio.run(open_screen(raw))
    print(f"  screen up, first frame        {figures['first_frame'] * 1000:8.1f} ms"
          "  (model + tree + details + raw view + Textual start-up)")
    print(f"  raw lines rendered for it     {figures['rendered']:8d}  of {figures['lines']:,}")
    print(f"  select last part + new frame  {figures['jump'] * 1000:8.1f} ms")


def main() -> None:
    report("200 parts, base64", big_message())
    report("nested 100 deep", nested_message(100))
    baseline = asyncio.run(open_screen(b"Subject: hi\r\n\r\nhello\r\n"))
    print(f"\nfor comparison, a 3-line message: first frame {baseline['first_frame'] * 1000:.1f} ms")


if __name__ == "__main__":
    main()
