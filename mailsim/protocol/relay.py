"""Relaying: the outgoing queue's attempts, each a real SMTP dialog between servers.

For a due queue entry the runner looks up the recipient domain in the world's DNS
(MX, then the implicit MX), and for each host in turn connects an `SmtpClient` (the
sending server) to that host's `SmtpSession` in the MX role (the receiving server) —
in-process, no socket, but byte for byte the dialog two MTAs would have. The server
side publishes its events like any session, under a session id of its own
(`relay-smtp-N`), so the app shows the hop as a session, the recorder records it, and
a replay re-runs it.

The outcome goes back to the queue: delivered, deferred (4xx, no route to a host) or
failed (5xx, a domain that does not exist or takes no mail). A failure, or giving up
after the last retry, sends the sender an RFC 3464 bounce from MAILER-DAEMON.

No asyncio here: `run_due(now)` does the work at a time someone else decides (the app
and `mailsim serve` with timers, tests and the fast-forward key directly).
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import format_datetime

from mailsim.events import Delivered, Event, RelayHop
from mailsim.mime.dsn import FailedRecipient, build_bounce
from mailsim.protocol.base import SessionConfig
from mailsim.protocol.smtp import SmtpSession
from mailsim.protocol.smtp_client import RecipientOutcome, ServerReply, SmtpClient
from mailsim.store.dns import Route, RouteProblem
from mailsim.store.model import INBOX, QueuedMessage
from mailsim.store.queue import Attempt, Outcome, QueueEntry, QueueStatus
from mailsim.store.store import MailStore

Publish = Callable[[Event], None]

# The source port a sending server's connection seems to come from (Received lines).
CLIENT_PORT = 49152
# RFC 3463 statuses for failures that are not a server's reply.
ROUTE_STATUS = {
    RouteProblem.NO_SUCH_DOMAIN: ("5.1.2", "Host or domain name not found. Name service error for name={domain} type=MX"),
    RouteProblem.NULL_MX: ("5.1.10", "Domain {domain} does not accept mail (nullMX, RFC 7505)"),
}
NO_SERVER = ServerReply("421", "4.4.1", "connect to {host}[{address}]:25: Connection refused")

_hop_numbers = itertools.count(1)
log = logging.getLogger(__name__)


def mx_config(store: MailStore, hostname: str, base: SessionConfig | None = None) -> SessionConfig:
    """The settings of the server that answers as `hostname`: the MX role, for every
    domain of the world whose mail it receives."""
    domains = tuple(d.name for d in store.domains.values() if d.hostname == hostname.lower())
    return dataclasses.replace(base or SessionConfig(), hostname=hostname.lower(), role="mx", domains=domains)


class QueueRunner:
    """Runs the outgoing queue's due attempts for the server that queued them."""

    def __init__(self, store: MailStore, publish: Publish, *, config: SessionConfig | None = None) -> None:
        self.store = store
        self.publish = publish
        self.config = config or SessionConfig(hostname=store.domain)

    @property
    def hostname(self) -> str:
        """The sending server's name: the home domain's server."""
        return self.store.domains[self.store.domain].hostname

    def run_due(self, now: float | None = None) -> list[QueueEntry]:
        """Try every entry due at `now` (default: the store's clock); returns them."""
        now = self.store.clock.now() if now is None else now
        due = self.store.queue.due(now)
        for entry in due:
            try:
                self.attempt(entry)
            except Exception as exc:  # an engine bug must not stop the queue: retry later
                log.exception("relay attempt of %s for %s failed", entry.entry_id, entry.recipient)
                self.settle(entry, Attempt(self.store.clock.now(), "", "", "", Outcome.TRANSIENT, "451", "4.3.0",
                                            f"local error in processing: {type(exc).__name__}"))
        return due

    def attempt(self, entry: QueueEntry) -> QueueStatus:
        """One delivery attempt of one entry, whatever its time."""
        route = self.store.dns.route(entry.domain)
        if route.problem is not None:
            status, text = ROUTE_STATUS[route.problem]
            attempt = Attempt(self.store.clock.now(), "", "", "", Outcome.PERMANENT, "", status,
                              text.format(domain=entry.domain))
            return self.settle(entry, attempt, diagnostic_type="x-mailsim")
        return self.settle(entry, self._try_hosts(entry, route))

    # -- one attempt ---------------------------------------------------------------------

    def _try_hosts(self, entry: QueueEntry, route: Route) -> Attempt:
        """RFC 5321 §5.1: the MX hosts in order, until one gives an answer."""
        attempt: Attempt | None = None
        for host, address in route.hosts:
            if not address or self.store.domain_of_host(host) is None:
                reply = NO_SERVER
                attempt = Attempt(self.store.clock.now(), host, address, "", Outcome.TRANSIENT, reply.code,
                                  reply.enhanced, reply.text.format(host=host, address=address or "?"))
                continue
            return self._hop(entry, host, address)
        assert attempt is not None  # a route without a problem has at least one host
        return attempt

    def _hop(self, entry: QueueEntry, host: str, address: str) -> Attempt:
        """The SMTP dialog with the next hop: client engine and server engine, in step."""
        message = entry.message
        session_id = f"relay-smtp-{next(_hop_numbers)}"
        client_address = self.store.dns.address(self.hostname) or "127.0.0.1"
        server = SmtpSession(self.store, session_id=session_id, peer=f"{client_address}:{CLIENT_PORT}",
                             config=mx_config(self.store, host, self.config))
        client = SmtpClient(self.hostname, message.sender, [message.recipient], message.raw)
        server.start()
        self.publish_all(server.events())
        self.publish(RelayHop(session_id, self.store.clock.now(), message.queue_id, message.sender,
                              message.recipient, self.hostname, host, len(entry.attempts) + 1))
        filed: tuple[str, str, int] | None = None
        while not client.done:
            answer = server.data_to_send()
            filed = self.publish_all(server.events()) or filed
            if answer:
                client.receive_data(answer)
            if server.closed and not client.done:
                client.receive_eof()
                break
            said = client.data_to_send()
            if said:
                server.receive_data(said)
            elif not answer:  # neither side has anything to say: a stuck dialog
                client.receive_eof()
        if not server.closed:
            server.receive_eof()
        server.data_to_send()
        filed = self.publish_all(server.events()) or filed
        result: RecipientOutcome = client.outcomes[message.recipient]
        reply = result.reply
        return Attempt(self.store.clock.now(), host, address, session_id, result.outcome, reply.code,
                       reply.enhanced, reply.text.replace("\n", " "),
                       filed if result.outcome is Outcome.DELIVERED else None)

    # -- after the attempt ---------------------------------------------------------------

    def settle(self, entry: QueueEntry, attempt: Attempt, *, diagnostic_type: str = "smtp") -> QueueStatus:
        """Record an attempt's outcome; bounce when it was the last. (A replay calls it
        too, with the outcome of the relay session it re-ran.)"""
        status = self.store.queue.record(entry, attempt)
        self.store.notify_queue(entry)
        if status is QueueStatus.BOUNCED:
            self._bounce(entry, attempt, diagnostic_type)
        return status

    def _bounce(self, entry: QueueEntry, attempt: Attempt, diagnostic_type: str) -> None:
        """The sender learns of the failure (RFC 5321 §4.5.5, §6.1) — unless the failed
        message was itself a bounce (null reverse-path): those are never bounced."""
        message = entry.message
        if not message.sender:
            return
        now = datetime.fromtimestamp(self.store.clock.now(), tz=timezone.utc)
        status = attempt.enhanced or ("4.4.7" if attempt.outcome is Outcome.TRANSIENT else "5.0.0")
        failed = FailedRecipient(
            message.recipient, status, attempt.diagnostic, attempt.host, diagnostic_type,
            datetime.fromtimestamp(attempt.time, tz=timezone.utc),
        )
        raw = build_bounce(reporting_mta=self.hostname, sender=message.sender, original=message.raw,
                           failed=[failed], queue_id=message.queue_id, arrival=message.queued_at, now=now)
        received = f"Received: by {self.hostname} (mailsim) id {message.queue_id}B;\r\n\t{format_datetime(now)}\r\n".encode()
        account = self.store.resolve(message.sender)
        if account is not None:
            stored = self.store.append(account.name, INBOX, b"Return-Path: <>\r\n" + received + raw, internal_date=now)
            entry.bounce_uid = stored.uid
            if attempt.session_id:
                self.publish(Delivered(attempt.session_id, now.timestamp(), message.queue_id, "",
                                       message.sender, account.name, INBOX, stored.uid, stored.size))
            return
        # The sender is in another domain: the bounce travels like any mail, from <>.
        self.store.queue_outgoing(QueuedMessage(message.queue_id + "B", "", message.sender, received + raw, now,
                                                "MAILER-DAEMON"))

    def publish_all(self, events: list[Event]) -> tuple[str, str, int] | None:
        """Publish; returns where a delivery among them filed the message, if any."""
        filed = None
        for event in events:
            self.publish(event)
            if isinstance(event, Delivered) and event.account:
                filed = (event.account, event.mailbox, event.uid)
        return filed


class HopReplay:
    """A relay session re-run from a recording: the server engine answers the recorded
    client lines, and this follows its answers with a client engine, so the queue's
    record of the attempt — and the bounce, if it was the last — come out as they did."""

    def __init__(self, store: MailStore, hop: RelayHop) -> None:
        self.store = store
        self.hop = hop
        self.client = SmtpClient(hop.client_host, hop.sender, [hop.recipient], b"")

    def server_said(self, data: bytes) -> None:
        if data and not self.client.done:
            self.client.receive_data(data)
            self.client.data_to_send()  # the recording says what the client sent

    def finish(self) -> QueueStatus | None:
        """The session ended: settle the queue entry it was for (None if the replay's
        queue does not hold it, e.g. the recording began after it was queued)."""
        if not self.client.done:
            self.client.receive_eof()
        hop = self.hop
        entry = self.store.queue.find(hop.queue_id, hop.recipient)
        result = self.client.outcomes.get(hop.recipient)
        if entry is None or entry.status.final or result is None:
            return None
        reply = result.reply
        attempt = Attempt(self.store.clock.now(), hop.server_host, self.store.dns.address(hop.server_host),
                          hop.session_id, result.outcome, reply.code, reply.enhanced, reply.text.replace("\n", " "))
        return QueueRunner(self.store, lambda event: None).settle(entry, attempt)
