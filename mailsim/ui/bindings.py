"""Key bindings whose descriptions are string keys, shown in the footer in the
student's language."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from textual.binding import BindingsMap


def localized(bindings: BindingsMap, translate: Callable[[str], str], prefix: str) -> BindingsMap:
    """A copy of `bindings` with each description that starts with `prefix` translated."""
    result = BindingsMap()
    for _key, binding in bindings:
        text = translate(binding.description) if binding.description.startswith(prefix) else binding.description
        result._add_binding(dataclasses.replace(binding, description=text, tooltip=text))
    return result
