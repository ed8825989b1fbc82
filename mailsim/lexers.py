"""Pygments lexers for SMTP, POP3 and IMAP dialogs, and the style that colours them.

The transcript view highlights whole sessions with these lexers, and ``pygmentize -l smtp``
(or ``pop3``, ``imap``) does the same on a saved transcript. A transcript is written in
the RFC style, each line optionally prefixed with ``C: `` (client) or ``S: `` (server);
bare protocol lines work too, and then the lexer tells client from server by content.
Line endings may be CRLF or LF. RFC examples indent after the prefix (``S:    +OK``) and
write stand-ins such as ``<the POP3 server sends message 1>``; both are understood.

The lexers follow the dialog: after SMTP's 354 the client's lines are a message up to the
lone dot; after POP3's RETR/TOP (LIST/UIDL/CAPA without argument) a ``+OK`` opens a
multi-line answer; after an IMAP ``{n}`` exactly n octets (UTF-8, CRLF line ends, line
prefixes not counted) are the literal. A transcript whose count is wrong (a hand-written
example) ends the literal at the next status line or the other side's line.

Reply classes get their own token types, one per :class:`mailsim.events.ReplyClass`, so
the UI colours a 250, a ``+OK`` and an IMAP ``OK`` alike (``REPLY_TOKENS`` maps one onto
the other). They live under ``Token.Reply``, outside Pygments' standard tree, so only a
style that knows them (``MailsimStyle``, ``MailsimDarkStyle``) colours them.

Which token each construct gets:

===============================================  ==========================================
Construct                                        Token
===============================================  ==========================================
``C:`` / ``S:`` line prefix                       ``Generic.Prompt``
RFC stand-in line ``<open connection>``          ``Comment``
command verb (``MAIL``, ``RETR``, ``FETCH``),    ``Keyword``
SMTP ``FROM:`` / ``TO:``, IMAP ``UID``, the
untagged response name (``EXISTS``, ``FETCH``)
2xx, ``+OK``, IMAP ``OK`` / ``PREAUTH``           ``Reply.Success``
3xx, ``+`` continuation                          ``Reply.Intermediate``
4xx                                              ``Reply.Transient``
5xx                                              ``Reply.Permanent``
``-ERR``, IMAP ``NO``                            ``Reply.Negative``
IMAP ``BYE``                                     ``Reply.Closing``
IMAP ``BAD``                                     ``Reply.Bad``
IMAP untagged ``*``                              ``Reply.Data``
reply text                                       ``Text``
``-`` of an SMTP multi-line reply                ``Punctuation``
enhanced status code ``5.1.1``                   ``Number``
path / mailbox ``<alice@mailsim.test>``          ``Punctuation`` ``<>``, ``Name.Label`` inside
domain (``EHLO client.mailsim.test``)            ``Name.Function``
ESMTP parameter ``SIZE=1234``                    ``Name.Attribute``, ``Operator``, value
                                                 (``Number.Integer`` or ``String``)
SASL mechanism (``AUTH PLAIN``)                  ``Name.Builtin``
SASL data (base64 lines after 334 / ``+``)       ``String``
other command argument                           ``String`` (numbers ``Number.Integer``)
response code ``[IN-USE]``, ``[UIDNEXT 5]``      ``Punctuation`` ``[]``, ``Name.Constant``
                                                 name, arguments as IMAP data below
message (SMTP DATA, POP3 RETR/TOP, IMAP          Pygments' ``EmailLexer`` (header names
``BODY[]``/``RFC822``/``APPEND`` literals)       ``Name.Tag``, addresses ``Name.Label``,
                                                 body ``Text``...); what it cannot place is
                                                 ``Text``
dot-stuffing ``.`` of a message line             ``String.Escape``
lone ``.`` ending DATA or a POP3 multi-line      ``Punctuation.Marker``
POP3 LIST/UIDL lines                             ``Number.Integer`` (+ ``String`` for a UID)
POP3 CAPA lines                                  ``Name.Builtin`` capability, arguments
IMAP tag                                         ``Name.Tag``
IMAP ``DONE`` (ends IDLE)                        ``Keyword``
IMAP ``NIL``                                     ``Keyword.Constant``
IMAP flag / attribute ``\\Seen``, ``\\Noselect``   ``Name.Builtin``
IMAP number, sequence set ``1:*``, ``2,4:7``     ``Number.Integer``
IMAP quoted string                               ``String.Double``
IMAP literal ``{123}`` / ``{12+}`` / ``~{5}``     ``Punctuation`` braces, ``Number.Integer``
                                                 count, ``Operator`` ``+``/``~``; its
                                                 content ``String`` (or a message, above)
IMAP ``( ) [ ] < >``                             ``Punctuation``
IMAP data item / search key (``FLAGS``,          ``Name.Attribute``
``BODY.PEEK``, ``UIDNEXT``, ``SINCE``)
IMAP other atom (``INBOX``)                      ``Name``
===============================================  ==========================================

The lexers never emit ``Error``: a line they do not understand is ``Text``, because the
transcript of a student's session legitimately contains wrong commands.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from types import MappingProxyType

from pygments.lexer import (ExtendedRegexLexer, RegexLexer, bygroups,
                            default, do_insertions, include, words)
from pygments.lexers.email import EmailLexer
from pygments.style import Style
from pygments.token import (Comment, Error, Generic, Keyword, Name, Number, Operator,
                            Punctuation, String, Text, Token, Whitespace, _TokenType)

from mailsim.events import ReplyClass

__all__ = [
    "Reply", "REPLY_TOKENS", "SmtpLexer", "Pop3Lexer", "ImapLexer",
    "MailsimStyle", "MailsimDarkStyle",
]

Reply = Token.Reply
"""Parent of the reply-class tokens: ``Reply.Success``, ``.Intermediate``, ``.Transient``,
``.Permanent``, ``.Bad``, ``.Data``."""

REPLY_TOKENS: Mapping[ReplyClass, _TokenType] = MappingProxyType({
    ReplyClass.SUCCESS: Reply.Success,
    ReplyClass.INTERMEDIATE: Reply.Intermediate,
    ReplyClass.TRANSIENT: Reply.Transient,
    ReplyClass.PERMANENT: Reply.Permanent,
    ReplyClass.BAD: Reply.Bad,
    ReplyClass.DATA: Reply.Data,
    ReplyClass.NEGATIVE: Reply.Negative,
    ReplyClass.CLOSING: Reply.Closing,
})

_FLAGS = re.MULTILINE | re.IGNORECASE
_SPACE = r"[^\S\n]"
# RFC examples indent after the prefix ("S:    +OK"): a protocol line's prefix takes all of
# it, while inside a message only the indentation of the line that opened it is prefix.
_CLIENT = r"(?:C:[^\S\n]*)?"   # optional "C: " prefix, as a regex fragment
_SERVER = r"(?:S:[^\S\n]*)?"
_LINE_PREFIX = re.compile(r"[CS]:([^\S\n]*)")
_NARRATIVE = re.compile(r"[^\S\n]*<[^<>@\n]*>[^\S\n]*")   # "<the server sends message 1>"
_LINES = re.compile(r"[^\n]*\n|[^\n]+")
_BASE64_LINE = r"[A-Za-z0-9+/=]*"
_PATH = r"(<)([^<>\s]*@[^<>\s]*|)(>)"   # <alice@mailsim.test>, or the null path <>
_NOTHING = bygroups()  # an action for a lookahead that only changes state
_NARRATIVE_LINE = (rf"^([CS]:{_SPACE}*)(<[^<>@\n]*>)({_SPACE}*)(?=\n|$)",
                   bygroups(Generic.Prompt, Comment, Whitespace))


# -- messages embedded in a dialog -------------------------------------------------------

def _indent_of_line_at(text: str, pos: int) -> int:
    """The indentation after the ``C:``/``S:`` prefix of the line holding ``pos`` (1 if none)."""
    prefix = _LINE_PREFIX.match(text, text.rfind("\n", 0, pos) + 1)
    return len(prefix.group(1)) if prefix else 1


def _split_prefix(line: str, indent: int) -> tuple[str, str]:
    """A content line as (prefix, rest): ``C:``/``S:`` and up to ``indent`` spaces."""
    prefix = _LINE_PREFIX.match(line)
    if not prefix:
        return "", line
    cut = prefix.start(1) + min(len(prefix.group(1)), indent)
    return line[:cut], line[cut:]


def _split_prefixed(text: str, indent: int) -> list[tuple[str, str]]:
    return [_split_prefix(line, indent) for line in _LINES.findall(text)]


def _embedded_tokens(start: int, pieces: list[tuple[str, str]], *, as_message: bool,
                     dot_stuffed: bool, options: dict) -> Iterator[tuple[int, _TokenType, str]]:
    """Tokens for lines of embedded content beginning at ``start``.

    The line prefixes (and SMTP/POP3 dot-stuffing) are taken out, the rest is lexed as one
    piece — as an e-mail message when ``as_message`` — and the prefixes are put back.
    """
    insertions: list[tuple[int, list[tuple[int, _TokenType, str]]]] = []
    content: list[str] = []
    length = 0
    for prefix, rest in pieces:
        inserted = [(0, Generic.Prompt, prefix)] if prefix else []
        if dot_stuffed and rest.startswith(".."):  # RFC 5321 §4.5.2, RFC 1939 §3
            inserted.append((0, String.Escape, "."))
            rest = rest[1:]
        elif _NARRATIVE.fullmatch(rest.rstrip("\r\n")):   # an RFC example's stand-in
            narrative = rest.rstrip("\r\n")
            inserted.append((0, Comment, narrative))
            rest = rest[len(narrative):]
        if inserted:
            insertions.append((length, inserted))
        content.append(rest)
        length += len(rest)
    body = "".join(content)
    if as_message:
        tokens = ((i, Text if t in Error else t, v)
                  for i, t, v in EmailLexer(**options).get_tokens_unprocessed(body))
    else:
        tokens = _plain_content_tokens(body)
    position, pending_token, pending = start, None, ""
    for _, token, value in do_insertions(insertions, tokens):
        if token is pending_token:
            pending += value
            continue
        if pending:
            yield position, pending_token, pending
            position += len(pending)
        pending_token, pending = token, value
    if pending:
        yield position, pending_token, pending


def _plain_content_tokens(body: str) -> Iterator[tuple[int, _TokenType, str]]:
    for match in re.finditer(r"[^\n]+|\n", body):
        yield match.start(), (Whitespace if match.group() == "\n" else String), match.group()


def _message_until_dot(*, dot_stuffed: bool = True):
    """Callback for the lines of a message sent between a go-ahead and a lone dot."""
    def callback(lexer, match):
        indent = _indent_of_line_at(match.string, match.start() - 1)
        yield from _embedded_tokens(match.start(), _split_prefixed(match.group(), indent),
                                    as_message=True, dot_stuffed=dot_stuffed,
                                    options=lexer.options)
    return callback


def _message_lines(sender: str, other: str) -> str:
    """Regex for message lines up to (not including) the lone dot or the other side's line."""
    end = rf"(?:{sender}:{_SPACE}*)?\.{_SPACE}*$"
    line = rf"(?!{end})(?!{other}:{_SPACE})(?:[^\n]*\n|[^\n]+\Z)"
    return rf"(?:{line})+"


def _lone_dot(sender: str) -> tuple[str, object, str]:
    return (rf"^((?:{sender}:{_SPACE}*)?)(\.)({_SPACE}*)(\n|$)",
            bygroups(Generic.Prompt, Punctuation.Marker, Whitespace, Whitespace), "#pop")


def _sasl_states() -> dict[str, list]:
    """The states of an AUTH command, shared by SMTP and POP3: the mechanism, an
    optional initial response, then the client's answers to challenges."""
    return {
        "auth-arguments": [
            (r"\n", Whitespace, "#pop"),
            (rf"({_SPACE}+)([a-z0-9_-]+)", bygroups(Whitespace, Name.Builtin), "sasl-initial"),
            (rf"{_SPACE}+", Whitespace),
            (r"[^\s]+", String),
        ],
        "sasl-initial": [
            (r"\n", Whitespace, "#pop:2"),
            (rf"{_SPACE}+", Whitespace),
            (r"[^\s]+", String),
        ],
        "sasl-response": _sasl_response_state(),
    }


def _sasl_response_state() -> list:
    """The client line that answers a SASL challenge: base64, or ``*`` to cancel."""
    return [
        (r"^(?=S:)", _NOTHING, "#pop"),
        (rf"^({_CLIENT})(\*)({_SPACE}*)(\n|$)",
         bygroups(Generic.Prompt, Keyword, Whitespace, Whitespace), "#pop"),
        (rf"^({_CLIENT})({_BASE64_LINE})({_SPACE}*)(\n|$)",
         bygroups(Generic.Prompt, String, Whitespace, Whitespace), "#pop"),
        default("#pop"),
    ]


# -- SMTP ---------------------------------------------------------------------------------

_SMTP_CLASS_TOKENS = {"2": Reply.Success, "3": Reply.Intermediate,
                      "4": Reply.Transient, "5": Reply.Permanent}


def _smtp_code(lexer, match, ctx=None):
    yield match.start(), _SMTP_CLASS_TOKENS.get(match.group()[0], Number.Integer), match.group()


_SMTP_REPLY_START = rf"^({_SERVER})(\d{{3}})"


class SmtpLexer(RegexLexer):
    """An SMTP dialog (RFC 5321): commands, replies by class, the DATA message."""

    name = "SMTP"
    aliases = ["smtp", "esmtp"]
    filenames = ["*.smtp"]
    mimetypes = ["text/x-smtp"]
    url = "https://www.rfc-editor.org/rfc/rfc5321"
    flags = _FLAGS

    tokens = {
        "root": [
            (r"\n", Whitespace),
            _NARRATIVE_LINE,
            # 354: the message follows, up to the lone dot; 334: a SASL challenge.
            (rf"^({_SERVER})(354)({_SPACE}|(?=\n)|$)",
             bygroups(Generic.Prompt, _smtp_code, Whitespace), ("data", "reply-text")),
            (rf"^({_SERVER})(334)({_SPACE}|(?=\n)|$)",
             bygroups(Generic.Prompt, _smtp_code, Whitespace), ("sasl-response", "reply-text")),
            (rf"{_SMTP_REPLY_START}(-)", bygroups(Generic.Prompt, _smtp_code, Punctuation),
             "reply-text"),
            (rf"{_SMTP_REPLY_START}({_SPACE}|(?=\n)|$)",
             bygroups(Generic.Prompt, _smtp_code, Whitespace), "reply-text"),
            (rf"^(S:{_SPACE}*)", Generic.Prompt, "server-text"),
            (rf"^({_CLIENT})(MAIL)({_SPACE}+)(FROM:)",
             bygroups(Generic.Prompt, Keyword, Whitespace, Keyword), "arguments"),
            (rf"^({_CLIENT})(RCPT)({_SPACE}+)(TO:)",
             bygroups(Generic.Prompt, Keyword, Whitespace, Keyword), "arguments"),
            (rf"^({_CLIENT})(AUTH)\b", bygroups(Generic.Prompt, Keyword), "auth-arguments"),
            (rf"^({_CLIENT})"
             r"(EHLO|HELO|LHLO|MAIL|RCPT|DATA|BDAT|RSET|VRFY|EXPN|HELP|NOOP|QUIT|"
             r"STARTTLS|ETRN|TURN|ATRN|BURL)\b",
             bygroups(Generic.Prompt, Keyword), "arguments"),
            (rf"^({_CLIENT})([^\s]+)", bygroups(Generic.Prompt, Name), "arguments"),
            (rf"^(C:{_SPACE}*)", Generic.Prompt, "arguments"),
            (r"[^\n]+", Text),
        ],
        # An enhanced status code (RFC 3463) comes first in the text, if at all.
        "reply-text": [
            (r"([245]\.\d{1,3}\.\d{1,3})(?=\s|$)", Number, ("#pop", "reply-rest")),
            default(("#pop", "reply-rest")),
        ],
        "reply-rest": [
            (r"\n", Whitespace, "#pop"),
            (_PATH, bygroups(Punctuation, Name.Label, Punctuation)),
            (r"[^<\n]+|<", Text),
        ],
        "server-text": [
            (r"\n", Whitespace, "#pop"),
            (r"[^\n]+", Text),
        ],
        "arguments": [
            (r"\n", Whitespace, "#pop"),
            (rf"{_SPACE}+", Whitespace),
            (_PATH, bygroups(Punctuation, Name.Label, Punctuation)),
            (r"([a-z0-9][a-z0-9-]*)(=)(\d+)(?=\s|$)",
             bygroups(Name.Attribute, Operator, Number.Integer)),
            (r"([a-z0-9][a-z0-9-]*)(=)(\S*)", bygroups(Name.Attribute, Operator, String)),
            (r"\[[^\]\n]*\]", Name.Function),                      # address literal
            (r"[a-z0-9-]+(?:\.[a-z0-9-]+)+\.?(?=\s|$)", Name.Function),  # domain
            (r"\d+(?=\s|$)", Number.Integer),
            (r"[^\s<]+|<", String),
        ],
        **_sasl_states(),
        "data": [
            (_message_lines("C", "S"), _message_until_dot()),
            _lone_dot("C"),
            default("#pop"),
        ],
    }


# -- POP3 ---------------------------------------------------------------------------------

_POP3_OK = rf"^({_SERVER})(\+OK)(?=\s|$)"
_POP3_ERR = rf"^({_SERVER})(-ERR)(?=\s|$)"


class Pop3Lexer(RegexLexer):
    """A POP3 dialog (RFC 1939, 2449): commands, +OK/-ERR, multi-line answers up to the dot."""

    name = "POP3"
    aliases = ["pop3", "pop"]
    filenames = ["*.pop3"]
    mimetypes = ["text/x-pop3"]
    url = "https://www.rfc-editor.org/rfc/rfc1939"
    flags = _FLAGS

    tokens = {
        "root": [
            (r"\n", Whitespace),
            _NARRATIVE_LINE,
            (_POP3_OK, bygroups(Generic.Prompt, Reply.Success), "status-text"),
            (_POP3_ERR, bygroups(Generic.Prompt, Reply.Negative), "status-text"),
            (rf"^({_SERVER})(\+)({_SPACE}|(?=\n)|$)",
             bygroups(Generic.Prompt, Reply.Intermediate, Whitespace),
             ("sasl-response", "challenge")),
            (rf"^(S:{_SPACE}*)", Generic.Prompt, "server-text"),
            (rf"^({_CLIENT})(RETR|TOP)\b", bygroups(Generic.Prompt, Keyword),
             ("await-message", "arguments")),
            (rf"^({_CLIENT})(LIST|UIDL|CAPA)(?={_SPACE}*$)", bygroups(Generic.Prompt, Keyword),
             ("await-listing", "arguments")),
            (rf"^({_CLIENT})(AUTH)\b", bygroups(Generic.Prompt, Keyword), "auth-arguments"),
            (rf"^({_CLIENT})"
             r"(USER|PASS|APOP|STAT|LIST|UIDL|DELE|NOOP|RSET|QUIT|STLS|UTF8|LANG|CAPA)\b",
             bygroups(Generic.Prompt, Keyword), "arguments"),
            (rf"^({_CLIENT})([^\s]+)", bygroups(Generic.Prompt, Name), "arguments"),
            (rf"^(C:{_SPACE}*)", Generic.Prompt, "arguments"),
            (r"[^\n]+", Text),
        ],
        # After RETR/TOP (or LIST/UIDL/CAPA): a +OK opens the multi-line answer.
        "await-message": [
            (_POP3_OK, bygroups(Generic.Prompt, Reply.Success), ("#pop", "message", "status-text")),
            (_POP3_ERR, bygroups(Generic.Prompt, Reply.Negative), ("#pop", "status-text")),
            include("root"),
        ],
        "await-listing": [
            (_POP3_OK, bygroups(Generic.Prompt, Reply.Success), ("#pop", "listing", "status-text")),
            (_POP3_ERR, bygroups(Generic.Prompt, Reply.Negative), ("#pop", "status-text")),
            include("root"),
        ],
        "status-text": [
            (r"\n", Whitespace, "#pop"),
            (rf"({_SPACE}*)(\[)([^\]\s]+)(\])",
             bygroups(Whitespace, Punctuation, Name.Constant, Punctuation), "free-text"),
            default("free-text"),
        ],
        "server-text": [
            (r"\n", Whitespace, "#pop"),
            (r"[^\n]+", Text),
        ],
        "free-text": [
            (r"\n", Whitespace, "#pop:2"),   # the end of the line ends "status-text" too
            (_PATH, bygroups(Punctuation, Name.Label, Punctuation)),
            (r"\d+(?=\s|$)", Number.Integer),
            (rf"{_SPACE}+", Whitespace),
            (r"[^\s<]+|<", Text),
        ],
        "challenge": [
            (r"\n", Whitespace, "#pop"),
            (r"[^\n]+", String),
        ],
        "arguments": [
            (r"\n", Whitespace, "#pop"),
            (rf"{_SPACE}+", Whitespace),
            (r"\d+(?=\s|$)", Number.Integer),
            (r"[^\s]+", String),
        ],
        **_sasl_states(),
        "message": [
            (_message_lines("S", "C"), _message_until_dot()),
            _lone_dot("S"),
            default("#pop"),
        ],
        "listing": [
            _lone_dot("S"),
            (r"^(?=C:)", _NOTHING, "#pop"),
            (rf"^({_SERVER})(\d+)({_SPACE}+)(\d+)(?=\s|$)",
             bygroups(Generic.Prompt, Number.Integer, Whitespace, Number.Integer), "listing-rest"),
            (rf"^({_SERVER})(\d+)({_SPACE}+)(\S+)",
             bygroups(Generic.Prompt, Number.Integer, Whitespace, String), "listing-rest"),
            (rf"^({_SERVER})([a-z0-9][\w.-]*)", bygroups(Generic.Prompt, Name.Builtin),
             "listing-rest"),
            (rf"^({_SERVER})", Generic.Prompt, "listing-rest"),
        ],
        "listing-rest": [
            (r"\n", Whitespace, "#pop"),
            (rf"{_SPACE}+", Whitespace),
            (r"\d+(?=\s|$)", Number.Integer),
            (r"[^\s]+", String),
        ],
    }




# -- IMAP ---------------------------------------------------------------------------------

_IMAP_STATUS_TOKENS = {"OK": Reply.Success, "PREAUTH": Reply.Success, "NO": Reply.Negative,
                       "BAD": Reply.Bad, "BYE": Reply.Closing}
_TAG = r"""[^\s()\[\]{}"\\%*+]+"""
_ATOM_END = r"(?=[\s()\[\]<>]|$)"
_IMAP_STATUS_LINE = re.compile(
    rf"(?:[CS]:{_SPACE}*)?(?:\*|{_TAG}){_SPACE}+(?:OK|NO|BAD|BYE|PREAUTH)\b", re.IGNORECASE)
_IMAP_CONTINUATION_LINE = re.compile(rf"((?:S:{_SPACE}*)?)(\+)({_SPACE}?)([^\n]*)(\n?)",
                                     re.IGNORECASE)
# A literal holds a message (or its header) after these fetch items, and in APPEND.
_MESSAGE_ITEM_BEFORE = re.compile(
    r"(?:BODY(?:\.PEEK)?\[(?:HEADER[^\]]*)?\]|BINARY(?:\.PEEK)?\[\]|RFC822(?:\.HEADER)?)"
    rf"(?:<\d+>)?{_SPACE}*$", re.IGNORECASE)
_APPEND_BEFORE = re.compile(rf"^{_CLIENT}{_TAG}{_SPACE}+APPEND{_SPACE}", re.IGNORECASE)
_IMAP_COMMANDS = (
    "CAPABILITY", "NOOP", "LOGOUT", "STARTTLS", "LOGIN", "SELECT", "EXAMINE",
    "CREATE", "DELETE", "RENAME", "SUBSCRIBE", "UNSUBSCRIBE", "LIST", "LSUB", "STATUS",
    "APPEND", "CHECK", "CLOSE", "EXPUNGE", "SEARCH", "FETCH", "STORE", "COPY", "MOVE",
    "IDLE", "NAMESPACE", "ENABLE", "UNSELECT", "ID", "GETQUOTA", "GETQUOTAROOT", "SETQUOTA",
    "GETACL", "SETACL", "MYRIGHTS", "SORT", "THREAD",
)
_IMAP_ITEMS = (
    # FETCH and STORE data items (RFC 3501 §6.4.5, §6.4.6, RFC 3516)
    "FLAGS", "UID", "INTERNALDATE", "RFC822", "RFC822.SIZE", "RFC822.HEADER", "RFC822.TEXT",
    "ENVELOPE", "BODY", "BODY.PEEK", "BODYSTRUCTURE", "BINARY", "BINARY.PEEK", "BINARY.SIZE",
    "HEADER", "HEADER.FIELDS", "HEADER.FIELDS.NOT", "TEXT", "MIME", "ALL", "FAST", "FULL",
    "MODSEQ",
    # STATUS items (§6.3.10)
    "MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "SIZE", "HIGHESTMODSEQ",
    # SEARCH keys (§6.4.4)
    "ANSWERED", "DELETED", "DRAFT", "FLAGGED", "NEW", "OLD", "SEEN", "UNANSWERED",
    "UNDELETED", "UNDRAFT", "UNFLAGGED", "FROM", "TO", "CC", "BCC", "SUBJECT", "SINCE",
    "BEFORE", "ON", "SENTSINCE", "SENTBEFORE", "SENTON", "LARGER", "SMALLER", "KEYWORD",
    "UNKEYWORD", "NOT", "OR", "CHARSET",
)


def _imap_status(lexer, match, ctx=None):
    word = match.group()
    yield match.start(), _IMAP_STATUS_TOKENS[word.upper()], word


def _imap_literal(*, from_client: bool):
    """Callback for ``{n}`` (``{n+}``, ``~{n}``): the marker, then exactly n octets.

    The octets are counted as on the wire: UTF-8, each line end a CRLF, line prefixes
    not included. A synchronizing client literal may be preceded by the server's ``+``.
    When the transcript runs out of lines that can belong to the literal (the other side
    speaks, or a status line comes) before n octets, the literal ends there and the lexer
    starts a fresh line: a hand-written count (``<342 octets>``) must not swallow the rest.
    """
    own_side = "C" if from_client else "S"

    def callback(lexer, match, ctx):
        text = ctx.text
        marker = (Operator, Punctuation, Number.Integer, Operator, Punctuation, Whitespace,
                  Whitespace)
        for group, token in enumerate(marker, start=1):
            if match.group(group):
                yield match.start(group), token, match.group(group)
        pos = ctx.pos = match.end()
        if not match.group(7):          # the marker ends the transcript
            return
        line_start = text.rfind("\n", 0, match.start()) + 1
        before = text[line_start:match.start()]
        as_message = bool(_MESSAGE_ITEM_BEFORE.search(before)
                          or (from_client and _APPEND_BEFORE.match(before)))
        if from_client and not match.group(4):
            go_ahead = _IMAP_CONTINUATION_LINE.match(text, pos)
            if go_ahead:
                for group, token in enumerate((Generic.Prompt, Reply.Intermediate, Whitespace,
                                               Text, Whitespace), start=1):
                    if go_ahead.group(group):
                        yield go_ahead.start(group), token, go_ahead.group(group)
                pos = go_ahead.end()
            elif _IMAP_STATUS_LINE.match(text, pos):    # refused: no literal follows
                ctx.pos = pos
                del ctx.stack[1:]
                return
        content_start = pos
        remaining = int(match.group(3))
        indent = _indent_of_line_at(text, match.start())
        pieces: list[tuple[str, str]] = []
        while remaining > 0 and pos < len(text):
            line_end = text.find("\n", pos)
            line_end = len(text) if line_end < 0 else line_end + 1
            line = text[pos:line_end]
            prefix_match = _LINE_PREFIX.match(line)
            if prefix_match and prefix_match.group()[0].upper() != own_side:
                break
            if _IMAP_STATUS_LINE.match(line):
                break
            prefix, rest = _split_prefix(line, indent)
            if not pieces and _NARRATIVE.fullmatch(rest.rstrip("\r\n")):
                pieces.append((prefix, rest))   # "<342 octets of header data>"
                pos = line_end
                remaining = 0
                break
            content = rest.rstrip("\n")
            if content != rest:
                content = content.removesuffix("\r")   # CRLF is two octets, not three
            content_octets = len(content.encode("utf-8", "surrogatepass"))
            if rest.endswith("\n") and content_octets < remaining:
                pieces.append((prefix, rest))
                remaining = max(0, remaining - content_octets - 2)
                pos = line_end
                continue
            cut = _chars_within(content, remaining)
            pieces.append((prefix, content[:cut]))
            remaining = 0
            pos += len(prefix) + cut
        yield from _embedded_tokens(content_start, pieces, as_message=as_message,
                                    dot_stuffed=False, options=lexer.options)
        ctx.pos = pos
        if remaining > 0 and pos < len(text):
            del ctx.stack[1:]
    return callback


def _chars_within(content: str, octets: int) -> int:
    """How many leading characters of ``content`` fit in ``octets`` UTF-8 octets."""
    used = 0
    for index, char in enumerate(content):
        used += len(char.encode("utf-8", "surrogatepass"))
        if used > octets:
            return index
    return len(content)


_LITERAL = rf"(~?)(\{{)(\d+)(\+?)(\}})({_SPACE}*)(\n?)"


class ImapLexer(ExtendedRegexLexer):
    """An IMAP4rev1 dialog (RFC 3501): tags, untagged data, continuations, literals."""

    name = "IMAP"
    aliases = ["imap", "imap4"]
    filenames = ["*.imap"]
    mimetypes = ["text/x-imap"]
    url = "https://www.rfc-editor.org/rfc/rfc3501"
    flags = _FLAGS

    tokens = {
        "root": [
            (r"\n", Whitespace),
            _NARRATIVE_LINE,
            (rf"^({_SERVER})(\*)({_SPACE}+)(OK|NO|BAD|BYE|PREAUTH)\b",
             bygroups(Generic.Prompt, Reply.Data, Whitespace, _imap_status), "resp-text"),
            (rf"^({_SERVER})(\*)({_SPACE}+)(\d+)({_SPACE}+)([a-z]+)\b",
             bygroups(Generic.Prompt, Reply.Data, Whitespace, Number.Integer, Whitespace,
                      Keyword), "response"),
            (rf"^({_SERVER})(\*)({_SPACE}+)([a-z][\w.-]*)",
             bygroups(Generic.Prompt, Reply.Data, Whitespace, Keyword), "response"),
            (rf"^({_SERVER})(\*)", bygroups(Generic.Prompt, Reply.Data), "response"),
            (rf"^({_SERVER})(\+)({_SPACE}|(?=\n)|$)",
             bygroups(Generic.Prompt, Reply.Intermediate, Whitespace),
             ("sasl-response", "human-text")),
            (rf"^({_SERVER})({_TAG})({_SPACE}+)(OK|NO|BAD)\b",
             bygroups(Generic.Prompt, Name.Tag, Whitespace, _imap_status), "resp-text"),
            (rf"^(S:{_SPACE}*)", Generic.Prompt, "response"),
            (rf"^({_CLIENT})(DONE)({_SPACE}*)(?=\n|$)",     # ends IDLE (RFC 2177)
             bygroups(Generic.Prompt, Keyword, Whitespace)),
            (rf"^({_CLIENT})({_TAG})({_SPACE}+)(AUTHENTICATE)({_SPACE}+)([\w-]+)",
             bygroups(Generic.Prompt, Name.Tag, Whitespace, Keyword, Whitespace, Name.Builtin),
             "sasl-initial"),
            (rf"^({_CLIENT})({_TAG})({_SPACE}+)(UID)({_SPACE}+)([a-z]+)\b",
             bygroups(Generic.Prompt, Name.Tag, Whitespace, Keyword, Whitespace, Keyword),
             "command"),
            (rf"^({_CLIENT})({_TAG})({_SPACE}+)({words(_IMAP_COMMANDS).get()})(?=\s|$)",
             bygroups(Generic.Prompt, Name.Tag, Whitespace, Keyword), "command"),
            (rf"^({_CLIENT})({_TAG})", bygroups(Generic.Prompt, Name.Tag), "command"),
            (rf"^(C:{_SPACE}*)", Generic.Prompt, "command"),
            # RFC examples wrap a long response onto indented lines.
            (rf"^({_SPACE}+)(?=\S)", Whitespace, "response"),
            (r"[^\n]+", Text),
        ],
        "command": [
            (r"\n", Whitespace, "#pop"),
            (rf"^C:{_SPACE}*", Generic.Prompt),     # the line goes on after a literal
            (_LITERAL, _imap_literal(from_client=True)),
            include("data"),
        ],
        "response": [
            (r"\n", Whitespace, "#pop"),
            (rf"^S:{_SPACE}*", Generic.Prompt),     # the line goes on after a literal
            (_LITERAL, _imap_literal(from_client=False)),
            include("data"),
        ],
        "resp-text": [
            (rf"({_SPACE}*)(\[)([a-z0-9][\w.-]*)",
             bygroups(Whitespace, Punctuation, Name.Constant), ("#pop", "human-text", "resp-code")),
            default(("#pop", "human-text")),
        ],
        "resp-code": [
            (r"\]", Punctuation, "#pop"),
            (r"\n", Whitespace, "#pop:2"),
            include("data"),
        ],
        "human-text": [
            (r"\n", Whitespace, "#pop"),
            (r"[^\n]+", Text),
        ],
        "sasl-initial": [
            (r"\n", Whitespace, "#pop"),
            (rf"{_SPACE}+", Whitespace),
            (r"[^\s]+", String),
        ],
        "sasl-response": [
            (rf"^({_CLIENT})(DONE)({_SPACE}*)(\n|$)",
             bygroups(Generic.Prompt, Keyword, Whitespace, Whitespace), "#pop"),
            *_sasl_response_state(),
        ],
        "data": [
            (rf"{_SPACE}+", Whitespace),
            (rf"NIL{_ATOM_END}", Keyword.Constant),
            (r"\\(?:[a-z][\w$-]*|\*)", Name.Builtin),
            (r'"(?:[^"\\\n]|\\.)*"?', String.Double),
            (r"[()\[\]<>]", Punctuation),
            (rf"(?:\d+|\*)(?::(?:\d+|\*))?(?:,(?:\d+|\*)(?::(?:\d+|\*))?)*{_ATOM_END}",
             Number.Integer),
            (rf"\d+(?:\.\d+)+{_ATOM_END}", Number),
            (words(_IMAP_ITEMS, prefix=r"[+-]?", suffix=rf"(?:\.SILENT)?{_ATOM_END}"),
             Name.Attribute),
            (r'[^\s()\[\]{}"\\%*<>]+', Name),
            (r"[%*]", Operator),
            (r"[^\n]", Text),
        ],
    }


# -- style ----------------------------------------------------------------------------------

def _palette(*, foreground: str, muted: str, keyword: str, name: str, attribute: str,
             constant: str, string: str, number: str, tag: str, success: str,
             intermediate: str, transient: str, permanent: str, bad: str, data: str,
             negative: str, closing: str) -> dict[_TokenType, str]:
    return {
        Token: foreground,
        Whitespace: "",
        Comment: f"italic {muted}",
        Generic.Prompt: muted,
        Keyword: f"bold {keyword}",
        Keyword.Constant: f"nobold {constant}",
        Name.Attribute: attribute,
        Name.Builtin: constant,
        Name.Constant: f"bold {constant}",
        Name.Function: name,
        Name.Label: name,
        Name.Tag: f"bold {tag}",
        Name.Decorator: muted,
        String: string,
        String.Escape: f"bold {permanent}",
        Number: number,
        Operator: muted,
        Punctuation: muted,
        Punctuation.Marker: f"bold {intermediate}",
        Reply.Success: f"bold {success}",
        Reply.Intermediate: f"bold {intermediate}",
        Reply.Transient: f"bold {transient}",
        Reply.Permanent: f"bold {permanent}",
        Reply.Negative: f"bold {negative}",
        Reply.Closing: f"bold {closing}",
        Reply.Bad: f"bold underline {bad}",
        Reply.Data: f"bold {data}",
        Generic.Inserted: success,
        Generic.Deleted: permanent,
        Generic.Error: permanent,
        Generic.Heading: f"bold {keyword}",
        Generic.Subheading: f"bold {muted}",
        Generic.Emph: "italic",
        Generic.Strong: "bold",
        Error: f"bg:{permanent} #ffffff",
    }


class MailsimStyle(Style):
    """Colours for mail dialogs on a light background: reply classes first, then syntax."""

    name = "mailsim"
    background_color = "#ffffff"
    highlight_color = "#fff8c5"
    line_number_color = "#8c959f"
    styles = _palette(foreground="#1f2328", muted="#6e7781", keyword="#0550ae",
                      name="#0a3069", attribute="#6639ba", constant="#8250df",
                      string="#0a3069", number="#0550ae", tag="#953800",
                      success="#1a7f37", intermediate="#9a6700", transient="#bc4c00",
                      permanent="#cf222e", bad="#a40e26", data="#8250df",
                      negative="#d1242f", closing="#57606a")


class MailsimDarkStyle(Style):
    """The same roles as :class:`MailsimStyle`, for a dark background."""

    name = "mailsim-dark"
    background_color = "#0d1117"
    highlight_color = "#2d333b"
    line_number_color = "#6e7681"
    styles = _palette(foreground="#e6edf3", muted="#8b949e", keyword="#79c0ff",
                      name="#a5d6ff", attribute="#d2a8ff", constant="#d2a8ff",
                      string="#a5d6ff", number="#79c0ff", tag="#ffa657",
                      success="#3fb950", intermediate="#d29922", transient="#f0883e",
                      permanent="#f85149", bad="#ff7b72", data="#bc8cff",
                      negative="#ff6a69", closing="#9198a1")
