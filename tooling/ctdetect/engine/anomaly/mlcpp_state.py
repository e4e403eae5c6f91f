"""Import of Elastic's quantiles state (the normalisers of a real job's model snapshot).

Why: a user who moves a job from Elasticsearch to ctdetect (or checks our scores against
Elastic's) needs the normalisers Elastic built over months; without them every score
starts from an empty history. Elasticsearch keeps them in the job's ``quantiles``
document (field ``quantile_state``, a string), which is the JSON ml-cpp writes: an array
of one object per normaliser. Each object names its normaliser by ``mlcue`` (a level
prefix, ``sysChange`` for the bucket level) and ``mlquantilesdescription`` (the field names
it is for), and holds the normaliser under ``a``, in ml-cpp's short tags:

====  ===========================================================
a     score at the 90th percentile (discretised)
b     count of samples at or below it
c     (before 6.5) the one maximum score; not read: per-scope maxima replaced it
d, e  the q-digest and the high-percentile q-digest: ``a`` k, ``b`` n and one ``c``
      per node in pre-order, each ``{"a": min, "b": max, "c": count}``
f     time to the next quantile ageing
g     per-scope maxima (6.5+); their scope keys are dictionary hashes we cannot invert,
      so they are not read (the max ceiling then rebuilds from new buckets)
i, j  updates since the last sample and that sample's maximum (8.4+)
====  ===========================================================

Keys repeat inside an object (``c`` per node), so the JSON is read as key/value pairs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ctdetect.engine.anomaly.normalizer import Normalizer, QDigest

ROOT_CUE = "sysChange"
SEP = "\x1f"


class QuantileStateError(ValueError):
    """The file is not an ml-cpp quantiles state."""


def _get(pairs: list[tuple[str, Any]], key: str, default: Any = None) -> Any:
    for k, v in pairs:
        if k == key:
            return v
    return default


def _digest(pairs: list[tuple[str, Any]], decay_rate: float) -> QDigest:
    nodes = [(int(_get(n, "a")), int(_get(n, "b")), int(_get(n, "c"))) for k, n in pairs if k == "c"]
    return QDigest.from_nodes(int(_get(pairs, "a", 201)), int(_get(pairs, "b", 0)), nodes, decay_rate)


def normalizer_key(cue: str, description: str) -> str | None:
    """Our normaliser key (see docs/ML-STATE.md) for an ml-cpp cue and description, or
    None for a level we do not keep (``per``, ``part``)."""
    if cue == ROOT_CUE:
        return "root"
    words = description.split(" ")
    if cue.startswith("inflb"):
        return "inflb" + SEP + description
    if cue.startswith("infl"):
        return "infl" + SEP + description
    if cue.startswith("leaf"):
        # "<partition> <person> <function> <value field>", an absent name as an empty word
        partition, person, function, field = (words + ["", "", "", ""])[:4]
        return "leaf" + SEP + SEP.join((partition, person, function, field))
    return None


def load_quantiles(path: Path, bucket_span_s: int, decay_rate: float) -> tuple[dict[str, Normalizer], list[str]]:
    """The normalisers of an ml-cpp quantiles state file, by our key, and one note per
    normaliser that was not imported (which and why)."""
    try:
        text = path.read_text()
        docs = json.loads(text, object_pairs_hook=list)
    except (OSError, ValueError) as exc:
        raise QuantileStateError(f"{path}: not a readable JSON quantiles state ({exc})") from exc
    if isinstance(docs, list) and docs and isinstance(docs[0], tuple):  # one object, not an array
        inner = _get(docs, "quantile_state")
        if isinstance(inner, str):  # Elasticsearch's quantiles document wraps ml-cpp's JSON
            try:
                docs = json.loads(inner, object_pairs_hook=list)
            except ValueError as exc:
                raise QuantileStateError(f"{path}: quantile_state is not JSON ({exc})") from exc
        if docs and isinstance(docs[0], tuple):
            docs = [docs]
    if not isinstance(docs, list):
        raise QuantileStateError(f"{path}: expected a JSON array of normaliser objects")
    normalizers: dict[str, Normalizer] = {}
    skipped: list[str] = []
    for i, doc in enumerate(docs, 1):
        if not isinstance(doc, list) or _get(doc, "a") is None:
            skipped.append(f"{path}: object {i} has no normaliser (key 'a')")
            continue
        cue = str(_get(doc, "mlcue", ""))
        key = normalizer_key(cue, str(_get(doc, "mlquantilesdescription", "")))
        if key is None:
            skipped.append(f"{path}: object {i} ({cue!r}) is a level ctdetect does not normalise")
            continue
        state = _get(doc, "a")
        norm = Normalizer(bucket_span_s, decay_rate)
        norm.digest = _digest(_get(state, "d", []), decay_rate)
        norm.high_digest = _digest(_get(state, "e", []), decay_rate)
        norm.high_score = int(_get(state, "a", norm.high_score))
        norm.high_count = int(_get(state, "b", 0))
        norm.time_to_decay = float(_get(state, "f", norm.time_to_decay))
        norm.since_sample = int(_get(state, "i", 0))
        norm.sample = float(_get(state, "j", 0.0))
        normalizers[key] = norm
    return normalizers, skipped
