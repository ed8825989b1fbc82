"""What one client may take of a shared server: connection slots, time to finish a
command, memory for answers it does not read, and login guesses.

The defaults fit one machine serving a class of 30-200 students, each with a mail
client that may open several connections (Thunderbird keeps up to 5 per IMAP
account) besides telnet and the app. They live here, in the transport, so they hold
before any engine sees a byte of an unauthenticated client; `mailsim serve` exposes
each one, and tests set them small to stay fast.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from mailsim.protocol.throttle import LoginPolicy

log = logging.getLogger(__name__)

# Connections of all protocols together. Well under the usual limit of 1024 open
# files per process, leaving room for the listeners, Maildir files and recordings.
DEFAULT_MAX_CONNECTIONS = 500


@dataclass(frozen=True)
class ServerLimits:
    # Connections of one protocol: a flood of SMTP cannot lock POP3 and IMAP out.
    max_per_protocol: int = 300
    # Connections from one address, all protocols together: a student's mail client,
    # telnet windows and app fit; one machine cannot take every slot. Behind a NAT
    # where a whole class shares one address, raise it.
    max_per_address: int = 20
    # Seconds to complete a command line once it has begun. Bytes trickling in are
    # not activity; a literal or DATA that keeps flowing (64 KiB per deadline) is.
    line_deadline: float = 60.0
    # Octets an engine hands out at a time, and the transport's write buffer mark:
    # above it nothing more is produced and the client's input is not read until
    # the socket drains. A client that never reads holds about their sum.
    stream_chunk: int = 256 * 1024
    write_buffer: int = 64 * 1024
    login: LoginPolicy = field(default_factory=LoginPolicy)


# Input that keeps a command in progress alive past the deadline (a big literal).
DEADLINE_PROGRESS = 64 * 1024


def raise_open_file_limit(needed: int) -> int:
    """Make sure the process may hold `needed` open files (sockets are files): raise
    the soft limit toward the hard one if it is lower. Returns the limit in force."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not Unix
        return needed
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return needed
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):
        target = soft
    if target < needed:
        log.warning("only %d open files allowed: fewer connections than configured can be served", target)
    return target
