"""What the inspector says about a node, without Textual: kinds and markers,
header explanations, encoded words, an HTML-to-text rendering, hex dumps.

Kept apart from the widgets so it can be tested on plain MimeNodes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.header import decode_header, make_header
from html.parser import HTMLParser

from mailsim.mime import MimeModel, MimeNode
from mailsim.ui.inspector.texts import Texts

#: One-cell markers per kind of part; the legend is in ``kind.*`` texts.
MARKERS = {
    "root": "✉",
    "message": "↪",
    "multipart": "▤",
    "text": "¶",
    "html": "◇",
    "image": "▣",
    "attachment": "⊕",
    "other": "·",
}

MIME_HEADERS = (
    "mime-version",
    "content-type",
    "content-disposition",
    "content-transfer-encoding",
    "content-id",
    "content-description",
    "content-language",
    "content-location",
    "content-md5",
)
_KNOWN_ENCODINGS = ("7bit", "8bit", "binary", "quoted-printable", "base64")
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")


def node_kind(node: MimeNode) -> str:
    """``root``, ``message``, ``multipart``, ``text``, ``html``, ``image``,
    ``attachment`` or ``other``: what the tree marks the node as."""
    if node.is_message:
        return "root"
    if node.encapsulated is not None:
        return "message"
    if node.maintype == "multipart":
        return "multipart"
    if node.disposition == "attachment" or (node.filename and node.maintype != "image"):
        return "attachment"
    if node.content_type == "text/html":
        return "html"
    if node.maintype == "text":
        return "text"
    if node.maintype == "image":
        return "image"
    return "other"


def human_size(octets: int) -> str:
    """``812 B``, ``12.4 kB``, ``25.1 MB`` (powers of 1000, as file managers show)."""
    if octets < 1000:
        return f"{octets} B"
    for unit in ("kB", "MB", "GB"):
        octets /= 1000
        if octets < 1000 or unit == "GB":
            return f"{octets:.1f} {unit}"
    return f"{octets} B"  # pragma: no cover


def section_label(node: MimeNode) -> str:
    """The label beside a node in the tree: its IMAP section (``2.1``),
    ``TEXT`` for a message whose body is multipart."""
    return node.label


def tree_label(node: MimeNode, texts: Texts) -> tuple[str, str, str, str]:
    """(marker, section, type, detail) of a node's row in the tree."""
    kind = node_kind(node)
    detail = human_size(node.size)
    if node.filename:
        detail += f" · {node.filename}"
    elif node.is_message and node.depth == 0:
        subject = node.header("subject")
        if subject:
            detail += f" · {' '.join(subject.split())}"
    return MARKERS[kind], section_label(node), node.content_type, detail


@dataclass(frozen=True)
class Explanation:
    """One explained header or parameter: the field as written and what it means."""

    topic: str
    text: str


def explain_node(node: MimeNode, texts: Texts) -> list[Explanation]:
    """Explanations of the MIME fields this node really carries, in header order."""
    found: list[Explanation] = []
    present = {field.name.lower(): field for field in node.headers}
    for name in MIME_HEADERS:
        header_field = present.get(name)
        if header_field is None:
            continue
        value = " ".join(header_field.value.split())
        found.append(Explanation(header_field.name, texts(f"header.{name}", value=value)))
        if name == "content-type":
            found.extend(_parameters(node.parameters, texts))
            if node.maintype == "multipart":
                found.append(Explanation("multipart", texts("topic.multipart", subtype=node.subtype)))
            elif node.encapsulated is not None:
                found.append(Explanation("message/rfc822", texts("topic.message")))
        elif name == "content-disposition":
            if node.disposition in ("inline", "attachment"):
                found.append(Explanation(node.disposition, texts(f"disposition.{node.disposition}")))
            found.extend(_parameters(node.disposition_parameters, texts))
        elif name == "content-transfer-encoding":
            encoding = node.transfer_encoding
            key = f"encoding.{encoding}" if encoding in _KNOWN_ENCODINGS else "encoding.other"
            found.append(Explanation(encoding, texts(key, value=encoding)))
    raw_block = node.header_bytes.decode("utf-8", "replace")
    if "*=" in raw_block or re.search(r"\*\d+\*?=", raw_block):
        found.append(Explanation("RFC 2231", texts("topic.rfc2231")))
    for raw, decoded in encoded_words(node):
        found.append(Explanation("RFC 2047", texts("topic.encoded-words", raw=raw, decoded=decoded)))
    return found


def _parameters(parameters: tuple[tuple[str, str], ...], texts: Texts) -> list[Explanation]:
    found = []
    for name, value in parameters:
        key = f"parameter.{name.lower()}"
        text = texts(key, value=value) if texts.has(key) else texts("parameter.other", name=name, value=value)
        found.append(Explanation(f"{name}=", text))
    return found


def encoded_words(node: MimeNode, limit: int = 4) -> list[tuple[str, str]]:
    """(as sent, decoded) for the header fields written with RFC 2047 words."""
    found = []
    for header_field in node.headers:
        raw = header_field.raw.decode("ascii", "replace").partition(":")[2]
        raw = " ".join(raw.split())
        if not _ENCODED_WORD.search(raw):
            continue
        try:
            decoded = str(make_header(decode_header(raw)))
        except Exception:
            decoded = header_field.value
        found.append((f"{header_field.name}: {raw}", " ".join(decoded.split())))
        if len(found) >= limit:
            break
    return found


def defect_text(defect, texts: Texts) -> str:
    """A defect as a teaching point, in the current language."""
    key = f"defect.{defect.code}"
    if not texts.has(key):
        return texts("defect.other", kind=defect.kind, detail=defect.detail or "—")
    return texts(key, detail=defect.detail or "—")


def all_defects(node: MimeNode) -> list:
    """Structural, header and decoding defects of one node, without repeats."""
    seen = set()
    result = []
    for defect in (*node.defects, *node.payload_defects):
        key = (defect.code, defect.detail)
        if key not in seen:
            seen.add(key)
            result.append(defect)
    return result


def hex_dump(data: bytes, *, width: int = 16, limit: int = 512) -> list[str]:
    """``offset  hex bytes  |ascii|`` lines of the first ``limit`` octets."""
    lines = []
    for offset in range(0, min(len(data), limit), width):
        chunk = data[offset : offset + width]
        hex_part = " ".join(f"{byte:02x}" for byte in chunk).ljust(width * 3 - 1)
        ascii_part = "".join(chr(byte) if 32 <= byte < 127 else "." for byte in chunk)
        lines.append(f"{offset:08x}  {hex_part}  {ascii_part}")
    return lines


class _TextRenderer(HTMLParser):
    _BLOCK = {"p", "div", "br", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table",
              "blockquote", "pre", "hr", "section", "article", "header", "footer"}
    _SKIP = {"script", "style", "head", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._skip = 0
        self._href: list[str | None] = []
        self._pre = 0

    def handle_starttag(self, tag, attrs):
        if tag in self._SKIP:
            self._skip += 1
        elif tag == "li":
            self.out.append("\n• ")
        elif tag in self._BLOCK:
            self.out.append("\n")
            if tag == "hr":
                self.out.append("────────\n")
            if tag == "pre":
                self._pre += 1
        elif tag == "img":
            alt = dict(attrs).get("alt") or dict(attrs).get("src") or ""
            self.out.append(f"[{alt}]")
        if tag == "a":
            self._href.append(dict(attrs).get("href"))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag == "a":
            self._href.pop()

    def handle_endtag(self, tag):
        if tag in self._SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag == "a" and self._href:
            href = self._href.pop()
            if href and not href.startswith("#"):
                self.out.append(f" <{href}>")
        elif tag in self._BLOCK:
            self.out.append("\n")
            if tag == "pre":
                self._pre = max(0, self._pre - 1)

    def handle_data(self, data):
        if self._skip:
            return
        self.out.append(data if self._pre else re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """A plain-text rendering of HTML: blocks on their own lines, list items
    bulleted, link targets after the link text; scripts and styles dropped."""
    renderer = _TextRenderer()
    try:
        renderer.feed(html)
        renderer.close()
    except Exception:  # html.parser is lenient; never let a page break the view
        pass
    text = "".join(renderer.out)
    lines = [line.strip() for line in text.splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def count_parts(model: MimeModel) -> int:
    return sum(1 for _ in model.walk())
