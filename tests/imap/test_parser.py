"""The command grammar, row by row: bytes in, typed value or precise BAD text out."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from mailsim.mime.imap import Section
from mailsim.protocol.imap.mutf7 import decode_mailbox, encode_mailbox
from mailsim.protocol.imap.parser import (
    AppendArgs,
    Command,
    Cursor,
    FetchItem,
    LiteralMark,
    LoginArgs,
    ParseError,
    SearchKey,
    SequenceSet,
    literal_at_end,
    parse_command,
)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"a1 APPEND INBOX {12}", LiteralMark(12, True)),
        (b"a1 APPEND INBOX {12+}", LiteralMark(12, False)),
        (b"a1 LOGIN {5}", LiteralMark(5, True)),
        (b"a1 LOGIN alice {10} x", None),
        (b"a1 NOOP", None),
        (b"a1 APPEND INBOX {4294967296}", LiteralMark(4294967296, True)),
    ],
)
def test_literal_at_end(line, expected):
    assert literal_at_end(line) == expected


@pytest.mark.parametrize(
    ("text", "ranges", "largest", "numbers"),
    [
        (b"1", ((1, 1),), 5, [1]),
        (b"1:3", ((1, 3),), 5, [1, 2, 3]),
        (b"3:1", ((3, 1),), 5, [1, 2, 3]),
        (b"2,4:5", ((2, 2), (4, 5)), 5, [2, 4, 5]),
        (b"*", ((None, None),), 5, [5]),
        (b"4:*", ((4, None),), 5, [4, 5]),
        (b"*:4", ((None, 4),), 5, [4, 5]),
        (b"1:2,2:3", ((1, 2), (2, 3)), 5, [1, 2, 3]),
    ],
)
def test_sequence_sets(text, ranges, largest, numbers):
    parsed = Cursor(text).sequence_set()
    assert parsed == SequenceSet(ranges)
    assert parsed.resolve(largest) == numbers
    assert str(parsed) == text.decode()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"0", "message numbers start at 1, 0 is not allowed"),
        (b"1:0", "message numbers start at 1, 0 is not allowed"),
        (b"a", 'invalid sequence set at "a": expected a number or *'),
        (b"1,", "invalid sequence set at end of line: expected a number or *"),
        (b"4294967296", "a message number 4294967296 is larger than 4294967295"),
    ],
)
def test_bad_sequence_sets(text, message):
    with pytest.raises(ParseError, match=message.replace("*", r"\*")):
        Cursor(text).sequence_set()


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (b'"hello world"', b"hello world"),
        (b'"a \\"quoted\\" \\\\ word"', b'a "quoted" \\ word'),
        (b"{5}\r\nhello", b"hello"),
        (b"{5+}\r\nhe\r\no", b"he\r\no"),
        (b"atom]x", b"atom]x"),
    ],
)
def test_astrings(text, value):
    assert Cursor(text).astring_bytes() == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b'"open', "unterminated quoted string"),
        (b'"bad \\n escape"', "a backslash may only precede"),
        (b"{10}\r\nshort", "literal of 10 octets is incomplete"),
        (b"(", "expected a string"),
    ],
)
def test_bad_strings(text, message):
    with pytest.raises(ParseError, match=message):
        Cursor(text).astring_bytes()


@pytest.mark.parametrize(
    ("text", "item"),
    [
        (b"FLAGS", FetchItem("FLAGS")),
        (b"body[]", FetchItem("BODY", Section())),
        (b"BODY.PEEK[HEADER]", FetchItem("BODY.PEEK", Section(text="HEADER"))),
        (b"BODY[1.2.MIME]", FetchItem("BODY", Section((1, 2), "MIME"))),
        (b"BODY[2.HEADER.FIELDS (from \"To\")]", FetchItem("BODY", Section((2,), "HEADER.FIELDS", ("FROM", "TO")))),
        (b"BODY[HEADER.FIELDS.NOT (Received)]", FetchItem("BODY", Section((), "HEADER.FIELDS.NOT", ("RECEIVED",)))),
        (b"BODY[TEXT]<0.100>", FetchItem("BODY", Section(text="TEXT"), (0, 100))),
        (b"BODY.PEEK[3]<10.5>", FetchItem("BODY.PEEK", Section((3,)), (10, 5))),
    ],
)
def test_fetch_items(text, item):
    assert Cursor(text).fetch_item() == item


def test_fetch_response_labels():
    assert FetchItem("BODY.PEEK", Section(text="TEXT"), (0, 10)).response_label() == "BODY[TEXT]<0>"
    item = FetchItem("BODY", Section((1,), "HEADER.FIELDS", ("FROM", "TO")))
    assert item.response_label() == "BODY[1.HEADER.FIELDS (FROM TO)]"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"BODY[MIME]", "section MIME needs a part number first"),
        (b"BODY[BOGUS]", "unknown section BOGUS"),
        (b"BODY[HEADER.FIELDS ()]", "HEADER.FIELDS needs at least one field name"),
        (b"BODY[1.]", "a section cannot end with a dot"),
        (b"BODY[TEXT]<0>", r'expected "\." between origin and length'),
        (b"BODY[TEXT]<0.0>", "the partial length must not be 0"),
        (b"FLAGS[1]", "FLAGS takes no section"),
        (b"BODY.PEEK", r"BODY.PEEK needs a section"),
        (b"BINARY[1]", r"BINARY \(RFC 3516\) is not supported"),
        (b"SIZE", "unknown FETCH item SIZE"),
    ],
)
def test_bad_fetch_items(text, message):
    with pytest.raises(ParseError, match=message):
        Cursor(text).fetch_item()


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (b"ALL", SearchKey("ALL")),
        (b"from bob", SearchKey("FROM", "bob")),
        (b'SUBJECT "two words"', SearchKey("SUBJECT", "two words")),
        (b"SINCE 1-Feb-2026", SearchKey("SINCE", date(2026, 2, 1))),
        (b'BEFORE "15-Mar-2026"', SearchKey("BEFORE", date(2026, 3, 15))),
        (b"LARGER 1000", SearchKey("LARGER", 1000)),
        (b"KEYWORD $Junk", SearchKey("KEYWORD", "$Junk")),
        (b"HEADER X-Mailer mutt", SearchKey("HEADER", ("X-Mailer", "mutt"))),
        (b"UID 1:*", SearchKey("UID", SequenceSet(((1, None),)))),
        (b"2:4", SearchKey("SEQUENCE", SequenceSet(((2, 4),)))),
        (b"NOT SEEN", SearchKey("NOT", children=(SearchKey("SEEN"),))),
        (b"OR SEEN FLAGGED", SearchKey("OR", children=(SearchKey("SEEN"), SearchKey("FLAGGED")))),
        (b"(SEEN DRAFT)", SearchKey("AND", children=(SearchKey("SEEN"), SearchKey("DRAFT")))),
    ],
)
def test_search_keys(text, key):
    assert Cursor(text).search_key() == key


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"FROBNICATE", "unknown search key FROBNICATE"),
        (b"SINCE yesterday", "expected a date like 1-Feb-2026"),
        (b"SINCE 31-Feb-2026", "31-Feb-2026 is not a real date"),
        (b"SINCE 1-Fev-2026", "unknown month Fev"),
        (b"LARGER big", "expected the LARGER size"),
        (b"OR SEEN", "expected a space at end of line"),
        (b"(" * 100 + b"ALL" + b")" * 100, "parentheses nested deeper than 64 levels"),
        (b"NOT " * 100 + b"ALL", "search keys nested deeper than 64 levels"),
    ],
)
def test_bad_search_keys(text, message):
    with pytest.raises(ParseError, match=message):
        Cursor(text).search_key()


def test_date_time():
    value = Cursor(b'"05-Oct-2026 14:03:09 -0300"').date_time()
    assert value == datetime(2026, 10, 5, 14, 3, 9, tzinfo=timezone(timedelta(hours=-3)))
    assert Cursor(b'" 5-Oct-2026 14:03:09 +0000"').date_time().day == 5
    with pytest.raises(ParseError, match="is not valid"):
        Cursor(b'"05-Oct-2026 25:03:09 +0000"').date_time()


@pytest.mark.parametrize(
    ("data", "command"),
    [
        (b"a1 LOGIN alice wonderland", Command("a1", "LOGIN", False, LoginArgs("alice", "wonderland"))),
        (b'x LOGIN "alice" {10}\r\nwonderland', Command("x", "LOGIN", False, LoginArgs("alice", "wonderland"))),
        (
            b'a2 APPEND Drafts (\\Draft) "01-Jan-2026 00:00:00 +0000" {4+}\r\nbody',
            Command("a2", "APPEND", False, AppendArgs(
                "Drafts", ("\\Draft",), datetime(2026, 1, 1, tzinfo=timezone.utc), b"body"
            )),
        ),
    ],
)
def test_whole_commands(data, command):
    assert parse_command(data) == command


def test_uid_commands_and_flags():
    command = parse_command(b"a UID STORE 1:* +FLAGS.SILENT (\\Seen $Label)")
    assert command.uid and command.verb == "STORE"
    assert command.arguments.mode == "+" and command.arguments.silent
    assert command.arguments.flags == ("\\Seen", "$Label")
    assert parse_command(b"a UID EXPUNGE 3:4").arguments.sequence == SequenceSet(((3, 4),))
    assert parse_command(b"a fetch 1 all").arguments.macro == "ALL"
    assert parse_command(b"a SEARCH CHARSET utf-8 TEXT x").arguments.charset == "UTF-8"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "missing tag"),
        (b"+a NOOP", "missing tag"),
        (b"a1", "expected a space after the tag a1"),
        (b"a1 ", "missing command after the tag a1"),
        (b"a1 NOOP extra", 'unexpected " extra" after the last argument'),
        (b"a1 STORE 1 FLAGS (\\Bogus)", r"\\Bogus is not a system flag"),
        (b"a1 STORE 1 TAGS (x)", "expected FLAGS, \\+FLAGS or -FLAGS"),
        (b"a1 STATUS INBOX ()", "STATUS needs at least one item"),
        (b"a1 APPEND INBOX hello", "APPEND needs the message as a literal"),
        (b"a1 ENABLE", "ENABLE needs at least one capability name"),
        (b"a1 LIST (SUBSCRIBED) \"\" *", "LIST selection options"),
        (b"a1 CREATE &Jjo", "never ends with"),
    ],
)
def test_bad_commands(data, message):
    with pytest.raises(ParseError, match=message):
        parse_command(data)


@pytest.mark.parametrize(
    ("name", "wire"),
    [
        ("INBOX", "INBOX"),
        ("Año 2026", "A&APE-o 2026"),
        ("a&b", "a&-b"),
        ("日本語", "&ZeVnLIqe-"),
        ("Papelera/Éléments", "Papelera/&AMk-l&AOk-ments"),
    ],
)
def test_modified_utf7(name, wire):
    assert encode_mailbox(name) == wire
    assert decode_mailbox(wire) == name
