"""What readers yield and what they report when they skip input."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from ctdetect.readers.texts import RecordText

Kind = Literal["cloudtrail", "ecs"]

# reason codes of SkippedInput (stable: summaries and tests use them)
EMPTY_FILE = "empty_file"
TRUNCATED_GZIP = "truncated_gzip"
BAD_GZIP = "bad_gzip"
BINARY = "binary"
NON_UTF8 = "non_utf8"
INVALID_JSON = "invalid_json"
NOT_CLOUDTRAIL = "not_cloudtrail"
MISSING_FIELD = "missing_field"
BAD_RECORD = "bad_record"
UNREADABLE = "unreadable"

REASONS = {
    EMPTY_FILE: "empty file",
    TRUNCATED_GZIP: "truncated gzip",
    BAD_GZIP: "corrupt gzip",
    BINARY: "binary data, not JSON",
    NON_UTF8: "not UTF-8",
    INVALID_JSON: "invalid JSON",
    NOT_CLOUDTRAIL: "JSON that is not CloudTrail or ECS",
    MISSING_FIELD: "record without eventTime or eventName",
    BAD_RECORD: "record that cannot be mapped",
    UNREADABLE: "file cannot be read",
}


class RawItem(NamedTuple):
    """One event as read: a raw CloudTrail record or an ECS document (nested or dotted).

    ``file`` is the path (``-`` for stdin); ``position`` is the 1-based record number in
    a ``Records``/array file, or the 1-based line number in NDJSON. (A named tuple: one
    is made per event, and it is the cheapest immutable record type.) ``record`` is a
    ``RecordText`` only when ``read_events`` was asked for texts.
    """

    kind: Kind
    record: dict[str, Any] | RecordText
    file: str
    position: int


@dataclass(frozen=True, slots=True)
class SkippedInput:
    """A file, line or record that was skipped, reported once.

    ``record`` is the record number or line (None when the whole file is skipped).
    """

    file: str
    record: int | None
    reason: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.record is None else f"{self.file}:{self.record}"
        return f"{where}: {self.message}"


class SkipCounter:
    """Collects skips (use as ``on_skip``) and summarises them by reason."""

    def __init__(self, keep: int = 1000) -> None:
        self.counts: Counter[str] = Counter()
        self.examples: list[SkippedInput] = []
        self._keep = keep

    def __call__(self, skipped: SkippedInput) -> None:
        self.counts[skipped.reason] += 1
        if len(self.examples) < self._keep:
            self.examples.append(skipped)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        """One line, e.g. ``3 skipped: 2 invalid JSON, 1 empty file`` (or ``nothing skipped``)."""
        if not self.counts:
            return "nothing skipped"
        parts = [f"{n} {REASONS.get(reason, reason)}" for reason, n in self.counts.most_common()]
        return f"{self.total} skipped: " + ", ".join(parts)
