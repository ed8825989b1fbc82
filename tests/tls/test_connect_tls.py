"""`mailsim connect` with TLS: implicit-TLS URLs (smtps://, pop3s://, imaps://) and a
STARTTLS/STLS typed by the student, over real sockets to servers with mailsim's local
CA; the observer keeps explaining after the upgrade, and a certificate that cannot be
trusted is a note with its fingerprint, not a traceback."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from mailsim.events import Closed, Event, Note, Protocol, Reply, StateChanged, TlsStarted
from mailsim.protocol.explain import Explainer
from mailsim.transcript.bus import Bus
from mailsim.transport.client import RemoteConnection, ServerAddress, parse_server_url, trust_context
from mailsim.transport.tls import TlsMaterial, client_context

from .conftest import implicit_port

pytestmark = pytest.mark.network


class Typist:
    """A RemoteConnection typed into line by line, each line waiting for its answer."""

    def __init__(self, address: ServerAddress, cafile: Path | None) -> None:
        self.bus, self.events = Bus(), []
        self._wanted: tuple[object, asyncio.Future[Event]] | None = None
        self.bus.subscribe(self._hear)
        self.connection = RemoteConnection(address, self.bus, session_id="connect-tls-1", cafile=cafile, tls_timeout=5)

    def _hear(self, event: Event) -> None:
        self.events.append(event)
        if self._wanted is not None and not self._wanted[1].done() and self._wanted[0](event):  # type: ignore[operator]
            self._wanted[1].set_result(event)

    async def until(self, predicate, action=None) -> Event:
        future: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        self._wanted = (predicate, future)
        if action is not None:
            action()
        return await asyncio.wait_for(future, 5)

    async def open(self) -> Reply:
        return await self.until(lambda e: isinstance(e, (Reply, Closed)), self.connection.open)  # type: ignore[return-value]

    async def say(self, line: str, command: str | None = None) -> Reply:
        verb = command or line.split()[0].upper()
        return await self.until(  # type: ignore[return-value]
            lambda e: isinstance(e, Reply) and e.command == verb and e.reply_class.value not in ("intermediate", "data", "closing")
            or isinstance(e, Closed),
            lambda: self.connection.send_line(line),
        )

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]


def address(protocol: Protocol, port: int, *, tls: bool) -> ServerAddress:
    return ServerAddress(protocol, "localhost", port, tls=tls)


def test_urls_with_tls() -> None:
    assert parse_server_url("imaps://h", allow_tls=True) == ServerAddress(Protocol.IMAP, "h", 993, tls=True)
    assert parse_server_url("SMTPS://h:1465", allow_tls=True) == ServerAddress(Protocol.SMTP, "h", 1465, tls=True)
    assert parse_server_url("pop3s://h", allow_tls=True).port == 995
    assert str(parse_server_url("pop3s://h", allow_tls=True)) == "pop3s://h:995"
    with pytest.raises(ValueError, match="smtps://"):
        parse_server_url("https://h", allow_tls=True)
    with pytest.raises(ValueError):  # the testbench's checks speak plain text only
        parse_server_url("imaps://h")


def test_the_trust_store_is_the_system_one_plus_the_local_ca(material: TlsMaterial, tmp_path, monkeypatch) -> None:
    """`mailsim serve` keeps its CA in the user data directory; connect trusts it as well
    as everything the system trusts (a context given a cafile would drop the latter)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    system = client_context().cert_store_stats()["x509_ca"]
    assert trust_context().cert_store_stats()["x509_ca"] == system  # no local CA yet
    local = tmp_path / "mailsim" / "tls" / "ca.pem"
    local.parent.mkdir(parents=True)
    local.write_bytes(Path(material.ca_file).read_bytes())  # type: ignore[arg-type]
    assert trust_context().cert_store_stats()["x509_ca"] == system + 1
    assert client_context(material.ca_file).cert_store_stats()["x509_ca"] == system + 1


@pytest.mark.parametrize(
    ("protocol", "lines", "reached"),
    [
        (Protocol.IMAP, ["a LOGIN alice wonderland", "b SELECT INBOX", "c LOGOUT"], "selected"),
        (Protocol.POP3, ["USER alice", "PASS wonderland", "STAT", "QUIT"], "transaction"),
        (Protocol.SMTP, ["EHLO client.example", "AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=", "MAIL FROM:<alice@mailsim.test>"],
         "mail"),
    ],
)
def test_implicit_tls_urls_log_in_and_run_a_command(tls_servers, material, protocol, lines, reached) -> None:
    async def run() -> Typist:
        typist = Typist(address(protocol, implicit_port(tls_servers, protocol), tls=True), material.ca_file)
        greeting = await typist.open()
        assert isinstance(greeting, Reply) and greeting.reply_class.value in ("success", "data")
        for line in lines:
            verb = line.split()[1] if protocol is Protocol.IMAP else None
            reply = await typist.say(line, verb)
            assert isinstance(reply, Reply) and reply.reply_class.value == "success", (line, reply)
        typist.connection.hang_up()
        return typist

    typist = asyncio.run(run())
    started = typist.of(TlsStarted)
    assert len(started) == 1 and started[0].implicit
    assert started[0].version.startswith("TLSv1.") and started[0].fingerprint == material.fingerprint
    assert started[0].subject == material.subject
    # The handshake came before the greeting, as for an in-process implicit-TLS session.
    kinds = [type(e).__name__ for e in typist.events if not isinstance(e, Note)]
    assert kinds.index("TlsStarted") < kinds.index("Reply")
    assert reached in [e.new for e in typist.of(StateChanged)]


def test_starttls_in_a_smtp_session_upgrades_and_keeps_explaining(tls_servers, material) -> None:
    async def run() -> Typist:
        typist = Typist(address(Protocol.SMTP, tls_servers.smtp, tls=False), material.ca_file)
        await typist.open()
        assert "STARTTLS" in (await typist.say("EHLO client.example")).text
        go_ahead = await typist.say("STARTTLS")
        assert go_ahead.code == "220"
        await typist.until(lambda e: isinstance(e, TlsStarted))
        after = await typist.say("EHLO client.example")
        assert "STARTTLS" not in after.text and "AUTH PLAIN" in after.text
        assert (await typist.say("MAIL FROM:<alice@mailsim.test>", "MAIL")).code == "250"
        assert (await typist.say("QUIT")).code == "221"
        typist.connection.hang_up()
        return typist

    typist = asyncio.run(run())
    started = typist.of(TlsStarted)
    assert len(started) == 1 and not started[0].implicit and started[0].fingerprint == material.fingerprint
    # RFC 3207 §4.2: back to needing EHLO after the upgrade, then greeted and into a transaction again.
    moves = [(e.old, e.new, e.command) for e in typist.of(StateChanged)]
    upgraded = moves.index(("greeted", "connected", "STARTTLS"))
    assert ("connected", "greeted", "EHLO") in moves[upgraded:]
    assert ("greeted", "mail", "MAIL") in moves[upgraded:]
    assert not [n for n in typist.of(Note) if n.key == "dialog.encrypted"]
    assert all(r.key for r in typist.of(Reply))  # every reply matched to the engine's catalog


@pytest.mark.parametrize(("protocol", "upgrade", "login", "reached"), [
    (Protocol.POP3, "STLS", ["USER alice", "PASS wonderland"], "transaction"),
    (Protocol.IMAP, "s STARTTLS", ["a LOGIN alice wonderland"], "authenticated"),
])
def test_stls_and_imap_starttls_then_log_in(strict_servers, material, protocol, upgrade, login, reached) -> None:
    """Against a server that refuses passwords in cleartext: the upgrade makes the login work."""
    async def run() -> Typist:
        typist = Typist(address(protocol, strict_servers.ports[protocol], tls=False), material.ca_file)
        await typist.open()
        verb = "STARTTLS" if protocol is Protocol.IMAP else "STLS"
        assert (await typist.say(upgrade, verb)).reply_class.value == "success"
        await typist.until(lambda e: isinstance(e, TlsStarted))
        for line in login:
            reply = await typist.say(line, "LOGIN" if protocol is Protocol.IMAP else None)
            assert reply.reply_class.value == "success", reply
        typist.connection.hang_up()
        return typist

    typist = asyncio.run(run())
    events = typist.events
    upgraded = next(i for i, e in enumerate(events) if isinstance(e, TlsStarted))
    assert [e.new for e in events[upgraded:] if isinstance(e, StateChanged)] == [reached]
    replies = [e for e in events[upgraded:] if isinstance(e, Reply) and e.reply_class.value == "success"]
    assert replies and all(r.key for r in replies)  # explained as the engine's own replies


def test_an_untrusted_certificate_is_a_note_with_its_fingerprint(tls_servers, material, tmp_path, monkeypatch) -> None:
    """Without mailsim's CA (a machine that never ran `mailsim serve`): the note says
    what failed, the fingerprint to compare, and how to trust it, in both languages."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))  # no local CA here

    async def run(tls: bool) -> Typist:
        port = implicit_port(tls_servers, Protocol.IMAP) if tls else tls_servers.ports[Protocol.IMAP]
        typist = Typist(address(Protocol.IMAP, port, tls=tls), None)
        await typist.open() if not tls else await typist.until(lambda e: isinstance(e, Closed), typist.connection.open)
        if not tls:
            await typist.until(lambda e: isinstance(e, Closed), lambda: typist.connection.send_line("s STARTTLS"))
        return typist

    for tls in (True, False):
        typist = asyncio.run(run(tls))
        notes = [n for n in typist.of(Note) if n.key == "dialog.tls-untrusted"]
        assert len(notes) == 1, [e for e in typist.events if isinstance(e, (Note, Closed))]
        params = dict(notes[0].params)
        assert params["fingerprint"] == material.fingerprint and "issuer" in params["reason"]
        for lang, word in (("en", "fingerprint"), ("es", "huella")):
            text = Explainer(lang).note(Protocol.IMAP, "dialog.tls-untrusted", notes[0].params)
            assert material.fingerprint in text and word in text and "--insecure" in text
        assert not typist.of(TlsStarted) and typist.connection.closed


def test_insecure_skips_the_check_and_says_so(tls_servers, material, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))  # no local CA: only --insecure lets it through
    async def run() -> Typist:
        target = ServerAddress(Protocol.IMAP, "localhost", implicit_port(tls_servers, Protocol.IMAP), tls=True, verify=False)
        typist = Typist(target, None)
        await typist.open()
        typist.connection.hang_up()
        return typist

    typist = asyncio.run(run())
    assert [n.key for n in typist.of(Note)][:2] == ["dialog.connecting", "dialog.tls-insecure"]
    assert typist.of(TlsStarted)[0].fingerprint == material.fingerprint


def test_what_is_typed_right_after_starttls_waits_for_the_handshake(tls_servers, material) -> None:
    """A line typed before the go-ahead came is not sent in cleartext (RFC 3207 §4.2:
    the server would discard it); it goes once the connection is encrypted."""
    async def run() -> Typist:
        typist = Typist(address(Protocol.SMTP, tls_servers.smtp, tls=False), material.ca_file)
        await typist.open()
        await typist.say("EHLO client.example")
        typist.connection.send_line("STARTTLS")
        after = await typist.say("EHLO again.example", "EHLO")
        assert "STARTTLS" not in after.text
        typist.connection.hang_up()
        return typist

    typist = asyncio.run(run())
    kinds = [type(e).__name__ for e in typist.events]
    assert kinds.index("TlsStarted") < max(i for i, e in enumerate(typist.events)
                                           if type(e).__name__ == "ClientLine" and e.data.startswith(b"EHLO again"))
    heard = tls_servers.call(lambda: [e for e in tls_servers.events if isinstance(e, Note)])
    assert "tls.pipelined-discarded" not in [n.key for n in heard]


def test_an_implicit_tls_url_to_a_plain_text_port_is_a_note(tls_servers, material) -> None:
    async def run() -> Typist:
        typist = Typist(address(Protocol.POP3, tls_servers.ports[Protocol.POP3], tls=True), material.ca_file)
        await typist.until(lambda e: isinstance(e, Closed), typist.connection.open)
        return typist

    typist = asyncio.run(run())
    [note] = [n for n in typist.of(Note) if n.key == "dialog.tls-failed"]
    assert "smtps://" in Explainer("en").note(Protocol.POP3, note.key, note.params)
    assert typist.connection.closed and not typist.of(TlsStarted)


def test_cleartext_injected_after_the_go_ahead_is_ignored(material) -> None:
    """A server (or someone in between) that sends more after "220" to STARTTLS: those
    octets came before the handshake, so the client drops them and says why."""
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 injector ESMTP\r\n")
        await reader.readline()
        writer.write(b"250-injector\r\n250 STARTTLS\r\n")
        await reader.readline()
        writer.write(b"220 Go ahead\r\n250 injected\r\n")
        await writer.drain()
        await writer.start_tls(material.server_context())
        await reader.readline()
        writer.write(b"250 injector over TLS\r\n")
        await writer.drain()
        await reader.read()

    async def run() -> Typist:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        typist = Typist(address(Protocol.SMTP, port, tls=False), material.ca_file)
        await typist.open()
        await typist.say("EHLO client.example")
        await typist.say("STARTTLS")
        await typist.until(lambda e: isinstance(e, TlsStarted))
        after = await typist.say("EHLO client.example")
        assert after.text == "injector over TLS"
        typist.connection.hang_up()
        server.close()
        return typist

    typist = asyncio.run(run())
    assert [dict(n.params) for n in typist.of(Note) if n.key == "dialog.tls-injected"] == [{"octets": "14"}]
    assert not [r for r in typist.of(Reply) if r.text == "injected"]  # never taken as an answer


def test_the_cli_takes_tls_urls_and_insecure(monkeypatch) -> None:
    import mailsim.ui.app
    from mailsim.cli import main

    given: dict[str, object] = {}
    monkeypatch.setattr(mailsim.ui.app, "run_app", lambda store, **options: given.update(options) or 0)
    umask = os.umask(0o022)  # main() tightens the process's umask: give it back for later tests
    try:
        assert main(["--no-record", "connect", "imaps://localhost:1993", "smtp://localhost:2525"]) == 0
        assert given["remotes"] == [ServerAddress(Protocol.IMAP, "localhost", 1993, tls=True),
                                    ServerAddress(Protocol.SMTP, "localhost", 2525)]
        assert main(["--no-record", "connect", "--insecure", "pop3s://h"]) == 0
        assert given["remotes"] == [ServerAddress(Protocol.POP3, "h", 995, tls=True, verify=False)]
    finally:
        os.umask(umask)
