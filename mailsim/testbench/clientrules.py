"""The rules a client's conversation is judged by, the same for SMTP, POP3 and IMAP.

What differs between the protocols is data (`data/client.toml`): which reply keys mean
"out of order" or "malformed", which command opens and which closes a session, which
command needs an earlier one to have succeeded. Each rule returns verdicts with the
exchange that shows them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

from mailsim.events import Protocol
from mailsim.lesson.model import Text
from mailsim.protocol.base import split_wire_lines
from mailsim.protocol.explain import Explainer
from mailsim.testbench.conversation import Conversation, Exchange
from mailsim.testbench.texts import data_file, rfc_of, text_of
from mailsim.testbench.verdict import Status, Verdict

# Exchanges quoted in one verdict, at most: the first ones show the pattern.
QUOTED = 3
SHOWN_IN_LIST = 5


@dataclass(frozen=True, slots=True)
class Need:
    """`verb` makes sense only if the latest `after` command succeeded (or, with
    `since`, if any `after` since the latest `since` command did)."""

    verb: str
    after: tuple[str, ...]
    since: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ProtocolRules:
    protocol: Protocol
    opening: tuple[str, ...]
    closing: str
    goal_keys: frozenset[str]
    data_state: str
    order_keys: frozenset[str]
    syntax_keys: frozenset[str]
    lint_notes: frozenset[str]
    needs: tuple[Need, ...]
    distinct_tags: bool = False


@cache
def rules_for(protocol: Protocol) -> ProtocolRules:
    entry = data_file("client")["protocols"][protocol.value]
    return ProtocolRules(
        protocol=protocol,
        opening=tuple(entry["opening"]),
        closing=entry["closing"],
        goal_keys=frozenset(entry["goal_keys"]),
        data_state=entry["data_state"],
        order_keys=frozenset(entry["order_keys"]),
        syntax_keys=frozenset(entry["syntax_keys"]),
        lint_notes=frozenset(entry["lint_notes"]),
        needs=tuple(Need(n["verb"], tuple(n["after"]), tuple(n["since"])) for n in entry["needs"]),
        distinct_tags=entry.get("distinct_tags", False),
    )


@dataclass(frozen=True, slots=True)
class Context:
    """What a rule may know besides the conversation: the server's patience. None
    (a recording judged afterwards): measured from the events' timestamps."""

    idle_timeout: float | None = None
    wait: float | None = None


def verdict(
    rule: str,
    status: Status,
    protocol: Protocol,
    *,
    exchanges: Iterable[Exchange] = (),
    lines: Iterable[str] = (),
    conversation: int = 0,
    outcome: str | None = None,
    **params: object,
) -> Verdict:
    """A client verdict with its texts from `data/client.toml`; `outcome` names the
    detail text when it is not the plain `pass` or `fail`."""
    entry = data_file("client")["verdicts"][rule]
    p = protocol.value
    # A warning tells what is wrong, as a failure does.
    outcome = outcome or ("pass" if status is Status.PASS else "fail")
    quoted = [line for exchange in exchanges for line in exchange.lines()] + list(lines)
    return Verdict(
        check=f"{p}.{rule}",
        status=status,
        title=text_of(entry.get("title"), p, **params),
        detail=text_of(entry.get(outcome), p, **params),
        why=text_of(entry.get("why"), p, **params),
        rfc=rfc_of(entry, p),
        exchange=tuple(quoted),
        conversation=conversation,
    )


def judge_conversation(conversation: Conversation, context: Context) -> list[Verdict]:
    rules = rules_for(conversation.protocol)
    ignored = _ignored(conversation, rules)
    found: list[Verdict] = []
    for rule in RULES:
        found += rule(conversation, rules, context, ignored)
    return found


# -- the rules --------------------------------------------------------------------------------

Rule = Callable[[Conversation, ProtocolRules, Context, list[tuple[Exchange, Exchange]]], list[Verdict]]


def _status(ok: bool) -> Status:
    return Status.PASS if ok else Status.FAIL


def opening(c: Conversation, rules: ProtocolRules, context: Context, ignored) -> list[Verdict]:
    commands = c.commands
    first = commands[0] if commands else None
    verb = first.command if first is not None and first.command else "—"
    ok = first is not None and first.command in rules.opening
    return [
        verdict(
            "opening", _status(ok), c.protocol, exchanges=[first] if first else [], conversation=c.number,
            verb=verb, opening=" / ".join(rules.opening),
        )
    ]


def order(c: Conversation, rules: ProtocolRules, context: Context, ignored) -> list[Verdict]:
    already = {id(e) for _, e in ignored}
    wrong = [e for e in c.commands if e.reply.key in rules.order_keys and id(e) not in already]
    return [
        verdict(
            "order", _status(not wrong), c.protocol, exchanges=wrong[:QUOTED], conversation=c.number,
            count=len(wrong), list=_listed(wrong),
        )
    ]


def ignored_replies(c: Conversation, rules: ProtocolRules, context: Context, ignored) -> list[Verdict]:
    if not ignored:
        return [verdict("ignored", Status.PASS, c.protocol, conversation=c.number)]
    refused, sent = ignored[0]
    return [
        verdict(
            "ignored", Status.FAIL, c.protocol, exchanges=[refused, sent], conversation=c.number,
            verb=sent.command, after=refused.command, reply=refused.reply_line(),
        )
    ]


def syntax(c: Conversation, rules: ProtocolRules, context: Context, ignored) -> list[Verdict]:
    bad = [e for e in c.commands if e.reply.key in rules.syntax_keys]
    return [
        verdict(
            "syntax", _status(not bad), c.protocol, exchanges=bad[:QUOTED], conversation=c.number,
            count=len(bad), list=_listed(bad, by_line=True),
        )
    ]


def line_ends(c: Conversation, rules: ProtocolRules, context: Context, ignored) -> list[Verdict]:
    bare = [
        line for chunk in c.client_lines for line in split_wire_lines(chunk)
        if line.endswith(b"\n") and not line.endswith(b"\r\n")
    ]
    text = bare[0].decode("utf-8", errors="replace").rstrip("\n")[:60] if bare else ""
    return [
        verdict(
            "line-ends", _status(not bare), c.protocol, conversation=c.number,
            lines=[f"C: {text}␊"] if bare else [], count=len(bare), example=f"«{text}\\n»",
        )
    ]


def hanging(c: Conversation, rules: ProtocolRules, context: Context, ignored) -> list[Verdict]:
    """A conversation the server ended for silence; in DATA, the missing final dot."""
    timed_out = c.closed_reason in ("idle timeout", "server shutdown")
    configured = context.idle_timeout if c.closed_reason == "idle timeout" else context.wait
    seconds = _seconds(configured if configured is not None else round(max(c.closed_at - c.last_heard, 0.0), 1))
    last = c.exchanges[-1] if c.exchanges else None
    reason = last.reply_line() if last is not None and last.reply is not None else closed_reason(c)
    found = []
    sent_data = rules.data_state and any(e.state == rules.data_state for e in c.exchanges)
    if timed_out and rules.data_state and c.closed_in == rules.data_state:
        tail = [e for e in c.exchanges if e.state == rules.data_state][-1:]
        return [
            verdict("data-end", Status.FAIL, c.protocol, exchanges=tail, conversation=c.number, seconds=seconds, reply=reason)
        ]
    if sent_data:
        found.append(verdict("data-end", Status.PASS, c.protocol, conversation=c.number))
    found.append(
        verdict(
            "hanging", _status(not timed_out), c.protocol, exchanges=[last] if timed_out and last else [],
            conversation=c.number, state=c.closed_in, seconds=seconds, reason=reason,
        )
    )
    return found


def closing(c: Conversation, rules: ProtocolRules, context: Context, ignored) -> list[Verdict]:
    said = next((e for e in c.commands if e.command == rules.closing), None)
    return [
        verdict(
            "closing", _status(said is not None), c.protocol, exchanges=[said] if said else [], conversation=c.number,
            closing=rules.closing, reply=said.reply_line() if said else "", reason=closed_reason(c),
        )
    ]


def goal(c: Conversation, rules: ProtocolRules, context: Context, ignored) -> list[Verdict]:
    reached = [e for e in c.commands if e.reply.key in rules.goal_keys]
    return [
        verdict(
            "goal", _status(bool(reached)), c.protocol, exchanges=reached[:1], conversation=c.number,
            count=len(reached), reply=reached[0].reply_line() if reached else "",
        )
    ]


def tags(c: Conversation, rules: ProtocolRules, context: Context, ignored) -> list[Verdict]:
    """IMAP: a tag used twice is a warning (the answers can no longer be told apart)."""
    if not rules.distinct_tags:
        return []
    seen: dict[str, list[Exchange]] = {}
    for exchange in c.commands:
        if exchange.reply.tag:
            seen.setdefault(exchange.reply.tag, []).append(exchange)
    reused = next((same for same in seen.values() if len(same) > 1), None)
    if reused is None:
        return [verdict("tags", Status.PASS, c.protocol, conversation=c.number)]
    return [
        verdict(
            "tags", Status.WARN, c.protocol, exchanges=reused[:2], conversation=c.number,
            tag=reused[0].reply.tag, count=len(reused),
        )
    ]


def notes(c: Conversation, rules: ProtocolRules, context: Context, ignored) -> list[Verdict]:
    """The engine's own teaching notes that point at the client's manners, as warnings."""
    found, seen = [], set()
    english, spanish = Explainer("en"), Explainer("es")
    for note, index in c.notes:
        key = note.key.split(".", 1)[-1]
        if key not in rules.lint_notes or key in seen:
            continue
        seen.add(key)
        base = verdict("note", Status.WARN, c.protocol, conversation=c.number)
        exchange = c.exchanges[index].lines() if 0 <= index < len(c.exchanges) else []
        found.append(
            Verdict(
                check=f"{c.protocol.value}.note.{key}",
                status=Status.WARN,
                title=base.title,
                detail=Text(
                    es=spanish.note(c.protocol, note.key, note.params), en=english.note(c.protocol, note.key, note.params)
                ),
                why=base.why,
                exchange=tuple(exchange),
                conversation=c.number,
            )
        )
    return found


RULES: tuple[Rule, ...] = (opening, order, ignored_replies, syntax, line_ends, hanging, goal, closing, tags, notes)


# -- helpers ------------------------------------------------------------------------------------


def _ignored(c: Conversation, rules: ProtocolRules) -> list[tuple[Exchange, Exchange]]:
    """(the refused exchange, the command sent anyway) pairs, in order."""
    needs = {n.verb: n for n in rules.needs}
    commands = c.commands
    found = []
    for index, exchange in enumerate(commands):
        need = needs.get(exchange.command)
        if need is None or exchange.positive:
            continue
        window = []
        for earlier in reversed(commands[:index]):
            if earlier.command in need.since:
                break
            if earlier.command in need.after:
                window.append(earlier)
                if not need.since:
                    break
        if window and not any(e.positive for e in window):
            found.append((window[0], exchange))
    return found


def closed_reason(c: Conversation) -> Text:
    """Why the conversation ended, in words (the engines give a short English reason)."""
    reasons = data_file("client")["reasons"]
    return text_of(reasons.get(c.closed_reason, {"en": c.closed_reason or "?", "es": c.closed_reason or "?"}))


def _listed(exchanges: list[Exchange], *, by_line: bool = False) -> str:
    items = []
    for e in exchanges[:SHOWN_IN_LIST]:
        said = f"«{e.lines()[0][3:]}»" if by_line and e.client else e.command or "?"
        items.append(f"{said} → {e.reply.code}")
    if len(exchanges) > SHOWN_IN_LIST:
        items.append("…")
    return ", ".join(items)


def _seconds(value: float) -> str:
    return f"{value:g}"
