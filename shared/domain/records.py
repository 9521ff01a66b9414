"""Stored records ↔ domain objects: every field of a stored document must be known.

A document with a field the dataclass does not declare is a mistyped patch or a newer
writer: tests make it an error (STRICT); in production it is logged, never silently dropped.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import TypeVar

log = logging.getLogger(__name__)

STRICT = False  # tests/conftest.py turns this on

T = TypeVar("T")


class UnknownFields(ValueError):
    """A stored document carries fields its record type does not declare."""


def from_record(cls: type[T], doc: dict) -> T:
    """Build `cls` from a stored document, refusing (STRICT) or reporting unknown fields."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(doc) - known)
    if unknown:
        message = f"{cls.__name__} record has unknown fields {unknown}"
        if STRICT:
            raise UnknownFields(message)
        log.warning("%s: ignored", message)
    return cls(**{k: v for k, v in doc.items() if k in known})


def set_fields(record: object, fields: dict) -> None:
    """Assign declared fields only: a misspelt field name is an error, not a silent no-op."""
    known = {f.name for f in dataclasses.fields(record)}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise UnknownFields(f"{type(record).__name__} has no fields {unknown}")
    for name, value in fields.items():
        setattr(record, name, value)
