"""Parameters of the benign-history generator, validated with errors that name the key.

The same keys are accepted from a scenario's ``[[synth]]`` table
(``SynthParams.from_mapping``) and from ``ctdetect synth`` options.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from ctdetect.timeutil import BadTimestamp, parse_datetime

_ACCOUNT = re.compile(r"^\d{12}$")
_ORG = re.compile(r"^[a-z0-9][a-z0-9-]{0,30}$")


class SynthParamError(ValueError):
    """A parameter is wrong; ``key`` names it."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"synth parameter {key!r}: {message}")
        self.key = key


def _parse_time(key: str, value: Any) -> datetime:
    if not isinstance(value, (str, datetime)):
        raise SynthParamError(key, f"expected an ISO-8601 string, got {type(value).__name__}")
    try:
        return parse_datetime(value)
    except BadTimestamp:
        raise SynthParamError(key, f"{value!r} is not an ISO-8601 date-time (e.g. 2026-03-01T00:00:00Z)") from None


@dataclass(frozen=True)
class SynthParams:
    """What to generate.

    ``seed``: same seed, same parameters -> byte-identical output.
    ``start`` and ``days`` (float allowed) or ``end``: the time span (UTC).
    ``principals``: human users plus service roles (about 60% humans).
    ``events_per_day``: approximate volume; the real count varies with weekdays and
    working hours, and console logins come on top.
    ``account_id`` (12 digits), ``org`` (lower-case name used in bucket, role and user names).
    ``include_root``: add the account's root user: a console login with MFA and billing
    reads once a week. Off by default: any root sign-in is alert-worthy (the package's
    root console login rule fires on it), so a benign baseline leaves it out unless asked.
    ``travel_rate``: share of user-days spent in another city.
    """

    seed: int = 1
    start: str = "2026-03-01T00:00:00Z"
    days: float | None = None
    end: str | None = None
    principals: int = 12
    events_per_day: int = 2000
    account_id: str = "111122223333"
    org: str = "example"
    include_root: bool = False
    travel_rate: float = 0.03

    def __post_init__(self) -> None:
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise SynthParamError("seed", f"expected an integer, got {self.seed!r}")
        start = _parse_time("start", self.start)
        if self.days is not None and self.end is not None:
            raise SynthParamError("end", "give either 'days' or 'end', not both")
        if self.end is not None:
            if _parse_time("end", self.end) <= start:
                raise SynthParamError("end", f"{self.end!r} is not after start {self.start!r}")
        else:
            days = 1.0 if self.days is None else self.days
            if isinstance(days, bool) or not isinstance(days, (int, float)) or not 0 < days <= 3660:
                raise SynthParamError("days", f"expected a number of days in (0, 3660], got {self.days!r}")
        if isinstance(self.principals, bool) or not isinstance(self.principals, int) or not 1 <= self.principals <= 100_000:
            raise SynthParamError("principals", f"expected an integer in [1, 100000], got {self.principals!r}")
        if isinstance(self.events_per_day, bool) or not isinstance(self.events_per_day, (int, float)) or not 1 <= self.events_per_day <= 1e9:
            raise SynthParamError("events_per_day", f"expected a number in [1, 1e9], got {self.events_per_day!r}")
        if not isinstance(self.account_id, str) or not _ACCOUNT.match(self.account_id):
            raise SynthParamError("account_id", f"expected 12 digits as a string, got {self.account_id!r}")
        if not isinstance(self.org, str) or not _ORG.match(self.org):
            raise SynthParamError("org", f"expected lower-case letters, digits and '-', got {self.org!r}")
        if not isinstance(self.include_root, bool):
            raise SynthParamError("include_root", f"expected true or false, got {self.include_root!r}")
        if isinstance(self.travel_rate, bool) or not isinstance(self.travel_rate, (int, float)) or not 0 <= self.travel_rate <= 1:
            raise SynthParamError("travel_rate", f"expected a number in [0, 1], got {self.travel_rate!r}")

    @property
    def start_time(self) -> datetime:
        return _parse_time("start", self.start)

    @property
    def end_time(self) -> datetime:
        if self.end is not None:
            return _parse_time("end", self.end)
        return self.start_time + timedelta(days=1.0 if self.days is None else float(self.days))

    @classmethod
    def from_mapping(cls, table: dict[str, Any]) -> SynthParams:
        """Build from a scenario ``[[synth]]`` table (TOML values); unknown keys are errors."""
        known = {f.name for f in fields(cls)}
        for key in table:
            if key not in known:
                raise SynthParamError(key, f"unknown key (known: {', '.join(sorted(known))})")
        values = dict(table)
        for key in ("start", "end"):  # TOML may give a datetime
            if isinstance(values.get(key), datetime):
                values[key] = _parse_time(key, values[key]).strftime("%Y-%m-%dT%H:%M:%SZ")
        return cls(**values)
