"""Cost of the HTML report (``replay --report``, ``hunt --report``) and a look at it in a browser.

Replays one scenario (default: the WAF SSRF incident, which has alerts and anomalies), then
measures separately what ``--report`` adds: the second pass for the events behind the
detailed findings with the playbook look-ups (``services.report``), and the page itself
(``reporting.html``: charts, template, plotly.js inlined). Prints the file's size and, when
Debian's chromium and Playwright are installed, how long the browser takes to draw the three
charts, with a screenshot of the top of the page and of the swimlane in ``bench/out/``.

    python bench/report.py [--scenario scenarios/incident-waf-ssrf-lateral-movement] [--detailed 200]

Figures are printed, never asserted: the test suite does not time anything.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ctdetect.reporting.html import render_html
from ctdetect.services.replay import run_replay
from ctdetect.services.report import replay_report

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
CHROMIUM = Path("/usr/bin/chromium")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "incident-waf-ssrf-lateral-movement"))
    parser.add_argument("--detailed", type=int, default=200, help="findings shown with events and triage")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    result = run_replay([args.scenario], package_root=str(ROOT), workers=1)
    t1 = time.perf_counter()
    report = replay_report(result, ROOT, detailed=args.detailed)
    t2 = time.perf_counter()
    page = render_html(report)
    t3 = time.perf_counter()
    path = OUT / "report-bench.html"
    path.write_text(page, encoding="utf-8")
    events = sum(len(i.evidence.events) for i in report.findings if i.evidence is not None)
    print(f"scenario: {Path(args.scenario).name}; {len(report.findings)} findings, {report.detailed} detailed, {events} events shown")
    print(f"replay:                         {t1 - t0:7.2f} s")
    print(f"report data (events, playbooks):{t2 - t1:7.2f} s")
    print(f"page (charts, template):        {t3 - t2:7.2f} s")
    print(f"file: {path.relative_to(ROOT)}, {len(page.encode()) / 1e6:.2f} MB ({len(page.encode()) - _plotly_js_bytes():,} bytes without plotly.js)")
    _browser(path)


def _plotly_js_bytes() -> int:
    from plotly.offline import get_plotlyjs

    return len(get_plotlyjs().encode())


def _browser(path: Path) -> None:
    if not CHROMIUM.exists():
        print(f"browser: skipped ({CHROMIUM} is not installed)")
        return
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("browser: skipped (playwright is not installed: pip install -e '.[test]')")
        return
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        start = time.perf_counter()
        page.goto(path.as_uri())
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 3", timeout=60_000)
        drawn = time.perf_counter() - start
        page.screenshot(path=str(OUT / "report-bench.png"))
        page.locator("#swimlane").screenshot(path=str(OUT / "report-bench-swimlane.png"))
        browser.close()
    print(f"browser: charts drawn in {drawn:.2f} s; console errors: {len(errors)}; screenshots: bench/out/report-bench.png, report-bench-swimlane.png")


if __name__ == "__main__":
    main()
