"""The MIME inspector: a message's tree of parts, each part explained, and the
raw source with the selected part's octets highlighted."""

from mailsim.ui.inspector.part_tree import PartTree
from mailsim.ui.inspector.raw_view import RawSourceView
from mailsim.ui.inspector.screen import InspectorScreen

__all__ = ["InspectorScreen", "PartTree", "RawSourceView"]
