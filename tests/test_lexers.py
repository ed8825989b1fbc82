"""The dialog lexers: which token each construct of a real session gets, and no Error ever."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pygments.formatters import HtmlFormatter
from pygments.lexer import RegexLexer
from pygments.token import (Comment, Error, Generic, Keyword, Name, Number, Operator,
                            Punctuation, String, Text)

from mailsim.events import Protocol, ReplyClass
from mailsim.lexers import (REPLY_TOKENS, ImapLexer, MailsimDarkStyle, MailsimStyle,
                            Pop3Lexer, Reply, SmtpLexer)
from mailsim.protocol.classify import classify_server_line

REPO = Path(__file__).resolve().parent.parent


def lex(lexer_class, text):
    return list(lexer_class().get_tokens(text))


def assert_no_error(tokens):
    errors = [(token, value) for token, value in tokens if token in Error]
    assert not errors, errors


def line_tokens(tokens, start):
    """The tokens of the first line whose text starts with ``start``."""
    lines, current = [], []
    for token, value in tokens:
        for part in re.findall(r"[^\n]*\n|[^\n]+", value):
            current.append((token, part))
            if part.endswith("\n"):
                lines.append(current)
                current = []
    lines.append(current)
    for line in lines:
        if "".join(value for _, value in line).startswith(start):
            return line
    raise AssertionError(f"no line starts with {start!r}")


# -- SMTP: the RFC 5321 §D.1 transaction, in mailsim's world -----------------------------

SMTP_DIALOG = """\
S: 220 mailsim.test Simple Mail Transfer Service Ready
C: EHLO client.mailsim.test
S: 250-mailsim.test greets client.mailsim.test
S: 250-8BITMIME
S: 250-SIZE 10485760
S: 250-DSN
S: 250 HELP
C: MAIL FROM:<alice@mailsim.test> SIZE=123
S: 250 2.1.0 OK
C: RCPT TO:<bob@mailsim.test>
S: 250 2.1.5 OK
C: RCPT TO:<carol@mailsim.test>
S: 550 5.1.1 <carol@mailsim.test>: no such user here
C: RCPT TO:<dave@mailsim.test>
S: 451 4.3.0 try again later
C: DATA
S: 354 Start mail input; end with <CRLF>.<CRLF>
C: From: Alice <alice@mailsim.test>
C: To: Bob <bob@mailsim.test>
C: Subject: Lab notes
C:
C: Hi Bob,
C: MAIL FROM:<mallory@mailsim.test>
C: ..a line that began with a dot
C: .
S: 250 2.0.0 OK
C: QUIT
S: 221 2.0.0 mailsim.test Service closing transmission channel
"""


def test_smtp_replies_get_the_token_of_their_class():
    tokens = lex(SmtpLexer, SMTP_DIALOG)
    assert (Reply.Success, "220") in line_tokens(tokens, "S: 220")
    assert (Reply.Success, "250") in line_tokens(tokens, "S: 250 2.1.5")
    assert (Reply.Intermediate, "354") in line_tokens(tokens, "S: 354")
    assert (Reply.Transient, "451") in line_tokens(tokens, "S: 451")
    assert (Reply.Permanent, "550") in line_tokens(tokens, "S: 550")
    assert (Punctuation, "-") in line_tokens(tokens, "S: 250-DSN")


def test_smtp_enhanced_codes_are_numbers_and_paths_are_labels():
    tokens = lex(SmtpLexer, SMTP_DIALOG)
    reply = line_tokens(tokens, "S: 550")
    assert (Number, "5.1.1") in reply
    assert (Name.Label, "carol@mailsim.test") in reply
    mail = line_tokens(tokens, "C: MAIL")
    assert mail[:5] == [(Generic.Prompt, "C: "), (Keyword, "MAIL"), (Text.Whitespace, " "),
                        (Keyword, "FROM:"), (Punctuation, "<")]
    assert (Name.Label, "alice@mailsim.test") in mail
    assert mail[-4:-1] == [(Name.Attribute, "SIZE"), (Operator, "="),
                           (Number.Integer, "123")]
    assert (Name.Function, "client.mailsim.test") in line_tokens(tokens, "C: EHLO")


def test_smtp_data_body_is_a_message_not_commands():
    tokens = lex(SmtpLexer, SMTP_DIALOG)
    assert (Name.Tag, "Subject:") in line_tokens(tokens, "C: Subject:")
    inside = line_tokens(tokens, "C: MAIL FROM:<mallory")
    assert (Keyword, "MAIL") not in inside
    assert all(token not in Keyword for token, _ in inside)
    assert (String.Escape, ".") in line_tokens(tokens, "C: ..a line")
    assert line_tokens(tokens, "C: .\n")[:2] == [(Generic.Prompt, "C: "),
                                                 (Punctuation.Marker, ".")]
    # After the lone dot, commands are commands again.
    assert (Keyword, "QUIT") in line_tokens(tokens, "C: QUIT")
    assert_no_error(tokens)


def test_smtp_bare_lines_with_crlf_lex_like_prefixed_ones():
    bare = "\r\n".join(line[3:] for line in SMTP_DIALOG.splitlines()) + "\r\n"
    tokens = lex(SmtpLexer, bare)
    assert_no_error(tokens)
    assert (Reply.Permanent, "550") in line_tokens(tokens, "550")
    assert (Name.Tag, "Subject:") in line_tokens(tokens, "Subject:")
    assert all(token not in Keyword for token, _ in line_tokens(tokens, "MAIL FROM:<mallory"))
    assert (Punctuation.Marker, ".") in line_tokens(tokens, ".\n")
    assert (Reply.Success, "221") in line_tokens(tokens, "221")


def test_smtp_sasl_exchange():
    tokens = lex(SmtpLexer, textwrap.dedent("""\
        C: AUTH LOGIN
        S: 334 VXNlcm5hbWU6
        C: YWxpY2U=
        S: 334 UGFzc3dvcmQ6
        C: d29uZGVybGFuZA==
        S: 235 2.7.0 Authentication successful
        C: AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=
        S: 503 5.5.1 already authenticated
        """))
    assert_no_error(tokens)
    assert (Name.Builtin, "LOGIN") in line_tokens(tokens, "C: AUTH LOGIN")
    assert (Reply.Intermediate, "334") in line_tokens(tokens, "S: 334 VXN")
    assert line_tokens(tokens, "C: YWxpY2U=")[1] == (String, "YWxpY2U=")
    assert (String, "AGFsaWNlAHdvbmRlcmxhbmQ=") in line_tokens(tokens, "C: AUTH PLAIN")


def test_smtp_sample_messages_of_the_world_lex_without_errors():
    messages = sorted((REPO / "assets" / "world" / "messages").rglob("*.eml"))
    assert messages
    for path in messages:
        body = path.read_text(encoding="utf-8", errors="replace")
        stuffed = "".join("." + line if line.startswith(".") else line
                          for line in body.splitlines(keepends=True))
        text = ("C: DATA\nS: 354 go ahead\n"
                + "".join("C: " + line for line in stuffed.splitlines(keepends=True))
                + "C: .\nS: 250 2.0.0 OK\n")
        tokens = lex(SmtpLexer, text)
        assert_no_error(tokens)
        assert (Reply.Success, "250") in tokens, path.name
        assert "".join(value for _, value in tokens) == text


# -- POP3: the RFC 1939 §10 session, in mailsim's world ----------------------------------

POP3_DIALOG = """\
S: <wait for connection on TCP port 1110>
C: <open connection>
S:    +OK POP3 server ready <1896.697170952@mailsim.test>
C:    APOP alice c4c9334bac560ecc979e58001b3e22fb
S:    +OK alice's maildrop has 2 messages (320 octets)
C:    STAT
S:    +OK 2 320
C:    LIST
S:    +OK 2 messages (320 octets)
S:    1 120
S:    2 200
S:    .
C:    RETR 1
S:    +OK 120 octets
S:    <the POP3 server sends message 1>
S:    .
C:    DELE 1
S:    +OK message 1 deleted
C:    RETR 2
S:    +OK 200 octets
S:    From: Bob <bob@mailsim.test>
S:    Subject: QUIT
S:
S:    QUIT is only a word here.
S:    ..and this line began with a dot
S:    .
C:    DELE 2
S:    +OK message 2 deleted
C:    USER bob
S:    -ERR [IN-USE] maildrop already locked
C:    QUIT
S:    +OK dewey POP3 server signing off (maildrop empty)
C:  <close connection>
S:  <wait for next connection>
"""


def test_pop3_status_indicators_and_response_codes():
    tokens = lex(Pop3Lexer, POP3_DIALOG)
    assert_no_error(tokens)
    assert line_tokens(tokens, "S:    +OK POP3")[:2] == [(Generic.Prompt, "S:    "),
                                                        (Reply.Success, "+OK")]
    assert (Name.Label, "1896.697170952@mailsim.test") in line_tokens(tokens, "S:    +OK POP3")
    err = line_tokens(tokens, "S:    -ERR")
    assert (Reply.Negative, "-ERR") in err
    assert [(Punctuation, "["), (Name.Constant, "IN-USE"), (Punctuation, "]")] == [
        pair for pair in err if pair[1] in "[IN-USE]" and pair[1]]
    assert (Number.Integer, "320") in line_tokens(tokens, "S:    +OK 2 320")
    assert (Comment, "<open connection>") in line_tokens(tokens, "C: <open")


def test_pop3_multi_line_answers_end_at_the_dot():
    tokens = lex(Pop3Lexer, POP3_DIALOG)
    assert line_tokens(tokens, "S:    2 200")[1:4] == [
        (Number.Integer, "2"), (Text.Whitespace, " "), (Number.Integer, "200")]
    assert (Comment, "<the POP3 server sends message 1>") in line_tokens(tokens, "S:    <the")
    assert (Name.Tag, "Subject:") in line_tokens(tokens, "S:    Subject: QUIT")
    body_line = line_tokens(tokens, "S:    QUIT is only")
    assert all(token not in Keyword for token, _ in body_line)
    assert (String.Escape, ".") in line_tokens(tokens, "S:    ..and")
    assert (Punctuation.Marker, ".") in line_tokens(tokens, "S:    .\n")
    assert (Keyword, "DELE") in line_tokens(tokens, "C:    DELE 2")


def test_pop3_single_line_list_and_failed_retr_open_no_body():
    tokens = lex(Pop3Lexer, textwrap.dedent("""\
        C: LIST 1
        S: +OK 1 120
        C: RETR 9
        S: -ERR no such message
        C: STAT
        S: +OK 1 120
        C: UIDL
        S: +OK
        S: 1 whqtswO00WBw418f9t5JxYwZ
        S: .
        C: CAPA
        S: +OK Capability list follows
        S: SASL PLAIN LOGIN
        S: .
        """))
    assert_no_error(tokens)
    assert (Keyword, "STAT") in line_tokens(tokens, "C: STAT")
    assert (Reply.Success, "+OK") in line_tokens(tokens, "S: +OK 1 120")
    assert (String, "whqtswO00WBw418f9t5JxYwZ") in line_tokens(tokens, "S: 1 whq")
    assert (Name.Builtin, "SASL") in line_tokens(tokens, "S: SASL")


# -- IMAP: the RFC 3501 §8 session, in mailsim's world -----------------------------------

HEADER = (
    "Date: Wed, 17 Jul 2024 02:23:25 -0700\r\n"
    "From: Alice <alice@mailsim.test>\r\n"
    "Subject: Lab meeting summary and minutes\r\n"
    "To: bob@mailsim.test\r\n"
    "Message-Id: <B27397-0100000@mailsim.test>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
    "\r\n"
)
HEADER_LINES = "".join(f"S:    {line}\n" if line else "S:\n" for line in HEADER.split("\r\n")[:-1])

IMAP_DIALOG = f"""\
S:   * OK IMAP4rev1 Service Ready
C:   a001 login alice wonderland
S:   a001 OK LOGIN completed
C:   a002 select inbox
S:   * 18 EXISTS
S:   * FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)
S:   * 2 RECENT
S:   * OK [UNSEEN 17] Message 17 is the first unseen message
S:   * OK [UIDVALIDITY 3857529045] UIDs valid
S:   * OK [UIDNEXT 5] Predicted next UID
S:   a002 OK [READ-WRITE] SELECT completed
C:   a003 fetch 12 full
S:   * 12 FETCH (FLAGS (\\Seen) INTERNALDATE "17-Jul-2024 02:44:25 -0700"
      RFC822.SIZE 4286 ENVELOPE ("Wed, 17 Jul 2024 02:23:25 -0700"
      "Lab meeting summary and minutes"
      (("Alice" NIL "alice" "mailsim.test"))
      NIL NIL NIL "<B27397-0100000@mailsim.test>")
      BODY ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028
      92))
S:    a003 OK FETCH completed
C:    a004 fetch 12 body[header]
S:    * 12 FETCH (BODY[HEADER] {{{len(HEADER.encode())}}}
{HEADER_LINES}S:    )
S:    a004 OK FETCH completed
C:    a005 store 12 +flags \\deleted
S:    * 12 FETCH (FLAGS (\\Seen \\Deleted))
S:    a005 OK +FLAGS completed
C:    a006 UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)]<0.2048>)
S:    a006 NO [SERVERBUG] something went wrong
C:    a007 frobnicate
S:    a007 BAD command unknown or arguments invalid
C:    a008 logout
S:    * BYE IMAP4rev1 server terminating connection
S:    a008 OK LOGOUT completed
"""


def test_imap_tags_status_and_untagged_data():
    tokens = lex(ImapLexer, IMAP_DIALOG)
    assert_no_error(tokens)
    assert line_tokens(tokens, "C:   a001")[1:4] == [
        (Name.Tag, "a001"), (Text.Whitespace, " "), (Keyword, "login")]
    assert line_tokens(tokens, "S:   a001")[1:4] == [
        (Name.Tag, "a001"), (Text.Whitespace, " "), (Reply.Success, "OK")]
    assert line_tokens(tokens, "S:   * 18")[1:6] == [
        (Reply.Data, "*"), (Text.Whitespace, " "), (Number.Integer, "18"),
        (Text.Whitespace, " "), (Keyword, "EXISTS")]
    assert (Reply.Negative, "NO") in line_tokens(tokens, "S:    a006")
    assert (Reply.Bad, "BAD") in line_tokens(tokens, "S:    a007")
    assert (Reply.Closing, "BYE") in line_tokens(tokens, "S:    * BYE")


def test_imap_response_codes_flags_strings_and_nil():
    tokens = lex(ImapLexer, IMAP_DIALOG)
    uidnext = line_tokens(tokens, "S:   * OK [UIDNEXT")
    start = uidnext.index((Punctuation, "["))
    assert uidnext[start:start + 5] == [
        (Punctuation, "["), (Name.Constant, "UIDNEXT"), (Text.Whitespace, " "),
        (Number.Integer, "5"), (Punctuation, "]")]
    assert (Name.Constant, "READ-WRITE") in line_tokens(tokens, "S:   a002")
    assert (Name.Builtin, "\\Seen") in line_tokens(tokens, "S:   * FLAGS")
    fetch = line_tokens(tokens, "S:   * 12 FETCH (FLAGS")
    assert (String.Double, '"17-Jul-2024 02:44:25 -0700"') in fetch
    assert (Name.Attribute, "INTERNALDATE") in fetch
    wrapped = line_tokens(tokens, '      NIL NIL NIL')
    assert (Keyword.Constant, "NIL") in wrapped
    command = line_tokens(tokens, "C:    a006")
    assert command[3:6] == [(Keyword, "UID"), (Text.Whitespace, " "), (Keyword, "FETCH")]
    assert (Number.Integer, "1:*") in command
    assert (Number, "0.2048") in command


def test_imap_literal_holds_exactly_its_octets():
    tokens = lex(ImapLexer, IMAP_DIALOG)
    fetch = line_tokens(tokens, "S:    * 12 FETCH (BODY[HEADER]")
    assert fetch[-4:] == [(Punctuation, "{"), (Number.Integer, str(len(HEADER.encode()))),
                          (Punctuation, "}"), (Text.Whitespace, "\n")]
    assert (Name.Tag, "Subject:") in line_tokens(tokens, "S:    Subject:")
    assert (Name.Label, "<alice@mailsim.test>") in line_tokens(tokens, "S:    From:")
    # The literal ends before ")": the response goes on after it.
    assert line_tokens(tokens, "S:    )") == [(Generic.Prompt, "S:    "), (Punctuation, ")"),
                                             (Text.Whitespace, "\n")]
    assert (Reply.Success, "OK") in line_tokens(tokens, "S:    a004")


def test_imap_client_literals_synchronizing_and_not():
    message = "Subject: hola \u20ac\r\n\r\nhi\r\n"
    tokens = lex(ImapLexer, textwrap.dedent(f"""\
        C: a1 LOGIN {{5+}}
        C: alice {{10+}}
        C: wonderland
        S: a1 OK LOGIN completed
        C: a2 APPEND INBOX (\\Seen) {{{len(message.encode())}}}
        S: + Ready for literal data
        C: Subject: hola \u20ac
        C:
        C: hi
        C:
        S: a2 OK [APPENDUID 38505 3955] APPEND completed
        C: a3 APPEND INBOX {{99999}}
        S: a3 NO [TOOBIG] message too big
        """))
    assert_no_error(tokens)
    login = line_tokens(tokens, "C: a1 LOGIN")
    assert login[-5:-1] == [(Punctuation, "{"), (Number.Integer, "5"), (Operator, "+"),
                            (Punctuation, "}")]
    assert line_tokens(tokens, "C: alice")[:2] == [(Generic.Prompt, "C: "), (String, "alice")]
    assert (String, "wonderland") in line_tokens(tokens, "C: wonderland")
    assert (Reply.Intermediate, "+") in line_tokens(tokens, "S: + Ready")
    assert (Name.Tag, "Subject:") in line_tokens(tokens, "C: Subject:")
    assert (Name.Constant, "APPENDUID") in line_tokens(tokens, "S: a2 OK")
    assert (Reply.Negative, "NO") in line_tokens(tokens, "S: a3 NO")


def test_imap_literal_with_a_wrong_count_does_not_swallow_the_completion():
    tokens = lex(ImapLexer, textwrap.dedent("""\
        S: * 12 FETCH (BODY[HEADER] {342}
        S: <342 octets of header data>
        S: )
        S: a004 OK FETCH completed
        S: * 13 FETCH (BODY[TEXT] {500}
        S: too short
        S: a005 OK FETCH completed
        C: a006 NOOP
        """))
    assert_no_error(tokens)
    assert (Comment, "<342 octets of header data>") in line_tokens(tokens, "S: <342")
    assert (Punctuation, ")") in line_tokens(tokens, "S: )")
    assert (Reply.Success, "OK") in line_tokens(tokens, "S: a004")
    assert (Reply.Success, "OK") in line_tokens(tokens, "S: a005")
    assert (Keyword, "NOOP") in line_tokens(tokens, "C: a006")


def test_imap_idle_and_authenticate():
    tokens = lex(ImapLexer, textwrap.dedent("""\
        C: a1 AUTHENTICATE PLAIN
        S: +
        C: AGFsaWNlAHdvbmRlcmxhbmQ=
        S: a1 OK AUTHENTICATE completed
        C: a2 IDLE
        S: + idling
        S: * 3 EXISTS
        C: DONE
        S: a2 OK IDLE terminated
        """))
    assert_no_error(tokens)
    assert (Name.Builtin, "PLAIN") in line_tokens(tokens, "C: a1")
    assert (String, "AGFsaWNlAHdvbmRlcmxhbmQ=") in line_tokens(tokens, "C: AGF")
    assert (Keyword, "DONE") in line_tokens(tokens, "C: DONE")


# -- across the three ------------------------------------------------------------------

@pytest.mark.parametrize("protocol, lexer_class, dialog", [
    (Protocol.SMTP, SmtpLexer, SMTP_DIALOG),
    (Protocol.POP3, Pop3Lexer, POP3_DIALOG),
    (Protocol.IMAP, ImapLexer, IMAP_DIALOG),
])
def test_lexer_agrees_with_the_live_line_classifier(protocol, lexer_class, dialog):
    """A server line carries the reply token of the class the wire log gives it."""
    tokens = lex(lexer_class, dialog.replace("S:    ", "S: ").replace("S:   ", "S: "))
    checked = 0
    for line in dialog.splitlines():
        if not line.startswith("S:"):
            continue
        content = line[2:].lstrip()
        reply_class = classify_server_line(protocol, content.encode())
        if reply_class is None or content.startswith("<"):
            continue
        line_toks = line_tokens(tokens, "S: " + content)
        assert (REPLY_TOKENS[reply_class] in {token for token, _ in line_toks}), line
        checked += 1
    assert checked >= 5


def test_reply_tokens_cover_every_reply_class_and_both_styles_colour_them():
    assert set(REPLY_TOKENS) == set(ReplyClass)
    assert all(token in Reply for token in REPLY_TOKENS.values())
    for style in (MailsimStyle, MailsimDarkStyle):
        colours = {style.style_for_token(token)["color"] for token in REPLY_TOKENS.values()}
        assert None not in colours and len(colours) == len(REPLY_TOKENS)
    css = HtmlFormatter(style=MailsimStyle).get_style_defs()
    assert MailsimStyle.style_for_token(Reply.Permanent)["color"] in css.lower()


def test_the_lexers_are_regex_lexers_with_the_agreed_aliases():
    assert {"smtp"} <= set(SmtpLexer.aliases)
    assert {"pop3", "pop"} <= set(Pop3Lexer.aliases)
    assert {"imap"} <= set(ImapLexer.aliases)
    assert all(issubclass(cls, RegexLexer) for cls in (SmtpLexer, Pop3Lexer, ImapLexer))


_FRAGMENTS = ["C: ", "S: ", "S:    ", "* ", "+ ", "+\n", "a1 ", "OK ", "NO ", "BAD ",
              "{3}\n", "{0}\n", "{5+}\n", "~{2}\n", "{99}\n", "354 ", "250-", "334 ",
              "550 5.1.1 ", ".\n", "..", "\n", "\r\n", "+OK ", "-ERR ", "RETR 1\n", "LIST\n",
              "DATA\n", "From: a\n", "[", "]", "(", ")", '"', "\\", "<", ">", "@", "é", "€",
              "\t", " ", "x", "NIL", "\\Seen", "1:*", "=", "BODY[] ", "APPEND ", "DONE",
              "\x00", "\u2028"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=40),
       st.sampled_from([SmtpLexer, Pop3Lexer, ImapLexer]))
def test_any_input_lexes_without_error_and_loses_nothing(fragments, lexer_class):
    text = "".join(fragments)
    tokens = list(lexer_class().get_tokens_unprocessed(text))
    assert not [value for _, token, value in tokens if token in Error]
    assert "".join(value for _, _, value in tokens) == text
    assert all(text[index:index + len(value)] == value for index, _, value in tokens)


# -- registration with Pygments ------------------------------------------------------------

ENTRY_POINTS = """\
[pygments.lexers]
smtp = mailsim.lexers:SmtpLexer
pop3 = mailsim.lexers:Pop3Lexer
imap = mailsim.lexers:ImapLexer

[pygments.styles]
mailsim = mailsim.lexers:MailsimStyle
mailsim-dark = mailsim.lexers:MailsimDarkStyle
"""

_LOOKUP = """\
from pygments.lexers import get_lexer_by_name
from pygments.styles import get_style_by_name
print(type(get_lexer_by_name("smtp")).__name__, type(get_lexer_by_name("pop")).__name__,
      type(get_lexer_by_name("imap")).__name__, get_style_by_name("mailsim").__name__,
      get_style_by_name("mailsim-dark").__name__)
"""


def test_entry_points_make_the_lexers_and_styles_findable_by_name(tmp_path):
    """The entry points proposed for pyproject.toml, tried on a stand-in distribution."""
    dist_info = tmp_path / "mailsim_lexers_probe-0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: mailsim-lexers-probe\nVersion: 0\n")
    (dist_info / "entry_points.txt").write_text(ENTRY_POINTS)
    result = subprocess.run(
        [sys.executable, "-c", _LOOKUP], capture_output=True, text=True, check=True,
        env={"PYTHONPATH": f"{tmp_path}:{REPO}", "PATH": "/usr/bin:/bin"})
    assert result.stdout.split() == ["SmtpLexer", "Pop3Lexer", "ImapLexer",
                                     "MailsimStyle", "MailsimDarkStyle"]


def _installed_lexer_entry_points():
    return [ep for ep in importlib.metadata.entry_points(group="pygments.lexers")
            if ep.value.startswith("mailsim.")]


@pytest.mark.skipif(not _installed_lexer_entry_points(),
                    reason="mailsim's pygments.lexers entry points are not installed "
                           "(add them to pyproject.toml and reinstall the package)")
def test_installed_package_registers_the_lexers():
    from pygments.lexers import get_lexer_by_name
    from pygments.styles import get_style_by_name
    assert isinstance(get_lexer_by_name("smtp"), SmtpLexer)
    assert isinstance(get_lexer_by_name("pop3"), Pop3Lexer)
    assert isinstance(get_lexer_by_name("imap"), ImapLexer)
    assert get_style_by_name("mailsim") is MailsimStyle
