"""The inspector as a student sees it, compared with the accepted SVG snapshots.

Accept a change only after looking at the report:
`pytest tests/ui_inspector --snapshot-update`.
"""

from __future__ import annotations

import pytest

from mailsim.ui.inspector.app import make_inspector_app

from .samples import ALTERNATIVE, CARTA, FORWARDED, MALFORMED

WIDE = (120, 40)
SMALL = (80, 24)

# (message, keys that select the part worth looking at)
CASES = {
    "carta-attachment": (CARTA.read_bytes(), ["down", "down"]),
    "alternative-html": (ALTERNATIVE.read_bytes(), ["down", "down"]),
    "forwarded": (FORWARDED.read_bytes(), ["down", "down"]),
    "malformed": (MALFORMED, []),
}


@pytest.mark.parametrize("size", [WIDE, SMALL], ids=["120x40", "80x24"])
@pytest.mark.parametrize("case", list(CASES))
def test_inspector(snap_compare, case, size):
    raw, keys = CASES[case]
    assert snap_compare(make_inspector_app(raw, title=case), press=keys, terminal_size=size)


def test_inspector_decoded_only_in_spanish(snap_compare):
    app = make_inspector_app(CARTA.read_bytes(), title="carta", lang="es")
    assert snap_compare(app, press=["down", "e"], terminal_size=WIDE)
