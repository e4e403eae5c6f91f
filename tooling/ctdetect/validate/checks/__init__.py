"""Every validation check, in the order they run. Add a check by adding its class here."""

from __future__ import annotations

from ctdetect.validate.checks.attack import Deprecated, NameMismatch, ReferenceMismatch, TechniqueNotInTactic, UnknownTactic, UnknownTechnique
from ctdetect.validate.checks.base import Check, Problem
from ctdetect.validate.checks.conventions import CONVENTION_CHECKS
from ctdetect.validate.checks.elastic_repo import ELASTIC_REPO_CHECKS
from ctdetect.validate.checks.flattened import UndeclaredFlattenedKey
from ctdetect.validate.checks.hunting import HuntingUniqueId
from ctdetect.validate.checks.ml import (
    BucketSpan,
    DatafeedMissing,
    DatafeedOrphan,
    DatafeedQuery,
    DuplicateJob,
    FieldUnknown,
    JobMissing,
    ModelPruneWindow,
    RareExcludeFrequent,
    RareNeedsBy,
)
from ctdetect.validate.checks.ml_rules import CustomRules, FilterFile
from ctdetect.validate.checks.playbook import NoteOutOfSync, PlaybookMissing, PlaybookSections, PlaybookUnknownRule
from ctdetect.validate.checks.esql import ESQL_CHECKS
from ctdetect.validate.checks.query import FieldType, HuntingQuerySyntax, NotCovered, QuerySyntax, UnknownField
from ctdetect.validate.checks.rules import MetadataDates, RuleIdUuid, Schedule, SeverityRisk, UniqueName, UniqueRuleId
from ctdetect.validate.checks.scenario import ScenarioCoverage, ScenarioEvents, ScenarioUnknownTarget
from ctdetect.validate.checks.schema import SchemaEnum, SchemaRequired, SchemaType, SchemaUnknownKey, SchemaValue

ALL_CHECKS: tuple[type[Check], ...] = (
    SchemaRequired,
    SchemaType,
    SchemaEnum,
    SchemaValue,
    SchemaUnknownKey,
    RuleIdUuid,
    UniqueRuleId,
    UniqueName,
    SeverityRisk,
    Schedule,
    MetadataDates,
    QuerySyntax,
    *ESQL_CHECKS,
    UnknownField,
    NotCovered,
    FieldType,
    UndeclaredFlattenedKey,
    UnknownTactic,
    UnknownTechnique,
    NameMismatch,
    TechniqueNotInTactic,
    Deprecated,
    ReferenceMismatch,
    JobMissing,
    DuplicateJob,
    DatafeedMissing,
    DatafeedOrphan,
    DatafeedQuery,
    FieldUnknown,
    BucketSpan,
    ModelPruneWindow,
    RareNeedsBy,
    RareExcludeFrequent,
    CustomRules,
    FilterFile,
    PlaybookMissing,
    NoteOutOfSync,
    PlaybookUnknownRule,
    PlaybookSections,
    HuntingQuerySyntax,
    HuntingUniqueId,
    ScenarioUnknownTarget,
    ScenarioEvents,
    ScenarioCoverage,
    *CONVENTION_CHECKS,
    *ELASTIC_REPO_CHECKS,
)

PROFILES: tuple[str, ...] = ("default", "elastic")

__all__ = ["ALL_CHECKS", "PROFILES", "Check", "Problem"]
