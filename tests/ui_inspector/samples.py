"""The messages the inspector tests open."""

from __future__ import annotations

from mailsim.resources import assets_dir

MESSAGES = assets_dir() / "world" / "messages"
CARTA = MESSAGES / "alice" / "03-carta-adjunta.eml"          # multipart/mixed with Carta.odt
ALTERNATIVE = MESSAGES / "alice" / "04-boletin.eml"          # multipart/alternative
FORWARDED = MESSAGES / "alice" / "05-reenviado.eml"          # message/rfc822 inside

# Broken on purpose: 8-bit header, a base64 part with bad characters and
# padding, and the closing boundary never comes.
MALFORMED = (
    b"From: Jos\xc3\xa9 <jose@mailsim.test>\r\n"
    b"To: alice@mailsim.test\r\n"
    b"Subject: =?utf-8?q?Entrega_rota?=\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="roto"\r\n'
    b"\r\n"
    b"--roto\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"La entrega va adjunta.\r\n"
    b"--roto\r\n"
    b'Content-Type: application/pdf; name="entrega.pdf"\r\n'
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n"
    b"JVBERi0xLjQK!!!JeLjz9M\r\n"
    b"AAAA=\r\n"
)


def all_samples() -> list:
    return sorted(MESSAGES.rglob("*.eml"))
