"""Seeded generator of benign CloudTrail history (``ctdetect synth``).

Public API:

- ``SynthParams`` (validated; ``SynthParams.from_mapping(scenario_table)``) and
  ``SynthParamError`` (its ``key`` names the bad parameter);
- ``generate(params) -> Iterator[dict]``: raw CloudTrail records in time order, streaming;
- ``write_ndjson(records, out)`` and ``write_s3_layout(records, root, ...)`` (module
  ``writers``): the two output formats of the command.
"""

from __future__ import annotations

from ctdetect.synth.generator import generate
from ctdetect.synth.params import SynthParamError, SynthParams

__all__ = ["SynthParamError", "SynthParams", "generate"]
