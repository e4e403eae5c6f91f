"""Which rules and jobs a run uses: the package's own, or what ``--rules``/``--jobs`` name.

Shared by ``hunt`` and ``replay``. Load problems (a rule file that does not parse, a job
without a datafeed...) are returned as one-line messages naming the file and line; the
content that loads still runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ctdetect.content.bundled import ContentRoot, content_root
from ctdetect.content.model import Datafeed, LoadProblem, MLJob, Package, Rule


@dataclass(slots=True)
class RunContent:
    rules: list[Rule] = field(default_factory=list)
    jobs: list[tuple[MLJob, Datafeed | None]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    package: Package | None = None
    source: ContentRoot | None = None  # where the package came from (None: only --rules/--jobs)

    def describe_source(self) -> str:
        """For summaries: ``bundled with ctdetect X.Y``, ``package <folder>`` or the paths given."""
        return self.source.describe() if self.source is not None else "as named by --rules/--jobs"


def describe(problem: LoadProblem) -> str:
    where = str(problem.file)
    if problem.line:
        where += f":{problem.line}"
    return f"{where}: {problem.message}"


def pair_jobs(jobs: list[MLJob], feeds: list[Datafeed]) -> list[tuple[MLJob, Datafeed | None]]:
    """Each job with its datafeed (``None`` when it has none: every event is selected)."""
    by_job = {f.job_id: f for f in feeds}
    return [(job, by_job.get(job.job_id)) for job in jobs]


def load_content(package_root: str | Path | None, rules_path: str | Path | None = None, jobs_path: str | Path | None = None) -> RunContent:
    """Rules and jobs for a run. ``rules_path`` / ``jobs_path`` replace the package's own;
    ``package_root`` None: no package (only what they name). Callers resolve the package
    first (``content.locate.resolve_package``)."""
    from ctdetect.content.loaders import is_package, load_jobs, load_package, load_rules

    content = RunContent()
    problems: list[LoadProblem] = []
    root = Path(package_root) if package_root is not None else None
    package = None
    if rules_path is None or jobs_path is None:
        content.source = content_root(root)
    if (rules_path is None or jobs_path is None) and root is not None and is_package(root):
        package = load_package(root)
        problems.extend(package.problems)
        content.package = package
    if rules_path is not None:
        content.rules = load_rules(Path(rules_path), problems)
    elif package is not None:
        content.rules = list(package.rules)
    if jobs_path is not None:
        jobs, feeds = load_jobs(Path(jobs_path), problems)
        content.jobs = pair_jobs(jobs, feeds)
    elif package is not None:
        content.jobs = pair_jobs(package.jobs, package.datafeeds)
    content.problems = [describe(p) for p in problems if p.severity == "error"]
    return content
