"""Write the example transcripts in `assets/transcripts/` by running their client side
through today's engines (the default world, clock at EXAMPLE_TIME).

    python tests/replay/make_examples.py          # rewrite the files
    python tests/replay/make_examples.py --check  # exit 1 if a file would change

Run it after a deliberate change of a server's wording; `mailsim replay --check` on the
files (and tests/replay/test_examples.py) says when that is needed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mailsim.events import Protocol
from mailsim.resources import assets_dir
from mailsim.transcript.recorder import HEADER_KEY, SCHEMA_VERSION
from mailsim.transcript.replay import Replay
from mailsim.transcript.rfcstyle import rfc_style_of_replay
from mailsim.transcript.script import Action, ActionKind, Script, ScriptStep

EXAMPLE_TIME = 1_790_000_000  # 2026-09-21 13:33:20 UTC

MESSAGE_TO_ALICE = [
    "From: Bob Builder <bob@mailsim.test>",
    "To: Alice Liddell <alice@mailsim.test>, Carol <carol@mailsim.test>",
    "Cc: Bob Builder <bob@mailsim.test>",
    "Subject: Practica 3: reparto de tareas",
    "Date: Mon, 21 Sep 2026 15:30:00 +0200",
    "",
    "Hola a las dos:",
    "",
    "Yo preparo el diagrama de estados; Alice, tu las capturas de trafico.",
    "..Esta linea empieza con un punto: el cliente lo duplica (RFC 5321 4.5.2).",
    "",
    "Bob",
    ".",
]

# Each entry: (session, protocol, client line) or (session, protocol, "@connect").
EXAMPLES: dict[str, tuple[str, list[tuple[str, Protocol, str]]]] = {
    "smtp-several-recipients.txt": (
        "SMTP: one message for three recipients; the server refuses the one it does not know.\n"
        "SMTP: un mensaje para tres destinatarios; el servidor rechaza al que no conoce.",
        [("smtp-1", Protocol.SMTP, "@connect"),
         *[("smtp-1", Protocol.SMTP, line) for line in [
             "EHLO laptop-de-bob.mailsim.test",
             "MAIL FROM:<bob@mailsim.test>",
             "RCPT TO:<alice@mailsim.test>",
             "RCPT TO:<carol@mailsim.test>",
             "RCPT TO:<bob@mailsim.test>",
             "DATA",
         ]],
         ("smtp-1", Protocol.SMTP, "\r\n".join(MESSAGE_TO_ALICE)),
         ("smtp-1", Protocol.SMTP, "QUIT")],
    ),
    "pop3-three-states.txt": (
        "POP3: AUTHORIZATION (USER/PASS), TRANSACTION (STAT, LIST, UIDL, TOP, RETR, DELE, RSET) and UPDATE (QUIT).\n"
        "POP3: los tres estados, de la autorizacion a la actualizacion al salir con QUIT.",
        [("pop3-1", Protocol.POP3, "@connect"),
         *[("pop3-1", Protocol.POP3, line) for line in [
             "CAPA", "USER alice", "PASS wonderland", "STAT", "LIST", "UIDL 1", "TOP 1 0",
             "RETR 1", "DELE 1", "RSET", "DELE 7", "LIST 7", "QUIT",
         ]]],
    ),
    "imap-select-fetch-store-expunge.txt": (
        "IMAP: log in, SELECT the INBOX, FETCH flags and headers, mark a message \\Deleted, EXPUNGE it.\n"
        "IMAP: entrar, seleccionar INBOX, pedir banderas y cabeceras, borrar con STORE y EXPUNGE.",
        [("imap-1", Protocol.IMAP, "@connect"),
         *[("imap-1", Protocol.IMAP, line) for line in [
             "a1 LOGIN alice wonderland",
             "a2 SELECT INBOX",
             "a3 FETCH 1:3 (FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])",
             "a4 STORE 2 +FLAGS (\\Deleted)",
             "a5 EXPUNGE",
             "a6 FETCH 2 (UID FLAGS)",
             "a7 LOGOUT",
         ]]],
    ),
    "imap-idle-woken-by-delivery.txt": (
        "IMAP IDLE: Alice's client waits in IDLE; Bob's SMTP delivery wakes it with * EXISTS.\n"
        "IMAP IDLE: el cliente de Alice espera en IDLE; la entrega SMTP de Bob lo despierta.",
        [("imap-alice", Protocol.IMAP, "@connect"),
         ("imap-alice", Protocol.IMAP, "i1 LOGIN alice wonderland"),
         ("imap-alice", Protocol.IMAP, "i2 SELECT INBOX"),
         ("imap-alice", Protocol.IMAP, "i3 IDLE"),
         ("smtp-bob", Protocol.SMTP, "@connect"),
         *[("smtp-bob", Protocol.SMTP, line) for line in [
             "EHLO laptop-de-bob.mailsim.test",
             "MAIL FROM:<bob@mailsim.test>",
             "RCPT TO:<alice@mailsim.test>",
             "DATA",
             "Subject: Ya estoy en el laboratorio\r\n\r\nTe espero en el puesto 4.\r\n.",
             "QUIT",
         ]],
         ("imap-alice", Protocol.IMAP, "DONE"),
         ("imap-alice", Protocol.IMAP, "i4 FETCH 8 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])"),
         ("imap-alice", Protocol.IMAP, "i5 LOGOUT")],
    ),
}


def script_of(name: str, dialog: list[tuple[str, Protocol, str]]) -> Script:
    steps = []
    sessions: dict[str, Protocol] = {}
    for number, (session, protocol, text) in enumerate(dialog, start=1):
        if text == "@connect":
            sessions[session] = protocol
            action = Action(ActionKind.CONNECT, session, protocol, EXAMPLE_TIME, number, peer="console")
        else:
            action = Action(ActionKind.SEND, session, protocol, EXAMPLE_TIME, number, data=text.encode() + b"\r\n")
        steps.append(ScriptStep(session, protocol, number, [action]))
    return Script(name, {HEADER_KEY: SCHEMA_VERSION, "source": "rfc-style"}, steps, sessions)


def render(name: str) -> str:
    about, dialog = EXAMPLES[name]
    replay = Replay(script_of(name, dialog))
    comment = "".join(f"# {line}\n" for line in about.splitlines())
    return comment + "#\n# Replay it: mailsim replay assets/transcripts/" + name + "\n" + rfc_style_of_replay(replay)


def main(argv: list[str]) -> int:
    folder = assets_dir() / "transcripts"
    folder.mkdir(exist_ok=True)
    stale = []
    for name in EXAMPLES:
        text = render(name)
        path = folder / name
        if "--check" in argv:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    for name in stale:
        print(f"{name} is out of date")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
