"""The HTML report of ``hunt --report`` and ``replay --report``: one self-contained file.

Self-contained because it is mailed, attached to tickets and opened on air-gapped analyst
machines: plotly.js is inlined (no CDN), there is no other request. The page has a timeline
of findings, an anomaly swimlane per job and entity (rows and colours as Kibana's Anomaly
Explorer draws them: the highest record score in each cell, coloured by ML severity), the
top entities, the findings table, and per detailed finding the events behind it and its
playbook's triage steps.

Escaping: the template autoescapes every value; Markdown is rendered with raw HTML
disabled (markdown-it escapes it, and refuses ``javascript:`` links); plotly serialises
its data as JSON with ``<`` and ``/`` escaped, and the labels it draws are HTML-escaped here
because plotly.js reads a few tags (``<b>``, ``<a>``) in them.
"""

from __future__ import annotations

import html
import math
from collections import defaultdict
from datetime import datetime, timezone
from typing import Any

from ctdetect.findings import Finding
from ctdetect.reporting.hunt import ENTITY_FIELDS, entity_text
from ctdetect.reporting.values import cell_text
from ctdetect.services.report import Report, ReportFinding

# ML severity bands and colours of Kibana's anomaly explorer (score >= lower bound)
SEVERITY_BANDS = ((75, "critical", "#fe5050"), (50, "major", "#fba740"), (25, "minor", "#fdec25"), (3, "warning", "#8bc8fb"), (0, "low", "#d2e9f7"))
SWIMLANE_ROWS = 40
SWIMLANE_COLUMNS = 120
TOP_ENTITIES = 15
TABLE_ROWS = 1000
NICE_INTERVALS_S = (900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400, 30 * 86400)
PLOT_CONFIG = {"displaylogo": False, "responsive": True}
_HIDDEN_EVENT_FIELDS = ("_",)  # engine-internal keys (``_ts``...) are not event fields


def render_html(report: Report) -> str:
    """The whole page (UTF-8 text)."""
    from jinja2 import Environment, PackageLoader
    from markupsafe import Markup
    from plotly.offline import get_plotlyjs

    env = Environment(loader=PackageLoader("ctdetect.reporting", "templates"), autoescape=True, trim_blocks=True, lstrip_blocks=True)
    findings = [item.finding for item in report.findings]
    charts = {
        "timeline": _timeline(findings),
        "swimlane": _swimlane(findings),
        "entities": _top_entities(findings),
    }
    markdown = _markdown()
    return env.get_template("report.html.j2").render(
        report=report,
        generated=_utc(report.generated_ms),
        plotly_js=Markup(get_plotlyjs()),
        charts={k: Markup(v) if v else None for k, v in charts.items()},
        rows=[_row(n, item) for n, item in enumerate(report.findings[:TABLE_ROWS])],
        more_rows=max(0, len(report.findings) - TABLE_ROWS),
        details=[_detail(n, item, markdown) for n, item in enumerate(report.findings[: report.detailed])],
        bands=[{"name": name, "colour": colour, "from": low} for low, name, colour in SEVERITY_BANDS],
    )


def write_report(report: Report, path: str) -> None:
    """Write the page to ``path`` (raises ``OSError``)."""
    with open(path, "w", encoding="utf-8") as out:
        out.write(render_html(report))


# --------------------------------------------------------------------------- charts


def _timeline(findings: list[Finding]) -> str | None:
    """Every finding at its time, one row per rule or job, coloured by score."""
    if not findings:
        return None
    import plotly.graph_objects as go

    fig = go.Figure()
    for kind, label, symbol in (("alert", "alerts", "circle"), ("anomaly", "anomalies", "diamond")):
        mine = [f for f in findings if f.kind == kind]
        if not mine:
            continue
        fig.add_trace(go.Scatter(
            x=[f.timestamp.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S") for f in mine],
            y=[_label(f.name) for f in mine],
            mode="markers",
            name=label,
            marker={"symbol": symbol, "size": 10, "color": [f.score for f in mine], "cmin": 0, "cmax": 100,
                    "colorscale": _severity_scale(), "line": {"width": 1, "color": "#444"}},
            customdata=[[f"{f.score:.0f}", _label(entity_text(f) or "-")] for f in mine],
            hovertemplate="%{x} UTC<br>%{y}<br>score %{customdata[0]}<br>%{customdata[1]}<extra></extra>",
        ))
    rows = len({f.name for f in findings})
    fig.update_layout(height=max(260, 60 + 26 * rows), margin={"l": 20, "r": 20, "t": 30, "b": 40},
                      xaxis_title="time (UTC)", legend={"orientation": "h", "y": 1.08}, yaxis={"automargin": True})
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id="chart-timeline", config=PLOT_CONFIG)


def _swimlane(findings: list[Finding]) -> str | None:
    """Anomaly records as Kibana's swimlane: a lane per job (its overall score) and per job and
    entity, a column per time interval, each cell the highest record score in it."""
    records = [f for f in findings if f.kind == "anomaly"]
    if not records:
        return None
    import plotly.graph_objects as go

    first = min(f.timestamp for f in records).timestamp()
    last = max(f.timestamp for f in records).timestamp()
    span = max(int(f.document.get("bucket_span") or 0) for f in records) or 3600
    interval = _interval(span, last - first)
    start = math.floor(first / interval) * interval
    columns = int((last - start) // interval) + 1
    cells: dict[str, dict[int, float]] = defaultdict(dict)
    lane_max: dict[str, float] = defaultdict(float)
    for f in records:
        col = int((f.timestamp.timestamp() - start) // interval)
        for lane in (f"{f.source_id} (overall)", f"{f.source_id} · {_record_entity(f)}"):
            cells[lane][col] = max(cells[lane].get(col, 0.0), f.score)
            lane_max[lane] = max(lane_max[lane], f.score)
    jobs = sorted({f.source_id for f in records})
    lanes: list[str] = []
    for job in jobs:
        lanes.append(f"{job} (overall)")
        entities = sorted((lane for lane in cells if lane.startswith(f"{job} · ")), key=lambda lane: -lane_max[lane])
        lanes += entities[: max(1, (SWIMLANE_ROWS - len(jobs)) // len(jobs))]
    x = [datetime.fromtimestamp(start + c * interval, tz=timezone.utc).strftime("%Y-%m-%d %H:%M") for c in range(columns)]
    z = [[cells[lane].get(c) for c in range(columns)] for lane in lanes]
    fig = go.Figure(go.Heatmap(
        x=x, y=[_label(lane) for lane in lanes], z=z, zmin=0, zmax=100, colorscale=_severity_scale(), xgap=1, ygap=1,
        hovertemplate="%{x} UTC<br>%{y}<br>max record score %{z:.0f}<extra></extra>", colorbar={"title": "score"},
    ))
    fig.update_layout(height=max(220, 80 + 24 * len(lanes)), margin={"l": 20, "r": 20, "t": 30, "b": 60},
                      yaxis={"autorange": "reversed", "automargin": True}, xaxis_title=f"time (UTC), {_duration(interval)} a column")
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id="chart-swimlane", config=PLOT_CONFIG)


def _top_entities(findings: list[Finding]) -> str | None:
    """The entities named by most findings (user, address, account, host), coloured by their
    highest score."""
    counts: dict[str, int] = defaultdict(int)
    best: dict[str, float] = defaultdict(float)
    for f in findings:
        for name in ENTITY_FIELDS:
            if name == "event.action":
                continue
            values = f.get(name)
            for value in values if isinstance(values, list) else [values]:
                if value not in (None, ""):
                    key = f"{name}={value}"
                    counts[key] += 1
                    best[key] = max(best[key], f.score)
    if not counts:
        return None
    import plotly.graph_objects as go

    top = sorted(counts, key=lambda k: (-counts[k], -best[k], k))[:TOP_ENTITIES][::-1]
    fig = go.Figure(go.Bar(
        x=[counts[k] for k in top], y=[_label(k) for k in top], orientation="h",
        marker={"color": [best[k] for k in top], "cmin": 0, "cmax": 100, "colorscale": _severity_scale(),
                "colorbar": {"title": "max score"}},
        hovertemplate="%{y}<br>%{x} findings<extra></extra>",
    ))
    fig.update_layout(height=max(240, 60 + 26 * len(top)), margin={"l": 20, "r": 20, "t": 30, "b": 40},
                      xaxis={"title": "findings", "tick0": 0, "dtick": max(1, math.ceil(max(counts.values()) / 10))}, yaxis={"automargin": True})
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id="chart-entities", config=PLOT_CONFIG)


# --------------------------------------------------------------------------- rows


def _row(n: int, item: ReportFinding) -> dict[str, Any]:
    f = item.finding
    return {"n": n, "score": f"{f.score:.0f}", "severity": _severity(f.score), "time": _utc_dt(f.timestamp), "kind": f.kind,
            "name": f.name, "entity": entity_text(f), "scenario": item.scenario}


def _detail(n: int, item: ReportFinding, markdown: Any) -> dict[str, Any]:
    from markupsafe import Markup

    evidence = item.evidence
    events = [_event_row(e) for e in evidence.events] if evidence is not None else []
    return {
        **_row(n, item),
        "how": evidence.how if evidence is not None else "",
        "events": events,
        "more": evidence.more if evidence is not None else 0,
        "playbook": item.playbook,
        "triage": Markup(markdown.render(item.triage)) if item.triage else None,
        "fields": _finding_fields(item.finding),
    }


def _event_row(event: dict[str, Any]) -> dict[str, Any]:
    shown = {k: v for k, v in event.items() if not k.startswith(_HIDDEN_EVENT_FIELDS)}
    return {
        "time": str(event.get("@timestamp", "")),
        "action": cell_text(event.get("event.action")),
        "user": cell_text(event.get("user.name")),
        "source": cell_text(event.get("source.ip")),
        "outcome": cell_text(event.get("event.outcome")),
        "fields": sorted((k, cell_text(v)) for k, v in shown.items()),
    }


def _finding_fields(f: Finding) -> list[tuple[str, str]]:
    """The finding's entity and, for an anomaly, its actual and typical values."""
    out = [(k, cell_text(v)) for k, v in f.entity.items()]
    for key in ("actual", "typical", "probability", "function"):
        if key in f.document:
            out.append((key, cell_text(f.document[key])))
    reason = ((f.document.get("kibana") or {}).get("alert") or {}).get("reason")
    if reason:
        out.append(("kibana.alert.reason", str(reason)))
    return out


# --------------------------------------------------------------------------- helpers


def _markdown() -> Any:
    """Markdown with raw HTML off: a playbook's text is shown, never run."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False})


def _severity(score: float) -> str:
    return next(name for low, name, _ in SEVERITY_BANDS if score >= low)


def _severity_scale() -> list[list[Any]]:
    """A stepped plotly colour scale over 0..100 with Kibana's severity colours."""
    scale: list[list[Any]] = []
    bands = sorted(SEVERITY_BANDS)
    for i, (low, _, colour) in enumerate(bands):
        high = bands[i + 1][0] if i + 1 < len(bands) else 100
        scale += [[low / 100, colour], [high / 100, colour]]
    return scale


def _interval(bucket_span_s: int, range_s: float) -> int:
    """The column width: at least a bucket, and few enough columns to read."""
    wanted = max(bucket_span_s, range_s / SWIMLANE_COLUMNS)
    return next((i for i in NICE_INTERVALS_S if i >= wanted), int(math.ceil(wanted / 86400)) * 86400)


def _duration(seconds: int) -> str:
    if seconds % 86400 == 0:
        return f"{seconds // 86400} d"
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min"


def _record_entity(f: Finding) -> str:
    doc = f.document
    parts = [f"{doc[k + '_field_name']}={doc.get(k + '_field_value')}" for k in ("partition", "over", "by") if doc.get(k + "_field_name")]
    return ", ".join(parts) or "(whole job)"


def _label(text: str) -> str:
    """Text for plotly to draw: plotly.js reads a few HTML tags in labels, so escape them."""
    return html.escape(text, quote=False)


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _utc_dt(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
