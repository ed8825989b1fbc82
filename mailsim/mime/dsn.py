"""Delivery status notifications: the bounce a sender gets when relaying failed.

RFC 3464 (the delivery-status fields) inside RFC 6522's multipart/report: a
human-readable part, a `message/delivery-status` part (per-message fields, then one
block per recipient: Final-Recipient, Action, Status, Remote-MTA, Diagnostic-Code) and
the original message's header as `text/rfc822-headers`. Built with the stdlib `email`
package, so what it writes is what `email` (and every mail client) reads back.

Nothing here reads a clock or draws an id: the caller passes the time and the queue
id, and the boundary and Message-ID are made from them, so a bounce is reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email import charset as email_charset
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.mime.text import MIMEText
from email.policy import SMTP
from email.utils import format_datetime

# The human-readable part, in both languages of the lab (the headers and the
# machine-readable part stay in the RFCs' English).
_EXPLANATION = """\
This is the mail system at host {host}.

I'm sorry to have to inform you that your message could not be delivered
to one or more recipients. The reasons are in the delivery report below
(Status and Diagnostic-Code); the message's header is attached.

Este es el sistema de correo de {host}.

Lamentamos informarle de que su mensaje no pudo entregarse a uno o más
destinatarios. Los motivos están en el informe de entrega que sigue
(Status y Diagnostic-Code); se adjunta la cabecera del mensaje.

{lines}
"""


@dataclass(frozen=True, slots=True)
class FailedRecipient:
    recipient: str
    status: str             # RFC 3463, e.g. "5.1.1"
    diagnostic: str         # the remote server's reply ("550 5.1.1 ..."), or ours
    remote_mta: str = ""    # the host that answered, "" when none did
    diagnostic_type: str = "smtp"  # "smtp" for a server's reply, "x-mailsim" for ours (DNS, giving up)
    last_attempt: datetime | None = None


def build_bounce(
    *,
    reporting_mta: str,
    sender: str,
    original: bytes,
    failed: list[FailedRecipient] | tuple[FailedRecipient, ...],
    queue_id: str,
    arrival: datetime,
    now: datetime,
) -> bytes:
    """The bounce for `original` (as it was queued), to be delivered to `sender`."""
    stamp = int(now.timestamp())
    report = MIMEMultipart("report", report_type="delivery-status", boundary=f"{queue_id}.{stamp}/{reporting_mta}")
    report["From"] = f"Mail Delivery System <MAILER-DAEMON@{reporting_mta}>"
    report["To"] = sender
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report["Date"] = format_datetime(now)
    report["Message-ID"] = f"<{stamp}.{queue_id}@{reporting_mta}>"
    report["Auto-Submitted"] = "auto-replied"  # RFC 3834: no automatic answer to this one

    lines = "\n".join(f"<{f.recipient}>: {f.diagnostic}" for f in failed)
    readable = email_charset.Charset("utf-8")
    readable.body_encoding = email_charset.QP  # readable in the raw source too
    explanation = MIMENonMultipart("text", "plain", charset="utf-8")  # what MIMEText does, with QP
    explanation.set_payload(_EXPLANATION.format(host=reporting_mta, lines=lines), readable)
    report.attach(_part(explanation))

    status = Message()
    status.set_type("message/delivery-status")
    per_message = Message()
    per_message["Reporting-MTA"] = f"dns; {reporting_mta}"
    per_message["X-Mailsim-Queue-ID"] = queue_id
    per_message["Arrival-Date"] = format_datetime(arrival)
    blocks: list[Message | str] = [per_message]
    for failure in failed:
        block = Message()
        block["Final-Recipient"] = f"rfc822; {failure.recipient}"
        block["Action"] = "failed"
        block["Status"] = failure.status
        if failure.remote_mta:
            block["Remote-MTA"] = f"dns; {failure.remote_mta}"
        block["Diagnostic-Code"] = f"{failure.diagnostic_type}; {failure.diagnostic}"
        if failure.last_attempt is not None:
            block["Last-Attempt-Date"] = format_datetime(failure.last_attempt)
        blocks.append(block)
    status.set_payload(blocks)
    report.attach(status)

    header = original.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace") + "\r\n"
    report.attach(_part(MIMEText(header, "rfc822-headers", "utf-8" if not header.isascii() else "us-ascii")))
    return report.as_bytes(policy=SMTP)


def _part(part: Message) -> Message:
    del part["MIME-Version"]  # only the top level carries it (RFC 2045 §4)
    return part
