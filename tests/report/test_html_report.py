"""The HTML report of hunt and replay: content, escaping, and a real browser loading it.

The browser test drives Debian's chromium headless through Playwright, loads the file from
disk with the network unused (everything is inline), checks that the three charts drew
their SVG, that nothing was logged as an error and no dialog opened (a hostile value that
ran as script would open one), and keeps a screenshot in ``bench/out/report-test.png``.
"""

from __future__ import annotations

import re
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from ctdetect.cli import cli
from ctdetect.findings import Finding
from ctdetect.reporting.html import render_html
from ctdetect.services.evidence import Evidence
from ctdetect.services.report import Report, ReportFinding

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
HOSTILE = '"><script>alert("pwned")</script><img src=x onerror=alert(2)>'
THRESHOLD_RULE = "ffe66950-b712-4357-86fb-3e20c2994b10"  # burst of failed console logins


def _time(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 16, hour, minute, tzinfo=timezone.utc)


def _alert(hour: int, user: str, score: float = 73) -> Finding:
    doc = {"@timestamp": _time(hour).isoformat(), "user": {"name": user}, "event": {"id": f"e-{hour}", "action": "PutBucketAcl"},
           "kibana": {"alert": {"rule": {"rule_id": "r-1", "name": f"Bucket made public {HOSTILE}"}, "reason": f"reason {HOSTILE}",
                                "original_time": _time(hour).isoformat()}}}
    return Finding("alert", "r-1", f"Bucket made public {HOSTILE}", _time(hour), score, doc, entity={"user.name": user})


def _anomaly(hour: int, user: str, score: float) -> Finding:
    ts = int(_time(hour).timestamp() * 1000)
    doc = {"job_id": "rare_action", "result_type": "record", "timestamp": ts, "bucket_span": 3600, "record_score": score,
           "function": "rare", "by_field_name": "event.action", "by_field_value": "ListBuckets",
           "partition_field_name": "user.name", "partition_field_value": user, "actual": [1.0], "typical": [0.001]}
    return Finding("anomaly", "rare_action", "rare_action", _time(hour), score, doc, entity={"user.name": user, "event.action": "ListBuckets"})


def hostile_report() -> Report:
    event = {"@timestamp": "2026-03-16T02:00:00.000Z", "_ts": 0, "event.action": "PutBucketAcl", "user.name": HOSTILE,
             "source.ip": "198.19.0.23", "event.outcome": "success"}
    triage = f"1. Read the grant.\n2. Then {HOSTILE}\n\n[click](javascript:alert(3))\n\n<b onclick=alert(4)>raw</b>\n"
    items = [
        ReportFinding(_anomaly(2, "waf-role", 91.5), evidence=Evidence("events of user.name=waf-role in the bucket", [event]), playbook="Rare action", triage=triage),
        ReportFinding(_alert(2, HOSTILE), evidence=Evidence("the event that matched", [event], more=3), playbook=f"Playbook {HOSTILE}", triage=triage),
        ReportFinding(_anomaly(5, "alice", 30.0)),
        ReportFinding(_alert(7, "bob", 21)),
    ]
    return Report("ctdetect hunt", f"logs/{HOSTILE}", 1_773_626_400_000, [f"4 findings {HOSTILE}"], items, detailed=2, notes=[f"note {HOSTILE}"])


def test_every_value_is_escaped() -> None:
    page = render_html(hostile_report())
    body = page.split("</head>", 1)[1]
    assert "<script>alert" not in body and "<img src=x" not in body and "<b onclick" not in body
    assert 'href="javascript:' not in body
    assert "&lt;script&gt;alert(" in body  # shown as text, not dropped
    # chart data: plotly writes JSON with < and / escaped inside its script tags
    for script in re.findall(r"<script[^>]*>(.*?)</script>", body, flags=re.S):
        assert "<script>" not in script and "<img" not in script


def test_page_is_self_contained() -> None:
    page = render_html(hostile_report())
    assert not re.search(r"""<(script|link|img)[^>]+(src|href)=["']?(https?:)?//""", page), "the report must not load anything"
    assert page.count('class="plotly-graph-div"') == 3
    assert "times in UTC" in page


def test_an_empty_run_still_renders() -> None:
    page = render_html(Report("ctdetect hunt", "logs", 0, ["0 findings"], [], detailed=0))
    assert "No findings." in page and "No anomaly records." in page
    assert 'class="plotly-graph-div"' not in page


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed (apt-get install chromium; .ci/run installs it)")
def test_report_in_a_real_browser(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
    report = tmp_path / "report.html"
    report.write_text(render_html(hostile_report()), encoding="utf-8")
    problems: list[str] = []
    dialogs: list[str] = []
    requests: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("request", lambda r: requests.append(r.url) if not r.url.startswith(("file:", "data:", "blob:")) else None)
            page.goto(report.as_uri())
            page.wait_for_selector("#chart-swimlane .main-svg", timeout=30_000)
            for chart in ("chart-timeline", "chart-swimlane", "chart-entities"):
                assert page.locator(f"#{chart} .main-svg").count() >= 1, f"{chart} did not draw"
            assert page.locator("#chart-swimlane .heatmaplayer image, #chart-swimlane .hm image").count() >= 1, "the swimlane has no cells"
            assert page.locator("#chart-timeline .scatterlayer .point").count() == 4
            assert HOSTILE in page.locator("#finding-1 > summary").inner_text()  # shown as text
            out = ROOT / "bench" / "out"
            out.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out / "report-test.png"), full_page=True)
        finally:
            browser.close()
    assert problems == [], problems
    assert dialogs == [], f"a value ran as script: {dialogs}"
    assert requests == [], f"the report fetched: {requests}"


# --------------------------------------------------------------------------- through the commands


def _run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_hunt_report_has_the_events_and_the_triage_steps(tmp_path: Path) -> None:
    out = tmp_path / "hunt.html"
    scenario = ROOT / "scenarios" / "rule-console-login-failure-burst-fires" / "events.ndjson"
    res = _run("hunt", str(scenario), "--package", str(ROOT), "--rule", THRESHOLD_RULE, "--no-progress", "--report", str(out))
    assert res.exit_code == 0, res.output
    page = out.read_text(encoding="utf-8")
    assert "Investigating: Burst of Failed Console Logins from One Source (ctdetect)" in page  # the playbook
    assert "List the user names tried from it" in page  # one of its triage steps
    assert "events of source.ip=198.19.2.200 in the rule&#39;s window that match its query" in page
    details = page.split('id="finding-0"', 1)[1]
    assert details.count("<td>ConsoleLogin</td>") == 12  # threshold_result count: every failed login behind the alert


def test_replay_report_lists_the_expectations(tmp_path: Path) -> None:
    out = tmp_path / "replay.html"
    res = _run("replay", str(ROOT / "scenarios" / "rule-s3-bucket-public-fires"), "--package", str(ROOT), "--workers", "1", "--report", str(out))
    assert res.exit_code == 0, res.output
    page = out.read_text(encoding="utf-8")
    assert "<h2>Expectations</h2>" in page
    assert page.count('class="status-met"') >= 2 and 'class="status-unmet"' not in page
    assert "fires: rule S3 Bucket Made Public by ACL or Bucket Policy (ctdetect)" in page


def test_report_to_an_unwritable_place_is_a_clear_error(tmp_path: Path) -> None:
    scenario = ROOT / "scenarios" / "rule-console-login-failure-burst-fires" / "events.ndjson"
    target = tmp_path / "no-such-folder" / "r.html"
    res = _run("hunt", str(scenario), "--package", str(ROOT), "--rule", THRESHOLD_RULE, "--no-progress", "--report", str(target))
    assert res.exit_code == 2
    assert f"cannot write the report {target}" in res.output


def test_hunt_report_from_stdin_says_events_are_not_shown(tmp_path: Path) -> None:
    out = tmp_path / "stdin.html"
    data = (ROOT / "scenarios" / "rule-console-login-failure-burst-fires" / "events.ndjson").read_bytes()
    res = CliRunner().invoke(cli, ["hunt", "-", "--package", str(ROOT), "--rule", THRESHOLD_RULE, "--no-progress", "--report", str(out)], input=data)
    assert res.exit_code == 0, res.output
    assert "standard input, which cannot be read twice" in out.read_text(encoding="utf-8")


def test_chromium_is_installed_by_ci() -> None:
    """.ci/run installs the browser, idempotently, so the browser test runs in CI."""
    text = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "chromium" in text and "command -v chromium" in text
    assert shutil.which("bash")
