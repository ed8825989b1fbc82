"""Blocks of wire lines (a DATA body, a RETR body, a FETCH literal) become one
transcript row per line, and only a block's first line can be a reply."""

from __future__ import annotations

from mailsim.events import ClientLine, Protocol, ReplyClass, ServerLine
from mailsim.protocol.pop3 import Pop3Session
from mailsim.protocol.smtp import SmtpSession
from mailsim.ui.model import Direction, SessionModel


def test_client_data_block_is_split_into_rows() -> None:
    model = SessionModel("s1", Protocol.SMTP, SmtpSession)
    model.apply(ClientLine("s1", 0.0, Protocol.SMTP, b"Subject: a\r\n\r\n250 not a reply\r\nend\r\n"))
    assert [line.data for line in model.lines] == [b"Subject: a\r\n", b"\r\n", b"250 not a reply\r\n", b"end\r\n"]
    assert all(line.direction is Direction.CLIENT for line in model.lines)


def test_server_body_block_rows_are_content_not_replies() -> None:
    model = SessionModel("s1", Protocol.POP3, Pop3Session)
    model.apply(ServerLine("s1", 0.0, Protocol.POP3, b"+OK 20 octets\r\n"))
    model.apply(ServerLine("s1", 0.0, Protocol.POP3, b"-ERR looks like a reply\r\nbody\r\n"))
    first, *body = model.lines
    assert first.reply_class is ReplyClass.SUCCESS and not first.content
    # A POP3 block is a message body: even a line that looks like a reply is content.
    assert [line.data for line in body] == [b"-ERR looks like a reply\r\n", b"body\r\n"]
    assert all(line.content and line.reply_class is None for line in body)


def test_imap_fetch_block_first_line_is_untagged_data() -> None:
    model = SessionModel("s1", Protocol.IMAP, None)
    model.apply(ServerLine("s1", 0.0, Protocol.IMAP, b"* 1 FETCH (BODY[] {9}\r\nSubject: x\r\n)\r\n"))
    assert model.lines[0].reply_class is ReplyClass.DATA
    assert [line.content for line in model.lines] == [False, True, True]
