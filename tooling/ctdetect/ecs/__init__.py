"""ECS layer: raw CloudTrail records -> flat ECS documents, as Elastic's aws integration does.

Public API:

- ``CloudTrailMapper(geoip=None).map(record) -> dict``: one flat document (dotted keys,
  ``_ts`` epoch ms). Raises ``MappingError`` for records without usable
  ``eventTime``/``eventName``.
- ``flatten(nested) -> flat`` and ``nest(flat) -> nested``.
- ``ecs_event(document) -> dict``: an ECS document read from NDJSON (nested or dotted)
  as a flat event with ``_ts``.
- ``iter_events(paths, ...)`` (module ``stream``): readers + mapping in one pass.
"""

from __future__ import annotations

from ctdetect.ecs.flat import flatten, nest
from ctdetect.ecs.mapper import CloudTrailMapper, MappingError
from ctdetect.ecs.documents import ecs_event

__all__ = ["CloudTrailMapper", "MappingError", "ecs_event", "flatten", "nest"]
