"""The generation loop: seeded, streaming, in time order.

Time is cut into 5-minute slices. For each slice the expected number of events is the
sum of every principal's rate for that UTC hour of the week (working hours in each
user's own time zone, around the clock for roles); the count is drawn from a Poisson
law, each event picks its principal in proportion to those rates, then one of the
principal's habits, then a second in the slice. A slice is sorted and yielded before
the next one is drawn, so memory stays flat whatever the span.

Per user and day (in the user's time zone) the generator decides where the user is
(home, or travelling to another city of the GeoIP table with ``travel_rate``) and
starts a console session: the first console call of the day is preceded by a
``ConsoleLogin`` with MFA (rarely after a failed attempt).

One ``random.Random`` drives the whole stream; per-(principal, day) choices use their
own generator seeded from a string, so output is byte-identical for a seed.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

from ctdetect.synth.params import SynthParams
from ctdetect.synth.principals import EVENT_VERSION, HOURS_PER_WEEK, Principal, Template, build_principals
from ctdetect.synth.records import SIGNIN_HOST, RecordMaker, console_login_record, record_maker, tls_details

SLICE_SECONDS = 300
_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}
_UUID = "%s-%s-4%s-%s%s-%s"
_SECONDS = [f"{s:02d}Z" for s in range(60)]
_LOGIN_TLS = tls_details(SIGNIN_HOST)
_LOGIN_URL = "https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1"


def generate(params: SynthParams) -> Iterator[dict[str, Any]]:
    """Raw CloudTrail records of benign activity for ``params``, in time order.

    Nested objects (``userIdentity``, ``requestParameters``, ``tlsDetails``...) are shared
    between records for speed: copy a record deeply before modifying nested values.
    """
    return _Generator(params).run()


class _Generator:
    def __init__(self, params: SynthParams) -> None:
        self.params = params
        self.rng = random.Random(f"ctdetect-synth/{params.seed}/events")
        self.principals = build_principals(params)
        self.account = params.account_id
        # per hour of week: cumulative rates over principals, and the total rate (events/hour)
        self.cumulative: list[list[float]] = []
        self.totals: list[float] = []
        for h in range(HOURS_PER_WEEK):
            total, cum = 0.0, []
            for p in self.principals:
                total += p.profile[h]
                cum.append(total)
            self.cumulative.append(cum)
            self.totals.append(total)
        self._minute_cache: dict[int, str] = {}

    # -- time ----------------------------------------------------------------------------
    def _time(self, ts: int) -> str:
        minute = ts // 60
        prefix = self._minute_cache.get(minute)
        if prefix is None:
            if len(self._minute_cache) > 4096:
                self._minute_cache.clear()
            prefix = datetime.fromtimestamp(minute * 60, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:")
            self._minute_cache[minute] = prefix
        return prefix + _SECONDS[ts % 60]

    def _uuid(self) -> str:
        """A random (version 4, RFC 4122 variant) UUID from the stream's generator."""
        h = self.rng.randbytes(16).hex()
        return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-" + _VARIANT[h[16]] + h[17:20] + "-" + h[20:]

    def _poisson(self, lam: float) -> int:
        if lam <= 0:
            return 0
        if lam > 40:
            return max(0, int(round(self.rng.gauss(lam, math.sqrt(lam)))))
        limit, k, prod = math.exp(-lam), 0, self.rng.random()
        while prod > limit:
            k += 1
            prod *= self.rng.random()
        return k

    # -- per principal and day -----------------------------------------------------------
    def _roll_day(self, p: Principal, day: int) -> None:
        p.day = day
        if p.kind == "service":
            p.identity = p.identity_base
            p.session_ip = p.ips[0]
            return
        day_rng = random.Random(f"ctdetect-synth/{self.params.seed}/{p.index}/{day}")
        identity = p.identity_base
        if "sessionContext" in identity:  # a new session each day, created just before it starts
            created = day * 86400 - int(p.tz_offset * 3600) - day_rng.randrange(60, 3600)
            identity = dict(identity)
            context = dict(identity["sessionContext"])
            context["attributes"] = {"creationDate": self._time(created), "mfaAuthenticated": "false"}
            identity["sessionContext"] = context
            identity["accessKeyId"] = _key_id(day_rng, "ASIA")
        elif p.kind == "human":
            identity = dict(identity)
            identity["accessKeyId"] = _key_id(random.Random(f"ctdetect-synth/{self.params.seed}/{p.index}/key"), "AKIA")
        p.identity = identity
        if p.kind == "human":
            travelling = day_rng.random() < self.params.travel_rate
            if travelling:
                from ctdetect.geoip import default_table
                from ctdetect.synth.principals import _host

                away = [e for e in default_table() if e.kind in ("office", "home") and e.city != p.home.city]
                p.session_ip = _host(day_rng, day_rng.choice(away).network)
            else:
                p.session_ip = p.ips[0] if day_rng.random() < 0.8 else p.ips[1]
        elif p.kind == "root":
            p.session_ip = p.ips[0]
        else:
            p.session_ip = p.ips[0]
        if p.can_login:
            console = {k: v for k, v in identity.items() if k != "accessKeyId"}
            p.console_identity = dict(console, accessKeyId=_key_id(day_rng, "ASIA"),
                                      sessionContext={"sessionIssuer": {}, "webIdFederationData": {},
                                                      "attributes": {"creationDate": "", "mfaAuthenticated": "true"}})
            p.need_login = True

    # -- records -------------------------------------------------------------------------
    def _record(self, p: Principal, t: Template, ts: int) -> dict[str, Any]:
        rng = self.rng
        identity = p.console_identity if (t.console and p.console_identity is not None) else p.identity
        prefix = self._minute_cache.get(ts // 60)
        stamp = (prefix + _SECONDS[ts % 60]) if prefix is not None else self._time(ts)
        code = message = None
        if t.error_rate and rng.random() < t.error_rate:
            code, message = t.errors[int(rng.random() * len(t.errors))]
        h = rng.randbytes(32).hex()  # request and event ids (version-4 UUIDs) in one draw
        make = t.make or self._maker(t)
        return make(identity, stamp, p.session_ip, _UUID % (h[32:40], h[40:44], h[45:48], _VARIANT[h[48]], h[49:52], h[52:]),
                    _UUID % (h[:8], h[8:12], h[13:16], _VARIANT[h[16]], h[17:20], h[20:32]), code, message or None)

    def _maker(self, t: Template) -> RecordMaker:
        """The record maker of a template, made on its first call and kept on it."""
        make = record_maker(version=EVENT_VERSION, source=t.source, name=t.name, region=t.region, agent=t.agent, account=self.account,
                            read_only=t.read_only, request=t.request, response=t.response, resources=t.resources,
                            event_type=t.event_type, tls=t.tls, from_console=t.console)
        t.make = make
        return make

    def _login(self, p: Principal, ts: int, agent: str, success: bool) -> dict[str, Any]:
        identity = {k: v for k, v in p.identity_base.items() if k != "accessKeyId"}
        prefix = self._minute_cache.get(ts // 60)
        stamp = (prefix + _SECONDS[ts % 60]) if prefix is not None else self._time(ts)
        data = {"LoginTo": _LOGIN_URL, "MobileVersion": "No", "MFAIdentifier": p.mfa_arn, "MFAUsed": "Yes" if success else "No"}
        return console_login_record(version=EVENT_VERSION, identity=identity, time=stamp, ip=p.session_ip, agent=agent,
                                    account=self.account, event_id=self._uuid(), success=success, additional_data=data, tls=_LOGIN_TLS)

    def run(self) -> Iterator[dict[str, Any]]:
        params = self.params
        start = int(params.start_time.timestamp())
        end = int(params.end_time.timestamp())
        rng = self.rng
        rnd = rng.random
        principals = self.principals
        t0 = start
        while t0 < end:
            span = min(SLICE_SECONDS, end - t0)
            how = ((t0 // 86400 + 3) % 7) * 24 + (t0 // 3600) % 24  # Monday 00:00 UTC = 0
            cum = self.cumulative[how]
            total = self.totals[how]
            n = self._poisson(total * span / 3600.0)
            batch: list[tuple[int, int, dict[str, Any]]] = []
            for seq in range(n):
                ts = t0 + int(rnd() * span)
                p = principals[bisect_right(cum, rnd() * total)]  # < total, so always in range
                day = int((ts + p.tz_offset * 3600) // 86400)
                if p.day != day:
                    self._roll_day(p, day)
                weights = p.cumulative
                t = p.templates[bisect_right(weights, rnd() * weights[-1])]
                if t.console and p.need_login:
                    p.need_login = False
                    login_ts = max(t0, ts - 5 - int(rnd() * 60))
                    if rnd() < 0.03:  # a mistyped password first
                        failed_ts = max(t0, login_ts - 20)
                        batch.append((failed_ts, 3 * seq, self._login(p, failed_ts, t.agent, False)))
                    batch.append((login_ts, 3 * seq + 1, self._login(p, login_ts, t.agent, True)))
                    p.console_identity = _console_session(p.console_identity, self._time(login_ts))
                batch.append((ts, 3 * seq + 2, self._record(p, t, ts)))
            batch.sort(key=_order)
            for item in batch:
                yield item[2]
            t0 += span


def _order(item: tuple[int, int, dict[str, Any]]) -> tuple[int, int]:
    return item[0], item[1]


def _key_id(rng: random.Random, prefix: str) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return prefix + "".join(alphabet[rng.getrandbits(5)] for _ in range(16))


def _console_session(identity: dict[str, Any] | None, created: str) -> dict[str, Any] | None:
    """The console session's identity once the login time is known (a new dict: records
    already handed out keep theirs)."""
    if identity is None:
        return None
    return dict(identity, sessionContext={"sessionIssuer": {}, "webIdFederationData": {},
                                          "attributes": {"creationDate": created, "mfaAuthenticated": "true"}})
