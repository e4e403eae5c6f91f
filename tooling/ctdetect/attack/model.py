"""Typed ATT&CK entries and the :class:`Attack` lookup."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator, Mapping


class AttackDataError(Exception):
    """The ATT&CK data file is missing or malformed (the message names the file)."""


@dataclass(frozen=True, slots=True)
class Tactic:
    """An ATT&CK tactic, e.g. ``TA0010`` Exfiltration (shortname ``exfiltration``)."""

    id: str
    name: str
    shortname: str

    @property
    def url(self) -> str:
        return f"https://attack.mitre.org/tactics/{self.id}/"


@dataclass(frozen=True, slots=True)
class Technique:
    """A technique (``T1537``) or sub-technique (``T1078.004``, ``parent`` ``T1078``).

    ``tactics`` holds tactic ids. ``revoked_by`` names the technique that replaced a
    revoked one, when ATT&CK records it.
    """

    id: str
    name: str
    tactics: frozenset[str]
    deprecated: bool = False
    revoked: bool = False
    revoked_by: str | None = None

    @property
    def parent(self) -> str | None:
        """The parent technique id of a sub-technique, else ``None``."""
        return self.id.split(".", 1)[0] if "." in self.id else None

    @property
    def is_subtechnique(self) -> bool:
        return "." in self.id

    @property
    def active(self) -> bool:
        """Neither deprecated nor revoked."""
        return not (self.deprecated or self.revoked)

    @property
    def url(self) -> str:
        return f"https://attack.mitre.org/techniques/{self.id.replace('.', '/')}/"


def _norm(name: str) -> str:
    return " ".join(name.replace("-", " ").replace("_", " ").split()).casefold()


class Attack:
    """One pinned ATT&CK Enterprise release: tactics, techniques and sub-techniques."""

    def __init__(
        self,
        version: str,
        tactics: Iterable[Tactic],
        techniques: Iterable[Technique],
        *,
        domain: str = "enterprise-attack",
        source: Mapping[str, str] | None = None,
    ) -> None:
        self.version = version
        self.domain = domain
        self.source = dict(source or {})
        self._tactics = {t.id: t for t in tactics}
        self._techniques = {t.id: t for t in techniques}
        self._tactic_names: dict[str, Tactic] = {}
        for tactic in self._tactics.values():
            self._tactic_names[_norm(tactic.name)] = tactic
            self._tactic_names[_norm(tactic.shortname)] = tactic
        self._children: dict[str, list[Technique]] = {}
        for tech in self._techniques.values():
            if tech.parent:
                self._children.setdefault(tech.parent, []).append(tech)

    def __repr__(self) -> str:
        return f"<Attack {self.domain} v{self.version}: {len(self._tactics)} tactics, {len(self._techniques)} techniques>"

    def tactic(self, tactic_id: str) -> Tactic | None:
        """The tactic with this id (``TA0010``), or ``None``."""
        return self._tactics.get(tactic_id.strip().upper())

    def tactic_by_name(self, name: str) -> Tactic | None:
        """The tactic called ``name`` ("Exfiltration", "Command and Control") or with that
        shortname ("command-and-control"); case and spacing are ignored."""
        return self._tactic_names.get(_norm(name))

    def technique(self, technique_id: str) -> Technique | None:
        """The technique or sub-technique with this id (``T1537``, ``T1078.004``), or ``None``."""
        return self._techniques.get(technique_id.strip().upper())

    def tactics_of(self, technique_id: str) -> frozenset[str]:
        """Tactic ids the technique belongs to (empty for an unknown id)."""
        tech = self.technique(technique_id)
        return tech.tactics if tech else frozenset()

    def subtechniques_of(self, technique_id: str) -> list[Technique]:
        """Sub-techniques of a technique, in id order."""
        return sorted(self._children.get(technique_id.strip().upper(), []), key=lambda t: t.id)

    def tactics(self) -> list[Tactic]:
        """Every tactic, in id order."""
        return sorted(self._tactics.values(), key=lambda t: t.id)

    def techniques(self, *, include_subtechniques: bool = True, active_only: bool = False) -> Iterator[Technique]:
        """Techniques in id order; optionally without sub-techniques or without deprecated/revoked ones."""
        for tid in sorted(self._techniques):
            tech = self._techniques[tid]
            if (include_subtechniques or not tech.is_subtechnique) and (tech.active or not active_only):
                yield tech
