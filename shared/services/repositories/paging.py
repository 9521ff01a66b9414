"""Listing that scales: newest-first indexes of name-only markers, paged with an opaque token,
and small "open" sets for what the sweeper must revisit (so no listing walks the whole history)."""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Generic, Iterable, TypeVar
from urllib.parse import quote, unquote

from shared.domain.errors import InvalidInput
from shared.ports import DocumentExists, DocumentStore
from shared.services.documents import update_document

T = TypeVar("T")

SCAN_PAGE = 200  # keys per listing request while filtering (a token records the page size it was made with)
MAX_READS = 1000  # documents one page may read while filtering; past it the page ends early, with a token
MAX_LIMIT = 200
_EPOCH_MS_SPAN = 10**15


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    continuation: str | None = None


def check_limit(limit: int) -> int:
    if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be an integer from 1 to {MAX_LIMIT}")
    return limit


def newest_first(moment: datetime) -> str:
    """A fixed-width key part that sorts later moments first."""
    return f"{_EPOCH_MS_SPAN - int(moment.timestamp() * 1000):015d}"


@dataclass
class _Cursor:
    """Where a listing goes on: the store's token of a key page, the last key returned, its size.

    Resuming skips keys up to the last one returned (not a count), so items written meanwhile at
    the front of a newest-first listing neither repeat nor hide others."""

    page_size: int
    page_token: str | None = None
    after: str | None = None

    def encode(self) -> str:
        raw = json.dumps({"c": self.page_token, "k": self.after, "s": self.page_size}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str | None, page_size: int) -> "_Cursor":
        if not token:
            return cls(page_size)
        try:
            raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            cursor = cls(int(raw["s"]), raw["c"], raw["k"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise InvalidInput("continuation token is not one this service issued") from None
        texts = (cursor.page_token, cursor.after)
        if not all(t is None or isinstance(t, str) for t in texts) or not 1 <= cursor.page_size <= SCAN_PAGE:
            raise InvalidInput("continuation token is not one this service issued")
        return cursor


def scan(store: DocumentStore, prefix: str, limit: int, continuation: str | None,
         load: Callable[[str], T | None], filtered: bool = False) -> Page[T]:
    """Walk keys under `prefix` in key order from the token on; `load` turns a key into an item
    (None: skip it). Ends after `limit` items, or MAX_READS keys, with a token to go on.
    Unfiltered listings ask the store for one key more than `limit`, filtered ones for SCAN_PAGE."""
    check_limit(limit)
    cursor = _Cursor.decode(continuation, SCAN_PAGE if filtered else min(limit + 1, SCAN_PAGE))
    items, reads = [], 0
    while True:
        page = store.list_keys(prefix, cursor.page_size, cursor.page_token)
        keys = [k for k in page.keys if cursor.after is None or k > cursor.after]
        for index, key in enumerate(keys):
            item = load(key)
            reads += 1
            if item is not None:
                items.append(item)
            if len(items) == limit or reads >= MAX_READS:
                more = index + 1 < len(keys) or bool(page.continuation)
                following = _Cursor(cursor.page_size, cursor.page_token if index + 1 < len(keys) else page.continuation,
                                    key if index + 1 < len(keys) else None)
                return Page(items, following.encode() if more else None)
        if not page.continuation:
            return Page(items, None)
        cursor = _Cursor(cursor.page_size, page.continuation, None)


class NewestFirstIndex:
    """Name-only markers `<prefix><newest-first time>~<id>`, one per item, listed newest first.

    The marker's time is the item's own (e.g. its creation time), so writing it again after a
    crash is harmless; a marker whose item is missing, or whose time is not the item's, is skipped.
    """

    def __init__(self, store: DocumentStore, prefix: str):
        self.store = store
        self.prefix = prefix

    def marker(self, item_id: str, at: datetime) -> str:
        return f"{self.prefix}{newest_first(at)}~{quote(item_id, safe='')}"

    def add(self, item_id: str, at: datetime) -> None:
        try:
            self.store.create(self.marker(item_id, at), {})
        except DocumentExists:
            pass

    def page(self, limit: int, continuation: str | None, get: Callable[[str], T | None],
             time_of: Callable[[T], datetime], keep: Callable[[T], bool] | None = None) -> Page[T]:
        def load(marker: str) -> T | None:
            item_id = unquote(marker[len(self.prefix):].partition("~")[2])
            item = get(item_id)
            if item is None or self.marker(item_id, time_of(item)) != marker or (keep and not keep(item)):
                return None
            return item

        return scan(self.store, self.prefix, limit, continuation, load, filtered=keep is not None)


@dataclass
class OpenSet:
    """The ids of items not yet finished (one small document), so sweeps never list history.

    Added before the item may become open, removed after it has finished: after a crash it
    may name a finished item (the sweeper drops it), never miss an open one.
    """

    store: DocumentStore
    key: str

    def add(self, item_id: str, at: str) -> None:
        def add(doc: dict | None) -> dict | None:
            doc = doc or {"open": {}}
            if item_id in doc["open"]:
                return None
            doc["open"][item_id] = at
            return doc

        update_document(self.store, self.key, add)

    def discard(self, item_ids: Iterable[str]) -> None:
        gone = set(item_ids)

        def discard(doc: dict | None) -> dict | None:
            if not doc or not gone & set(doc["open"]):
                return None
            doc["open"] = {k: v for k, v in doc["open"].items() if k not in gone}
            return doc

        if gone:
            update_document(self.store, self.key, discard)

    def ids(self) -> list[str]:
        stored = self.store.get(self.key)
        return sorted(stored.doc["open"]) if stored else []
