"""Field catalogue: the fields ctdetect's data sources carry, with their Elasticsearch types.

Why it exists: validation must tell a typo from a real field, and the query evaluator
must know whether a field is ``keyword`` (exact, case-sensitive), ``text``/
``match_only_text`` (analysed), ``ip``, ``date``, a number, etc. to reproduce
Elasticsearch's behaviour. The data is our own compact file
``ctdetect/data/fields.json`` (name -> [type, source] or [type, source, parent]),
generated from the official definitions by ``generators/gen_field_catalogue.py``; the package
needs nothing else at run time.

Sources: ``ecs`` (Elastic Common Schema 9.4), ``aws-cloudtrail`` (fields the aws
integration's cloudtrail data stream defines itself or re-types), ``auditd``
(auditd_manager) and ``endpoint`` (Elastic Defend network events).

Public API: :func:`load_catalogue`, :class:`FieldCatalogue`, :class:`FieldInfo`,
:class:`CatalogueError`.
"""

from __future__ import annotations

from ctdetect.catalogue.model import (
    KEYWORD_TYPES,
    NUMERIC_TYPES,
    TEXT_TYPES,
    CatalogueError,
    FieldCatalogue,
    FieldInfo,
)
from ctdetect.catalogue.loader import DEFAULT_PATH, load_catalogue

__all__ = [
    "DEFAULT_PATH",
    "KEYWORD_TYPES",
    "NUMERIC_TYPES",
    "TEXT_TYPES",
    "CatalogueError",
    "FieldCatalogue",
    "FieldInfo",
    "load_catalogue",
]
