"""What a command imports before it needs it (issue 11: a run's fixed cost).

``validate`` reads one helper of the anomaly package (``pruning.check_window``) and must not
pay for the runner (numpy, the compiled models); ``replay`` imports the anomaly engine once,
before forking its workers, instead of in each of them; a query text is parsed once per
process. Each import check runs in a fresh interpreter (this one has imported everything).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ctdetect.query import QueryParseError, parse_query

ROOT = Path(__file__).resolve().parents[1]


def _python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_validate_does_not_import_the_anomaly_runner() -> None:
    out = _python(
        "import sys\n"
        "from ctdetect.cli import cli\n"
        f"try:\n    cli(['validate', '--package', {str(ROOT)!r}], standalone_mode=False)\n"
        "except SystemExit:\n    pass\n"
        "print(sorted(m for m in ('numpy', 'scipy', 'ctdetect.engine.anomaly.runner') if m in sys.modules))"
    )
    assert out.splitlines()[-1] == "[]"


def test_the_runner_is_still_an_attribute_of_the_package() -> None:
    out = _python(
        "import ctdetect.engine.anomaly as a\n"
        "from ctdetect.engine.anomaly.runner import AnomalyJobRunner\n"
        "print(a.AnomalyJobRunner is AnomalyJobRunner)\n"
        "try:\n    a.NoSuchThing\nexcept AttributeError as exc:\n    print('AttributeError', exc)"
    )
    assert out.splitlines() == ["True", "AttributeError module 'ctdetect.engine.anomaly' has no attribute 'NoSuchThing'"]


def test_prepare_with_jobs_imports_the_anomaly_engine_before_any_run() -> None:
    code = (
        "import sys\n"
        "from ctdetect.backends.embedded import EmbeddedBackend\n"
        "from ctdetect.services.content import load_content\n"
        f"content = load_content({str(ROOT)!r})\n"
        "backend = EmbeddedBackend()\n"
        "backend.prepare(content.rules, {jobs})\n"
        "print(sorted(m for m in ('scipy.special', 'ctdetect.engine.anomaly.runner') if m in sys.modules))"
    )
    assert _python(code.format(jobs="content.jobs")).splitlines()[-1] == "['ctdetect.engine.anomaly.runner', 'scipy.special']"
    assert _python(code.format(jobs="[]")).splitlines()[-1] == "[]"


def test_a_query_text_is_parsed_once() -> None:
    text = 'event.action: "ConsoleLogin" and not user.name: admin'
    assert parse_query(text, "kuery") is parse_query(text, "kuery")
    assert parse_query(text, "lucene") is not parse_query(text, "kuery")  # the language is part of the key


def test_a_query_that_does_not_parse_fails_every_time() -> None:
    for _ in range(2):
        with pytest.raises(QueryParseError):
            parse_query("event.action: (", "kuery")


def test_a_dsl_dict_is_parsed_each_time() -> None:
    body = {"term": {"event.action": "ConsoleLogin"}}
    assert parse_query(body, "dsl") == parse_query(body, "dsl")
