"""The world's simulated DNS and the domains it hosts.

Mail between domains finds its way as on the Internet (RFC 5321 §5.1): look up the
recipient domain's MX records, try the hosts in order of preference, find each host's
address with an A record; a domain with no MX falls back to its own A record (the
"implicit MX"); a domain that does not exist, or publishes the null MX of RFC 7505,
cannot receive mail. Nothing here touches the real DNS.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class RecordType(enum.StrEnum):
    MX = "MX"
    A = "A"


@dataclass(frozen=True, slots=True)
class DnsRecord:
    """One resource record: `name` `type` `value` (MX: `preference` too)."""

    name: str
    type: RecordType
    value: str
    preference: int = 0

    def zone_line(self) -> str:
        """The record as a zone file writes it: `ejemplo.test. MX 10 mx.ejemplo.test.`"""
        if self.type is RecordType.MX:
            return f"{self.name}. MX {self.preference} {self.value}."
        return f"{self.name}. A {self.value}"


class RouteProblem(enum.StrEnum):
    """Why a domain has no mail route; each maps to the status code of its bounce."""

    NO_SUCH_DOMAIN = "no-such-domain"  # neither MX nor A: 5.1.2 (RFC 3463)
    NULL_MX = "null-mx"                # MX 0 ".": the domain accepts no mail, 5.1.10 (RFC 7505)


@dataclass(frozen=True, slots=True)
class Route:
    """Where mail for a domain goes: (host, address) pairs in order, or a problem."""

    domain: str
    hosts: tuple[tuple[str, str], ...] = ()
    implicit: bool = False  # no MX: the domain's own A record
    problem: RouteProblem | None = None


@dataclass(slots=True)
class Dns:
    records: list[DnsRecord] = field(default_factory=list)

    def add(self, record: DnsRecord) -> None:
        value = record.value.lower().rstrip(".") if record.type is RecordType.MX else record.value
        self.records.append(DnsRecord(record.name.lower().rstrip("."), record.type, value, record.preference))

    def lookup(self, name: str, type: RecordType) -> list[DnsRecord]:
        name = name.lower().rstrip(".")
        return [r for r in self.records if r.name == name and r.type is type]

    def address(self, host: str) -> str:
        """The host's first A record, or "" when it has none."""
        found = self.lookup(host, RecordType.A)
        return found[0].value if found else ""

    def host_of(self, address: str) -> str:
        """A host name with this address (a reverse lookup, for Received lines), or ""."""
        return next((r.name for r in self.records if r.type is RecordType.A and r.value == address), "")

    def route(self, domain: str) -> Route:
        """RFC 5321 §5.1: MX records by preference, then the implicit MX."""
        domain = domain.lower().rstrip(".")
        mx = sorted(self.lookup(domain, RecordType.MX), key=lambda r: r.preference)
        if mx:
            if len(mx) == 1 and mx[0].value in ("", "."):
                return Route(domain, problem=RouteProblem.NULL_MX)
            return Route(domain, tuple((r.value, self.address(r.value)) for r in mx if r.value not in ("", ".")))
        address = self.address(domain)
        if address:
            return Route(domain, ((domain, address),), implicit=True)
        return Route(domain, problem=RouteProblem.NO_SUCH_DOMAIN)


@dataclass(frozen=True, slots=True)
class Greylisting:
    """A minimal fault a domain's server can show: refuse the first delivery of each
    (client, sender, recipient) with 450 until `delay` seconds have passed (RFC 6647)."""

    delay: float = 0.0

    @property
    def active(self) -> bool:
        return self.delay > 0


@dataclass(slots=True)
class Domain:
    """A mail domain of the world and its server: the name the server gives itself in
    greetings and Received lines, and how it misbehaves (if it does)."""

    name: str
    hostname: str = ""
    greylisting: Greylisting = field(default_factory=Greylisting)

    def __post_init__(self) -> None:
        self.name = self.name.lower()
        self.hostname = (self.hostname or self.name).lower()
