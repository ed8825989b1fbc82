"""The starting world of a recording: what a replay needs to rebuild the same store.

A recording's header holds a snapshot of the store at the moment recording began —
accounts, mailboxes (with their UIDVALIDITY and UIDNEXT), messages (UID, flags,
internal date, raw bytes), the session settings — plus the state of the id generator.
Replaying the client side against that store, with the clock pinned to the recorded
times, gives the same bytes the server sent then.

Messages that are part of the default world are written as a reference (their
SHA-256), so a recording of the usual lab stays small; any other message is written
in full.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from datetime import datetime
from functools import lru_cache
from typing import Any

from mailsim.clock import Clock, IdGenerator, SequentialIds
from mailsim.protocol.base import SessionConfig
from mailsim.store.model import StoredMessage
from mailsim.store.store import MailStore, StoreError


class SnapshotError(ValueError):
    """A starting world that cannot be rebuilt (the message says what is wrong)."""


class SeededIds:
    """Ids that look random (12 hex digits) but follow from a seed and a counter, so a
    recording can say where the sequence stood and a replay can continue it."""

    def __init__(self, seed: str, issued: int = 0) -> None:
        self.seed = seed
        self.issued = issued

    def next_id(self) -> str:
        self.issued += 1
        return hashlib.sha256(f"{self.seed}:{self.issued}".encode()).hexdigest()[:12].upper()


def describe_ids(ids: IdGenerator) -> dict[str, Any] | None:
    """Where an id generator stands, or None when it cannot be reproduced (random)."""
    if isinstance(ids, SeededIds):
        return {"kind": "seeded", "seed": ids.seed, "issued": ids.issued}
    if isinstance(ids, SequentialIds):
        counter = repr(ids._counter)  # itertools.count(n): the next number to issue
        return {"kind": "sequential", "prefix": ids._prefix, "next": int(counter[6:-1])}
    return None


def ids_from_description(description: dict[str, Any] | None) -> IdGenerator:
    if description is None:
        return SeededIds("mailsim")
    kind = description.get("kind")
    if kind == "seeded":
        return SeededIds(str(description["seed"]), int(description.get("issued", 0)))
    if kind == "sequential":
        ids = SequentialIds(str(description.get("prefix", "ID")))
        for _ in range(int(description.get("next", 1)) - 1):
            ids.next_id()
        return ids
    raise SnapshotError(f"unknown id generator {kind!r}")


# -- store snapshots ------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _default_world_messages() -> dict[str, bytes]:
    from mailsim.store.world import load_world

    return {hashlib.sha256(m.raw).hexdigest(): m.raw for m in load_world().messages}


def _encode_raw(raw: bytes) -> dict[str, str]:
    digest = hashlib.sha256(raw).hexdigest()
    if digest in _default_world_messages():
        return {"world": digest}
    try:
        return {"text": raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(raw).decode("ascii")}


def _decode_raw(value: Any) -> bytes:
    if not isinstance(value, dict):
        raise SnapshotError("a message's raw bytes must be {'text'|'base64'|'world': ...}")
    if "text" in value:
        return str(value["text"]).encode("utf-8")
    if "base64" in value:
        return base64.b64decode(value["base64"])
    if "world" in value:
        raw = _default_world_messages().get(value["world"])
        if raw is None:
            raise SnapshotError(f"message {value['world'][:12]}… is not in this version's default world")
        return raw
    raise SnapshotError("a message's raw bytes must be {'text'|'base64'|'world': ...}")


def snapshot_store(store: MailStore, passwords: dict[str, str] | None = None) -> dict[str, Any]:
    """The store as plain JSON-ready data (accounts, mailboxes, messages); with
    `passwords`, each account's password as given there (a recording's stand-ins,
    `transcript/secrets.py`), never the real one."""
    accounts = []
    for account in store.accounts.values():
        mailboxes = []
        for mailbox in account.mailboxes.values():
            mailboxes.append(
                {
                    "name": mailbox.name,
                    "uidvalidity": mailbox.uidvalidity,
                    "uidnext": mailbox.uidnext,
                    "subscribed": mailbox.subscribed,
                    "special_use": mailbox.special_use,
                    "messages": [
                        {
                            "uid": m.uid,
                            "flags": sorted(m.flags),
                            "internal_date": m.internal_date.isoformat(),
                            "raw": _encode_raw(m.raw),
                        }
                        for m in mailbox.messages
                    ],
                }
            )
        accounts.append(
            {
                "name": account.name,
                "password": account.password if passwords is None else passwords[account.name],
                "display_name": account.display_name,
                "aliases": list(account.aliases),
                "quota": store.quota(account.name),
                "mailboxes": mailboxes,
            }
        )
    return {
        "domain": store.domain,
        "uidvalidity_seed": getattr(store, "_uidvalidity_seed", 0),
        "accounts": accounts,
    }


def restore_store(snapshot: dict[str, Any], *, clock: Clock, ids: IdGenerator) -> MailStore:
    """A fresh store holding exactly what `snapshot_store` saw."""
    try:
        store = MailStore(str(snapshot["domain"]), clock=clock, ids=ids)
        for entry in snapshot["accounts"]:
            account = store.add_account(
                entry["name"], entry["password"], display_name=entry.get("display_name", ""), aliases=entry.get("aliases", ())
            )
            account.quota = entry.get("quota")  # None in older recordings: the default
            for box in entry["mailboxes"]:
                if box["name"] not in account.mailboxes:
                    store.create_mailbox(account.name, box["name"])
                mailbox = account.mailboxes[box["name"]]
                mailbox.uidvalidity = int(box["uidvalidity"])
                mailbox.uidnext = int(box["uidnext"])
                mailbox.subscribed = bool(box.get("subscribed", True))
                mailbox.special_use = str(box.get("special_use", ""))
                mailbox.messages = [
                    StoredMessage(
                        uid=int(m["uid"]),
                        raw=_decode_raw(m["raw"]),
                        internal_date=datetime.fromisoformat(m["internal_date"]),
                        flags=set(m.get("flags", ())),
                    )
                    for m in box["messages"]
                ]
        store._uidvalidity_seed = int(snapshot.get("uidvalidity_seed", 0))  # type: ignore[attr-defined]
    except SnapshotError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, StoreError) as exc:
        raise SnapshotError(f"bad starting world: {type(exc).__name__}: {exc}") from None
    return store


def describe_config(config: SessionConfig) -> dict[str, Any]:
    return dataclasses.asdict(config)


def config_from_description(description: dict[str, Any] | None, domain: str) -> SessionConfig:
    if not description:
        return SessionConfig(hostname=domain)
    known = {f.name for f in dataclasses.fields(SessionConfig)}
    try:
        return SessionConfig(**{k: v for k, v in description.items() if k in known})
    except TypeError as exc:
        raise SnapshotError(f"bad session settings: {exc}") from None


def starting_point(
    store: MailStore, config: SessionConfig | None = None, *, passwords: dict[str, str] | None = None
) -> dict[str, Any]:
    """The header's `start` object: time, ids, session settings and the store.

    A store whose ids cannot be reproduced gets seeded ones from now on, so every
    queue id and APOP banner issued while recording can be issued again in a replay.
    """
    description = describe_ids(store.ids)
    if description is None:
        import secrets

        store.ids = SeededIds(secrets.token_hex(4))
        description = describe_ids(store.ids)
    return {
        "time": store.clock.now(),
        "ids": description,
        "config": describe_config(config or SessionConfig(hostname=store.domain)),
        "store": snapshot_store(store, passwords),
    }
