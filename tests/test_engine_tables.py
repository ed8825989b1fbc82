"""Every engine carries its protocol's one transition table (the state panel, the
suggestions and the lesson validator all read it)."""

from __future__ import annotations

import sys

import pytest

from mailsim.events import Protocol
from mailsim.protocol.registry import ENGINES


@pytest.mark.parametrize("protocol", list(Protocol))
def test_engine_class_carries_its_module_table(protocol: Protocol) -> None:
    engine = ENGINES[protocol]
    module_table = sys.modules[engine.__module__].TRANSITIONS
    assert engine.TRANSITIONS is module_table
    states = {state for state, _verb in module_table}
    assert engine.initial_state in states
    assert set(engine.COMMANDS) <= {verb for _state, verb in module_table} | set(getattr(engine, "OBSOLETE", ()))
