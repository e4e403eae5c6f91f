"""Builders for rule-engine tests: rules as the loader would make them, and flat events."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
