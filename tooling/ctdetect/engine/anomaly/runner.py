"""``AnomalyJobRunner``: one anomaly-detection job and its datafeed, run in-process.

The loop, as Elastic's ``autodetect`` runs it (ML-SEMANTICS §1):

- the datafeed query selects events; each event's time puts it in an epoch-aligned
  bucket of ``bucket_span``;
- a bucket is closed (final) when an event of a later bucket arrives, or on
  ``flush``; every bucket in between is closed too, empty ones included;
- an event older than the open bucket (i.e. before the end of the last closed bucket)
  is out of order: counted and dropped;
- closing a bucket updates each detector's models with it, then scores it
  (``detectors``), aggregates the results hierarchy (``hierarchy``), ages the
  normalisers, updates them with this bucket's raw scores and only then normalises
  (``normalizer``) — a bucket always counts towards its own normalisation;
- record and influencer results are written only where ``hierarchy`` says so; the
  bucket result is always written. A runner built ``records_only`` (what the embedded
  backend's hunt and replay read: records become findings) builds and keeps the records
  alone: the bucket and influencer results, about three quarters of what a long run
  would otherwise hold, are neither built nor kept (the normalisers learn the same).

``results()`` renormalises ``record_score`` / ``influencer_score`` / ``anomaly_score``
with the final quantiles, as Elasticsearch's renormaliser does, and keeps the
``initial_*`` scores from the time of the bucket.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from ctdetect.engine.anomaly import fields, hierarchy, pruning, results
from ctdetect.engine.anomaly.columns import BatchColumns, RowRun
from ctdetect.engine.anomaly.categorical import default_decay_rate
from ctdetect.engine.anomaly.collector import collector_paused
from ctdetect.engine.anomaly.config import JobSpec, compile_clause, datafeed_query_node, match_all_events, parse_job
from ctdetect.engine.anomaly.detection_rules import DetectorRules, apply_to_leaves
from ctdetect.engine.anomaly.detectors import DetectorModel, Leaf, make_detector
from ctdetect.engine.anomaly.errors import StateError
from ctdetect.engine.anomaly.normalizer import Normalizer
from ctdetect.engine.anomaly.scores import raw_score

STATE_FORMAT = "ctdetect-anomaly-state"
STATE_VERSION = 7
MAX_PROBLEMS = 20


def renormalization_window_s(spec: JobSpec) -> int:
    """The job's ``renormalization_window_days``, by default the longer of 30 days and 100 buckets."""
    if spec.renormalization_window_s is not None:
        return spec.renormalization_window_s
    return max(30 * 86400, 100 * spec.bucket_span_s)


class AnomalyJobRunner:
    """Feed events, close buckets, read Elastic-shaped results."""

    def __init__(
        self, spec: JobSpec, predicate: Callable[[dict[str, Any]], bool], query_node: Any = None,
        field_types: Mapping[str, str] | None = None, records_only: bool = False, forget_below: float | None = None,
    ) -> None:
        if forget_below is not None and not records_only:
            raise ValueError("forget_below needs a records_only runner (only records are forgotten)")
        self.spec = spec
        self.records_only = records_only
        # a record whose score is final (it left the renormalisation window) with both that
        # score and its initial one under ``forget_below`` is dropped and only counted, per
        # bucket time, in ``forgotten``: hunt shows no record under its job's floor and the
        # ML rules alert on none (they read the initial score), so a long trail's mild
        # records need not be held to its end
        self.forget_below = forget_below
        self.forgotten: dict[int, int] = {}
        self._forgetting: set[int] = set()  # id() of forgotten records still in ``records``
        self.predicate = predicate
        # the datafeed query as an AST (None: match_all, or a runner built from a bare
        # predicate) and the field types it was compiled with: ``selection.SharedSelection``
        # splits it into clauses shared by jobs
        self.query_node = query_node
        self.field_types: Mapping[str, str] = field_types or {}
        self.span_ms = spec.bucket_span_s * 1000
        self.detectors: list[DetectorModel] = [make_detector(spec, d) for d in spec.detectors]
        self.specs = {d.index: d for d in spec.detectors}
        self._det_by_index = {d.index: m for d, m in zip(spec.detectors, self.detectors)}
        self.decay_rate = default_decay_rate(spec.bucket_span_s)
        self.normalizers: dict[str, Normalizer] = {}
        self.open_bucket: int | None = None
        self.open_count = 0
        self.buckets: list[dict[str, Any]] = []
        self.records: list[dict[str, Any]] = []
        self.influencer_results: list[dict[str, Any]] = []
        # (document, score key, normaliser key, raw, probability, scope) for renormalisation,
        # in time order; those before ``_settled`` have left the renormalisation window
        self._scored: list[tuple[dict[str, Any], str, str, float, float, str]] = []
        self._settled = 0
        self.renormalization_window_ms = 1000 * renormalization_window_s(spec)
        self.counts = {"processed": 0, "filtered_out": 0, "invalid_time": 0, "out_of_order": 0, "query_errors": 0}
        self.problems: list[str] = []
        self._seen = 0
        self._infl_names = list(spec.influencers)
        self._adders = [d.add for d in self.detectors]
        # per detector: its normaliser key, whether it is a population detector, its partition
        # and by field names (``_leaf_keys``)
        self._leaf_key_cache: dict[int, tuple[str, bool, str, str]] = {}
        # detector index -> its custom_rules (``detection_rules``); empty for most jobs
        self.rules: dict[int, DetectorRules] = {}
        for d, model in zip(spec.detectors, self.detectors):
            if model.rules is not None:
                self.rules[d.index] = model.rules
        self._population = {d.index: d.is_population for d in spec.detectors}
        # the detectors the job's model_prune_window prunes after each bucket, with the window
        # in buckets (``pruning``: every function but ``rare``)
        window = pruning.window_buckets(pruning.model_prune_window_s(spec), spec.bucket_span_s)
        self._first_closed: int | None = None
        self._last_closed: int | None = None
        self._window_pruned = [(m, window) for d, m in zip(spec.detectors, self.detectors) if pruning.pruned_by_window(d.function)]

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_config(
        cls, job: Any, datafeed: Any = None, field_types: Mapping[str, str] | None = None, filters: Mapping[str, list[str]] | None = None,
        records_only: bool = False, forget_below: float | None = None,
    ) -> "AnomalyJobRunner":
        """Build from a put-job body (dict with ``job_id``) or ``MLJob``, and a datafeed or None.

        ``field_types`` types the datafeed query's fields as the index mapping would (the
        backend passes the field catalogue's; without it every field is keyword).
        ``filters``: ML filter id -> items, for ``custom_rules`` scopes (``parse_job``).
        ``records_only``: keep record results only (see the module docstring);
        ``forget_below``: forget settled records under that score (see ``__init__``).
        Raises ``JobConfigError`` with one message naming the job and the key at fault.
        """
        spec = parse_job(job, datafeed, filters)
        types = field_types or {}
        node = datafeed_query_node(spec.query, spec.job_id)
        if node is None:
            return cls(spec, match_all_events, None, types, records_only, forget_below)
        return cls(spec, compile_clause(node, types), node, types, records_only, forget_below)

    @property
    def job_id(self) -> str:
        return self.spec.job_id

    @property
    def history_ms(self) -> int:
        """How much time the job's closed buckets cover (first to last, empty ones
        between included): the history its models learnt from."""
        if self._first_closed is None or self._last_closed is None:
            return 0
        return self._last_closed - self._first_closed + self.span_ms

    # ------------------------------------------------------------------ input
    def _problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(f"job {self.spec.job_id}: {text}")

    def feed(self, event: dict[str, Any]) -> None:
        """Offer one event; it is used when the datafeed query selects it."""
        self._seen += 1
        try:
            selected = self.predicate(event)
        except Exception as exc:  # noqa: BLE001 - a bad record must not stop the run
            self._query_failed(self._seen, exc)
            return
        if not selected:
            self.counts["filtered_out"] += 1
            return
        self._accept((event,), (0,), self._seen - 1)

    def feed_selected(
        self, events: Sequence[dict[str, Any]], selected: list[int], failed: dict[int, Exception], columns: BatchColumns | None = None,
    ) -> None:
        """Offer a batch whose datafeed selection is already known (``selection.SharedSelection``).

        ``selected``: indices (ascending) of the events the query selects; ``failed``: index ->
        the error the query raised on that event; ``columns``: the batch's shared columns
        (the selected events then go to the detectors a bucket's run at a time,
        ``_accept_columns``). The result is the same as ``feed`` on each event in turn: same
        counts, same problems (numbered by event), same models.
        """
        base = self._seen
        self._seen += len(events)
        self.counts["filtered_out"] += len(events) - len(selected) - len(failed)
        if not failed:
            if columns is None or not self._accept_columns(columns, selected):
                self._accept(events, selected, base)
            return
        # a failing event's problem must come in its place among the selected events' ones
        done = 0
        for index in sorted(failed):
            cut = done
            while cut < len(selected) and selected[cut] < index:
                cut += 1
            self._accept(events, selected[done:cut], base)
            done = cut
            self._query_failed(base + index + 1, failed[index])
        self._accept(events, selected[done:], base)

    def _query_failed(self, number: int, exc: Exception) -> None:
        self.counts["query_errors"] += 1
        self._problem(f"event #{number}: datafeed query failed on it ({exc})")

    def _accept(self, events: Any, indices: Any, base: int) -> None:
        """Put the selected events ``events[i]`` (``i`` in ``indices``, in order) into buckets and
        detectors; ``base`` + i + 1 is an event's number in problems. Per-event work is kept
        to the time, the bucket and the detectors' dictionary updates (locals hoisted)."""
        spec = self.spec
        span = self.span_ms
        counts = self.counts
        names = self._infl_names
        adders = self._adders
        summary = spec.summary_count_field_name
        vt = fields.value_tuple
        for i in indices:
            event = events[i]
            t = event.get("_ts")
            if type(t) is not int:
                t = fields.event_time_ms(event, spec.time_field, spec.time_format)
                if t is None:
                    counts["invalid_time"] += 1
                    self._problem(f"event #{base + i + 1}: no usable time in _ts or {spec.time_field!r}; skipped")
                    continue
            bucket = t - t % span
            if bucket != self.open_bucket:
                if self.open_bucket is None:
                    self.open_bucket = bucket
                elif bucket < self.open_bucket:
                    counts["out_of_order"] += 1
                    continue
                else:
                    self._close_until(bucket)
            weight = 1.0
            if summary:
                w = fields.number(event, summary)
                weight = w if w is not None and w > 0 else 1.0
            if names:
                # value_tuple inlined for the one-string case (one lookup per influencer per job)
                get = event.get
                infl = tuple([(v,) if type(v := get(n)) is str and v else vt(event, n) for n in names])
            else:
                infl = ()
            for add in adders:
                add(event, infl, weight)
            self.open_count += 1
            counts["processed"] += 1

    def _accept_columns(self, columns: BatchColumns, indices: list[int]) -> bool:
        """``_accept`` of the selected rows ``indices`` of a batch, grouped: the rows are cut
        into runs of one bucket (they arrive in time order, so a bucket is one run or a few),
        and each run goes to every detector at once (``DetectorModel.add_run``) with its
        influencer tuples zipped from the batch's shared columns. Each run closes, drops
        (out of order) or fills the open bucket exactly as its first event would one at a
        time, and every event of a run shares its bucket, so models see the same thing.

        Returns False, having done nothing, when a row has no integer ``_ts`` or the job sums
        a count field: those take the event-by-event path (its problems and weights)."""
        if self.spec.summary_count_field_name:
            return False
        if not indices:
            return True
        take = columns.take
        rows = None if len(indices) == columns.count else indices
        ts = take(columns.raw("_ts"), rows)
        if any(t.__class__ is not int for t in ts):
            return False
        span = self.span_ms
        times = np.array(ts, dtype=np.int64)
        buckets = times - times % span
        cuts = (np.flatnonzero(buckets[1:] != buckets[:-1]) + 1).tolist()
        names = self._infl_names
        if names:
            infls: list[Any] = list(zip(*[take(columns.tuples(n), rows) for n in names]))
        else:
            infls = [()] * len(ts)
        counts = self.counts
        start = 0
        for end in [*cuts, len(ts)]:
            bucket = int(buckets[start])
            if bucket != self.open_bucket:
                if self.open_bucket is None:
                    self.open_bucket = bucket
                elif bucket < self.open_bucket:
                    counts["out_of_order"] += end - start
                    start = end
                    continue
                else:
                    self._close_until(bucket)
            run = RowRun(columns, rows, start, end, infls[start:end])  # its events taken only if a detector reads them
            for det in self.detectors:
                det.add_run(run)
            self.open_count += end - start
            counts["processed"] += end - start
            start = end
        return True

    def feed_many(self, events: Iterable[dict[str, Any]]) -> int:
        """Feed every event of an iterable; returns how many were offered."""
        n = 0
        for event in events:
            self.feed(event)
            n += 1
        return n

    def flush(self, until_ms: int | None = None) -> None:
        """Close buckets: all that end at or before ``until_ms``, or (None) the open one too."""
        if self.open_bucket is None:
            return
        if until_ms is None:
            self._close_until(self.open_bucket + self.span_ms)
            self.open_bucket = None
            return
        end = until_ms - until_ms % self.span_ms
        if end > self.open_bucket:
            self._close_until(end)

    # ------------------------------------------------------------------ bucket processing
    def _close_until(self, new_bucket: int) -> None:
        b = self.open_bucket
        assert b is not None
        if self._first_closed is None and b < new_bucket:
            self._first_closed = b
        while b < new_bucket:
            with collector_paused():  # a close's many short-lived containers die young (collector)
                self._close_bucket(b)
            self._prune(b)
            b += self.span_ms
        self.open_bucket = new_bucket

    def _prune(self, bucket_ms: int) -> None:
        """After a bucket's results, forget the models idle for longer than the job's
        ``model_prune_window`` (``CAnomalyJob::outputResults`` prunes there)."""
        self._last_closed = bucket_ms
        for model, window in self._window_pruned:
            model.prune(bucket_ms, window)

    def prune_for_persistence(self) -> None:
        """Prune every detector by its decay-derived window, as ml-cpp does before it persists
        a job's state (``CAnomalyJob::pruneAllModels``), at the last bucket closed."""
        last = self._last_closed
        if last is None and self.open_bucket is not None:
            last = self.open_bucket - self.span_ms  # resumed from a state, no bucket closed since
        if last is None:
            return
        for model in self.detectors:
            model.prune(last, model.persistence_prune_window())

    def _norm(self, key: str) -> Normalizer:
        n = self.normalizers.get(key)
        if n is None:
            n = self.normalizers[key] = Normalizer(self.spec.bucket_span_s, self.decay_rate)
        return n

    def _leaf_keys(self, leaf: Leaf) -> tuple[str, str]:
        """The leaf's normaliser key and its scope in that normaliser (empty for a population
        detector's leaves). What they take from the detector's spec is worked out once per
        detector (``_leaf_key_cache``): only the leaf's own values are formatted per leaf."""
        parts = self._leaf_key_cache.get(leaf.detector_index)
        if parts is None:
            spec = self.specs[leaf.detector_index]
            parts = self._leaf_key_cache[leaf.detector_index] = (
                "leaf\x1f%s\x1f%s\x1f%s\x1f%s" % (spec.partition_field_name or "", spec.person_field or "", spec.function, spec.field_name or ""),
                spec.is_population,
                spec.partition_field_name or "",
                spec.by_field_name or "",
            )
        if parts[1]:
            return parts[0], ""
        return parts[0], "%s\x1f%s\x1f%s\x1f%s" % (parts[2], leaf.partition_value or "", parts[3], leaf.by_value or "")

    def _settle(self, bucket_ms: int) -> None:
        """Give results leaving the renormalisation window their last renormalised score.

        Elasticsearch renormalises only results inside ``renormalization_window_days`` each
        time the job writes its quantiles; a result's final score is the one it got from
        the last quantiles written while it was inside. Rescoring it with the state just
        before it leaves stands for that write.
        """
        limit = bucket_ms - self.renormalization_window_ms
        scored = self._scored
        i = self._settled
        floor = self.forget_below
        while i < len(scored) and scored[i][0]["timestamp"] < limit:
            doc, score_key, norm_key, raw, p, scope = scored[i]
            score = doc[score_key] = round(self._norm(norm_key).normalize(raw, p, scope), 6)
            if floor is not None and score < floor and doc["initial_record_score"] < floor:
                self._forget(doc)
            i += 1
        if i > 1024 and 2 * i > len(scored):  # what has settled is never rescored: let it go
            del scored[:i]
            i = 0
        self._settled = i

    def _forget(self, doc: dict[str, Any]) -> None:
        """Count a settled record and drop it from ``records`` (in amortised batches)."""
        self.forgotten[doc["timestamp"]] = self.forgotten.get(doc["timestamp"], 0) + 1
        self._forgetting.add(id(doc))
        if len(self._forgetting) > max(1024, len(self.records) // 2):
            self._drop_forgotten()

    def _drop_forgotten(self) -> None:
        if self._forgetting:
            gone = self._forgetting
            self.records = [doc for doc in self.records if id(doc) not in gone]
            self._forgetting = set()

    def _close_bucket(self, bucket_ms: int) -> None:
        self._settle(bucket_ms)
        leaves: list[Leaf] = []
        for det in self.detectors:
            leaves.extend(det.close(bucket_ms))
        quantiles: list[bool] | None = None  # which leaves update their normaliser (all without rules)
        if self.rules:
            leaves, quantiles = apply_to_leaves(leaves, self.rules, self._population, bucket_ms, self.spec.bucket_span_s)
        event_count = self.open_count
        self.open_count = 0
        for n in self.normalizers.values():
            n.age()
        span_s = self.spec.bucket_span_s
        job_id = self.spec.job_id
        if not leaves:
            if not self.records_only:
                self.buckets.append(results.bucket_doc(job_id, bucket_ms, span_s, event_count, []))
            return
        leaf_raw = [raw_score(leaf.probability) for leaf in leaves]
        h = hierarchy.build(leaves, self.specs, leaf_raw)
        # update every normaliser with this bucket's scores first
        leaf_keys = [self._leaf_keys(leaf) for leaf in leaves]
        leaf_updates: dict[str, list[tuple[float, float, str]]] = {}
        updating = zip(leaves, leaf_keys, leaf_raw)
        if quantiles is not None:
            updating = (u for u, ok in zip(updating, quantiles) if ok)  # type: ignore[assignment]
        for leaf, (key, scope), raw in updating:
            batch = leaf_updates.get(key)
            if batch is None:
                batch = leaf_updates[key] = []
            batch.append((raw, leaf.probability, scope))
        for key, batch in leaf_updates.items():
            self._norm(key).update_many(batch)
        self._norm("root").update(h.root.raw, h.root.probability, "")
        # one batched update per influencer field (per-normaliser order kept)
        infl_updates: dict[str, list[tuple[float, float, str]]] = {}
        for (name, value), node in h.influencers.items():
            batch = infl_updates.get(name)
            if batch is None:
                batch = infl_updates[name] = []
            batch.append((node.raw, node.probability, value))
        for name, batch in infl_updates.items():
            self._norm("infl\x1f" + name).update_many(batch)
        for name, node in h.influencer_fields.items():
            self._norm("inflb\x1f" + name).update(node.raw, node.probability, "")
        # then normalise and write
        for leaf, (key, scope), raw, written in zip(leaves, leaf_keys, leaf_raw, h.leaf_written):
            if not written:
                continue
            score = self._norm(key).normalize(raw, leaf.probability, scope)
            doc = results.record_doc(job_id, bucket_ms, span_s, self.specs[leaf.detector_index], leaf, round(score, 6))
            self.records.append(doc)
            self._scored.append((doc, "record_score", key, raw, leaf.probability, scope))
        if self.records_only:  # normalising the other results changes no state: nothing to do
            return
        for (name, value), node in h.influencers.items():
            if not node.written:
                continue
            key = "infl\x1f" + name
            score = self._norm(key).normalize(node.raw, node.probability, value)
            doc = results.influencer_doc(job_id, bucket_ms, span_s, name, value, node.probability, round(score, 6))
            self.influencer_results.append(doc)
            self._scored.append((doc, "influencer_score", key, node.raw, node.probability, value))
        bis = []
        score = self._norm("root").normalize(h.root.raw, h.root.probability, "")
        bi = results.bucket_influencer_doc(job_id, bucket_ms, span_s, "bucket_time", h.root.raw, h.root.probability, round(score, 6))
        bis.append(bi)
        self._scored.append((bi, "anomaly_score", "root", h.root.raw, h.root.probability, ""))
        for name, node in sorted(h.influencer_fields.items()):
            key = "inflb\x1f" + name
            score = self._norm(key).normalize(node.raw, node.probability, "")
            bi = results.bucket_influencer_doc(job_id, bucket_ms, span_s, name, node.raw, node.probability, round(score, 6))
            bis.append(bi)
            self._scored.append((bi, "anomaly_score", key, node.raw, node.probability, ""))
        self.buckets.append(results.bucket_doc(job_id, bucket_ms, span_s, event_count, bis))

    # ------------------------------------------------------------------ output
    def renormalize(self) -> None:
        """Rescore the results inside the renormalisation window with the current quantiles
        (``initial_*`` stay; older results keep the score they left the window with)."""
        for doc, score_key, norm_key, raw, p, scope in self._scored[self._settled :]:
            doc[score_key] = round(self._norm(norm_key).normalize(raw, p, scope), 6)
        for b in self.buckets:
            if b["bucket_influencers"]:
                b["anomaly_score"] = max(bi["anomaly_score"] for bi in b["bucket_influencers"])

    def results(self, renormalize: bool = True) -> list[dict[str, Any]]:
        """Bucket, record and influencer results of the closed buckets, in time order (the
        records alone for a runner built ``records_only``)."""
        if renormalize:
            self.renormalize()
        self._drop_forgotten()
        out = [*self.buckets, *self.records, *self.influencer_results]
        order = {"bucket": 0, "record": 1, "influencer": 2}
        out.sort(key=lambda d: (d["timestamp"], order[d["result_type"]]))
        return out

    def to_findings(self, renormalize: bool = True) -> list[Any]:
        """Record results as ``ctdetect.findings.Finding`` (kind "anomaly"), but for the
        records forgotten under ``forget_below`` (counted in ``forgotten``)."""
        from ctdetect.findings import anomaly_finding

        if renormalize:
            self.renormalize()
        self._drop_forgotten()
        return [anomaly_finding(rec, self.spec.job_id) for rec in self.records]

    def entity_counts(self) -> dict[int, int]:
        """Modelled entities per detector index (for memory figures)."""
        return {d.index: m.entity_count() for d, m in zip(self.spec.detectors, self.detectors)}

    # ------------------------------------------------------------------ state
    def save_state(self, path: str | Path) -> None:
        """Write the models, normalisers and open bucket (format: docs/ML-STATE.md), pruned
        first as Elastic prunes before it persists (``prune_for_persistence``)."""
        self.prune_for_persistence()
        state = {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "job_id": self.spec.job_id,
            "bucket_span_s": self.spec.bucket_span_s,
            "detectors": [{"index": d.index, "function": d.function, "state": m.to_state()} for d, m in zip(self.spec.detectors, self.detectors)],
            "normalizers": {k: n.to_state() for k, n in self.normalizers.items()},
            "open_bucket": self.open_bucket,
            "open_count": self.open_count,
            "counts": self.counts,
        }
        path = Path(path)
        data = json.dumps(state, separators=(",", ":")).encode()
        if path.suffix == ".gz":
            data = gzip.compress(data, mtime=0)
        path.write_bytes(data)

    def import_quantiles(self, path: str | Path) -> list[str]:
        """Start this job's normalisers from Elastic's quantiles (a model snapshot's
        ``quantile_state``, the JSON ml-cpp writes), so scores continue from the history
        Elasticsearch built instead of an empty one. Returns one note per normaliser in
        the file that was not imported (a level we do not keep, or one this job does not
        use); raises ``StateError`` for a file that is not a quantiles state."""
        from ctdetect.engine.anomaly.mlcpp_state import QuantileStateError, load_quantiles

        try:
            imported, notes = load_quantiles(Path(path), self.spec.bucket_span_s, self.decay_rate)
        except QuantileStateError as exc:
            raise StateError(str(exc)) from exc
        used = {"root"}
        for name in self.spec.influencers:
            used.update(("infl\x1f" + name, "inflb\x1f" + name))
        for d in self.spec.detectors:
            used.add("leaf\x1f%s\x1f%s\x1f%s\x1f%s" % (d.partition_field_name or "", d.person_field or "", d.function, d.field_name or ""))
        for key, norm in imported.items():
            if key in used:
                self.normalizers[key] = norm
            else:
                notes.append(f"{path}: normaliser {key.replace(chr(31), ' ')!r} is not one job {self.spec.job_id} uses")
        return notes

    @classmethod
    def load_state(
        cls, path: str | Path, job: Any, datafeed: Any = None, field_types: Mapping[str, str] | None = None,
        filters: Mapping[str, list[str]] | None = None,
    ) -> "AnomalyJobRunner":
        """A runner for ``job`` that resumes from a state file written by ``save_state``."""
        runner = cls.from_config(job, datafeed, field_types, filters)
        path = Path(path)
        try:
            raw = path.read_bytes()
            if raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)
            state = json.loads(raw)
        except (OSError, ValueError) as exc:
            raise StateError(f"{path}: cannot read anomaly state ({exc})") from exc
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            raise StateError(f"{path}: not a ctdetect anomaly state file")
        if state.get("version") != STATE_VERSION:
            raise StateError(f"{path}: state version {state.get('version')} is not supported (expected {STATE_VERSION})")
        if state.get("job_id") != runner.spec.job_id or state.get("bucket_span_s") != runner.spec.bucket_span_s:
            raise StateError(
                f"{path}: state is for job {state.get('job_id')!r} with bucket span {state.get('bucket_span_s')} s, "
                f"not {runner.spec.job_id!r} with {runner.spec.bucket_span_s} s"
            )
        dets = state.get("detectors", [])
        if [(d["index"], d["function"]) for d in dets] != [(d.index, d.function) for d in runner.spec.detectors]:
            raise StateError(f"{path}: the job's detectors changed since the state was saved")
        try:
            for d, model in zip(dets, runner.detectors):
                model.load_state(d["state"])
            for key, nstate in state["normalizers"].items():
                runner._norm(key).load_state(nstate)
            runner.open_bucket = state["open_bucket"]
            runner.open_count = int(state["open_count"])
            runner.counts.update(state.get("counts", {}))
        except (KeyError, TypeError, ValueError) as exc:
            raise StateError(f"{path}: corrupt anomaly state ({exc!r})") from exc
        return runner
