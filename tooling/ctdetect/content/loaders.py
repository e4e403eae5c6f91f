"""Load content from files: a whole package, or any folder/file of rules, jobs or scenarios.

Loaders never raise on bad content. Every fault (unreadable file, bad TOML/JSON, bad front
matter) becomes a ``LoadProblem`` with file, line and column, and loading goes on with the
next file, so ``ctdetect validate`` reports every problem in one run.

Public API (see docs/ARCHITECTURE.md):

- ``load_package(root) -> Package``
- ``load_rules(path, problems=None) -> list[Rule]``
- ``load_jobs(path, problems=None, indices=None) -> tuple[list[MLJob], list[Datafeed]]``
  (package layout and Elastic's module layout ``ml/<job_id>.json`` + ``datafeed_<job_id>.json``;
  each job carries the items of the ML filters in ``<path>/filters/``)
- ``load_filters(path, problems=None) -> list[MLFilter]`` (``ml_jobs/filters/``, put-filter bodies)
- ``load_scenarios(path, problems=None) -> list[Scenario]``
- ``load_playbooks(path, problems=None)``, ``load_hunting_queries(path, problems=None)``
"""

from __future__ import annotations

import json
import os
from fnmatch import fnmatch
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

from ctdetect.content.files import read_json, read_text, read_toml
from ctdetect.content.ml import DEFAULT_MODULE_INDICES, datafeed_from_document, job_from_document, resolve_module_datafeed
from ctdetect.content.model import Datafeed, HuntingQuery, LoadProblem, Located, MLFilter, MLJob, Package, Playbook, Rule, Scenario
from ctdetect.content.playbooks import hunting_query_from_document, parse_playbook
from ctdetect.content.rules import rule_from_document
from ctdetect.content.scenarios import scenario_from_document

T = TypeVar("T")

#: Sub-folders that make a folder a package (any one of them is enough).
PACKAGE_FOLDERS = ("rules", "ml_jobs", "datafeeds", "playbooks", "scenarios")
EXTERNAL_JOBS_FILE = "external_jobs.toml"
FILTERS_FOLDER = "filters"  # ml_jobs/filters/: ML filters, one put-filter body per file


def _files(path: Path, pattern: str, problems: list[LoadProblem] | None = None) -> list[Path]:
    """``path`` itself when it is a file, else every match below it (hidden folders skipped), sorted.

    A sub-folder that cannot be listed is recorded as ``load.unreadable`` and skipped.
    """
    if path.is_file():
        return [path]
    if not path.is_dir():
        return []

    def unreadable(exc: OSError) -> None:
        if problems is not None:
            where = Path(exc.filename) if exc.filename else path
            problems.append(LoadProblem(where, None, None, "load.unreadable", "error", f"cannot list folder: {exc.strerror or exc}"))

    found = []
    for folder, dirs, names in os.walk(path, onerror=unreadable):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(folder) / name for name in names if fnmatch(name, pattern) and not name.startswith("."))
    return sorted(found)


def _guarded(path: Path, problems: list[LoadProblem], build: Callable[[], T]) -> T | None:
    """Run one file's builder; an unexpected error becomes a problem, never a traceback."""
    try:
        return build()
    except Exception as exc:  # noqa: BLE001 - the last line of defence for one file
        problems.append(LoadProblem(path, None, None, "load.internal-error", "error", f"could not load this file ({type(exc).__name__}: {exc}); please report it"))
        return None


def _not_a_table(path: Path, what: str, problems: list[LoadProblem]) -> None:
    problems.append(LoadProblem(path, 1, 1, "load.not-an-object", "error", f"a {what} file must hold one object"))


# --------------------------------------------------------------------------- rules


def load_rule_file(path: Path, problems: list[LoadProblem]) -> Rule | None:
    """One detection-rules TOML file."""
    parsed = read_toml(path, problems)
    if parsed is None:
        return None
    doc, lines = parsed
    return _guarded(path, problems, lambda: rule_from_document(doc, Located(path, lines)))


def load_rules(path: Path | str, problems: list[LoadProblem] | None = None) -> list[Rule]:
    """Every ``*.toml`` rule under ``path`` (or the file ``path``)."""
    problems = problems if problems is not None else []
    rules = []
    for file in _files(Path(path), "*.toml", problems):
        rule = load_rule_file(file, problems)
        if rule is not None:
            rules.append(rule)
    return rules


# --------------------------------------------------------------------------- ML jobs and datafeeds


def _is_datafeed(path: Path, doc: dict[str, Any]) -> bool:
    name = path.name
    if name.startswith(("datafeed_", "datafeed-")):
        return True
    return "analysis_config" not in doc and ("indices" in doc or "indexes" in doc or "query" in doc)


def _manifest_map(folder: Path, problems: list[LoadProblem]) -> dict[str, tuple[str, str]]:
    """Kibana module ``manifest.json`` next to ``ml/``: file name -> ("job"|"datafeed", job id)."""
    manifest = folder.parent / "manifest.json" if folder.name == "ml" else folder / "manifest.json"
    if not manifest.is_file():
        return {}
    try:
        doc = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # a broken manifest only loses the id hints; file names still give ids
    out: dict[str, tuple[str, str]] = {}
    for job in doc.get("jobs", []) if isinstance(doc, dict) else []:
        if isinstance(job, dict) and isinstance(job.get("file"), str) and isinstance(job.get("id"), str):
            out[job["file"]] = ("job", job["id"])
    for feed in doc.get("datafeeds", []) if isinstance(doc, dict) else []:
        if isinstance(feed, dict) and isinstance(feed.get("file"), str) and isinstance(feed.get("job_id"), str):
            out[feed["file"]] = ("datafeed", feed["job_id"])
    return out


def _json_objects(files: list[Path], what: str, problems: list[LoadProblem]) -> Iterator[tuple[Path, dict[str, Any], Any]]:
    """(file, object, key lines) of each JSON file that parses to an object; the others
    become problems (syntax, or ``what`` is not an object)."""
    for file in files:
        parsed = read_json(file, problems)
        if parsed is None:
            continue
        doc, lines = parsed
        if not isinstance(doc, dict):
            _not_a_table(file, what, problems)
            continue
        yield file, doc, lines


def _datafeed_job_id_from_name(path: Path) -> str:
    stem = path.stem
    for prefix in ("datafeed_", "datafeed-"):
        if stem.startswith(prefix):
            return stem[len(prefix) :]
    return stem


def load_jobs(
    path: Path | str, problems: list[LoadProblem] | None = None, indices: list[str] | None = None
) -> tuple[list[MLJob], list[Datafeed]]:
    """Jobs and datafeeds under ``path`` (a folder, or one file).

    Reads the package layout (``job_id`` / ``datafeed_id`` keys) and Elastic's module layout,
    where ids come from the manifest or the file name and a datafeed's ``JOB_ID`` and
    ``INDEX_PATTERN_NAME`` placeholders are replaced by the job id and ``indices``
    (default ``["logs-*", "filebeat-*"]``, Kibana's default index pattern for these modules).
    """
    problems = problems if problems is not None else []
    indices = list(indices) if indices else list(DEFAULT_MODULE_INDICES)
    jobs: list[MLJob] = []
    feeds: list[Datafeed] = []
    manifests: dict[Path, dict[str, tuple[str, str]]] = {}
    # the filters beside the jobs: <folder>/filters/, or for one job file its folder's
    filter_folder = (Path(path) if Path(path).is_dir() else Path(path).parent) / FILTERS_FOLDER
    items = {f.filter_id: f.items for f in load_filters(filter_folder, [])} if filter_folder.is_dir() else {}
    files = [f for f in _files(Path(path), "*.json", problems) if f.name not in ("manifest.json", "logo.json") and filter_folder not in f.parents]
    for file, doc, lines in _json_objects(files, "job or datafeed", problems):
        if file.parent not in manifests:
            manifests[file.parent] = _manifest_map(file.parent, problems)
        hint = manifests[file.parent].get(file.name)
        source = Located(file, lines)
        if _is_datafeed(file, doc):
            declared = doc.get("job_id")
            if isinstance(declared, str) and declared and declared != "JOB_ID":
                job_id = declared
            else:
                job_id = hint[1] if hint and hint[0] == "datafeed" else _datafeed_job_id_from_name(file)
            resolved = resolve_module_datafeed(doc, job_id, indices)
            feed_id = doc.get("datafeed_id")
            feed_id = feed_id if isinstance(feed_id, str) and feed_id else f"datafeed-{job_id}"
            feed = _guarded(file, problems, lambda: datafeed_from_document(resolved, source, feed_id, job_id))
            if feed is not None:
                feed.raw = doc
                feeds.append(feed)
        else:
            declared = doc.get("job_id")
            if isinstance(declared, str) and declared:
                job_id = declared
            else:
                job_id = hint[1] if hint and hint[0] == "job" else file.stem
            job = _guarded(file, problems, lambda: job_from_document(doc, source, job_id))
            if job is not None:
                job.filters = items
                jobs.append(job)
    return jobs, feeds


def load_filters(path: Path | str, problems: list[LoadProblem] | None = None) -> list[MLFilter]:
    """The ML filters under ``path`` (``ml_jobs/filters/``): one put-filter body per file,
    its id the file name's stem (or its own ``filter_id``). Items that are not strings
    are left to validation (``ml.filter``) to report; the rest are kept."""
    problems = problems if problems is not None else []
    out: list[MLFilter] = []
    for file, doc, lines in _json_objects(_files(Path(path), "*.json", problems), "ML filter", problems):
        declared = doc.get("filter_id")
        filter_id = declared if isinstance(declared, str) and declared else file.stem
        raw_items = doc.get("items")
        items = [i for i in raw_items if isinstance(i, str)] if isinstance(raw_items, list) else []
        description = doc.get("description")
        out.append(MLFilter(Located(file, lines), doc, filter_id, items, description if isinstance(description, str) else ""))
    return out


# --------------------------------------------------------------------------- playbooks, hunting queries


def load_playbooks(path: Path | str, problems: list[LoadProblem] | None = None) -> list[Playbook]:
    """Every ``*.md`` playbook directly in ``path`` (``hunting/`` holds TOML, not playbooks)."""
    problems = problems if problems is not None else []
    path = Path(path)
    files = [path] if path.is_file() else sorted(p for p in path.glob("*.md") if p.is_file() and p.name.lower() != "readme.md")
    out = []
    for file in files:
        text = read_text(file, problems)
        if text is None:
            continue
        playbook = _guarded(file, problems, lambda: parse_playbook(file, text, problems))
        if playbook is not None:
            out.append(playbook)
    return out


def load_hunting_queries(path: Path | str, problems: list[LoadProblem] | None = None) -> list[HuntingQuery]:
    """Every hunting query TOML under ``path``."""
    problems = problems if problems is not None else []
    out = []
    for file in _files(Path(path), "*.toml", problems):
        parsed = read_toml(file, problems)
        if parsed is None:
            continue
        doc, lines = parsed
        query = _guarded(file, problems, lambda: hunting_query_from_document(doc, Located(file, lines)))
        if query is not None:
            out.append(query)
    return out


# --------------------------------------------------------------------------- scenarios


def load_scenarios(path: Path | str, problems: list[LoadProblem] | None = None) -> list[Scenario]:
    """Every ``scenario.toml`` under ``path`` (a scenarios folder, one scenario folder, or the file)."""
    problems = problems if problems is not None else []
    out = []
    for file in _files(Path(path), "scenario.toml", problems):
        parsed = read_toml(file, problems)
        if parsed is None:
            continue
        doc, lines = parsed
        scenario = _guarded(file, problems, lambda: scenario_from_document(doc, Located(file, lines)))
        if scenario is not None:
            out.append(scenario)
    return out


# --------------------------------------------------------------------------- package


def is_package(root: Path) -> bool:
    """A package is a folder holding at least one of the content folders."""
    return root.is_dir() and any((root / name).is_dir() for name in PACKAGE_FOLDERS)


def _external_jobs(root: Path, problems: list[LoadProblem]) -> set[str]:
    """Job ids from ``external_jobs.toml`` (``job_ids = [...]``): Elastic's prebuilt jobs."""
    path = root / EXTERNAL_JOBS_FILE
    if not path.is_file():
        return set()
    parsed = read_toml(path, problems)
    if parsed is None:
        return set()
    doc, lines = parsed
    ids = doc.get("job_ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        problems.append(LoadProblem(path, lines.get("job_ids", 1), 1, "load.external-jobs", "error", "external_jobs.toml needs 'job_ids', a list of job id strings"))
        return {i for i in ids if isinstance(i, str)} if isinstance(ids, list) else set()
    return set(ids)


def _load_single_file(package: Package, path: Path) -> None:
    """One content file given on its own: its kind comes from its name and place."""
    problems = package.problems
    if path.suffix == ".json":
        package.jobs, package.datafeeds = load_jobs(path, problems)
    elif path.suffix == ".md":
        package.playbooks = load_playbooks(path, problems)
    elif path.name == "scenario.toml":
        package.scenarios = load_scenarios(path, problems)
    elif path.parent.name == "hunting":
        package.hunting_queries = load_hunting_queries(path, problems)
    else:
        package.rules = load_rules(path, problems)


def load_package(root: Path | str) -> Package:
    """Load everything under ``root``.

    ``root`` may be a package (``rules/``, ``ml_jobs/``, ``datafeeds/``, ``playbooks/``,
    ``scenarios/``), any folder of rule TOML files, or one content file (a rule, job or
    datafeed JSON, playbook, hunting query or ``scenario.toml``). ``Package.components``
    says which content folders exist, so checks that need them (job existence, playbooks,
    scenario coverage) know whether they apply.
    """
    root = Path(root)
    package = Package(root=root)
    problems = package.problems
    if root.is_file():
        _load_single_file(package, root)
        return package
    if not is_package(root):
        package.rules = load_rules(root, problems)
        return package
    package.components = {name for name in PACKAGE_FOLDERS if (root / name).is_dir()}
    package.rules = load_rules(root / "rules", problems) if "rules" in package.components else []
    if "ml_jobs" in package.components:
        package.jobs, stray_feeds = load_jobs(root / "ml_jobs", problems)
        package.datafeeds.extend(stray_feeds)
        if (root / "ml_jobs" / FILTERS_FOLDER).is_dir():
            package.filters = load_filters(root / "ml_jobs" / FILTERS_FOLDER, problems)
    if "datafeeds" in package.components:
        stray_jobs, feeds = load_jobs(root / "datafeeds", problems)
        package.jobs.extend(stray_jobs)
        package.datafeeds.extend(feeds)
    if "playbooks" in package.components:
        package.playbooks = load_playbooks(root / "playbooks", problems)
        hunting = root / "playbooks" / "hunting"
        if hunting.is_dir():
            package.hunting_queries = load_hunting_queries(hunting, problems)
    if "scenarios" in package.components:
        package.scenarios = load_scenarios(root / "scenarios", problems)
    package.external_job_ids = _external_jobs(root, problems)
    return package
