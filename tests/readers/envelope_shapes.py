"""Writers of the shapes real CloudTrail records reach users in, for tests: each takes the
records of a real delivery file and writes them the way the AWS service would."""

from __future__ import annotations

import base64
import gzip
import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, Callable


def _stamp(record: dict[str, Any]) -> int:
    return int(datetime.fromisoformat(record["eventTime"].replace("Z", "+00:00")).timestamp())


def lookup_events(records: list[dict[str, Any]], path: Path) -> Path:
    """``aws cloudtrail lookup-events`` output (indented, as the CLI prints it)."""
    events = [{"EventId": r["eventID"], "EventName": r["eventName"], "ReadOnly": str(r.get("readOnly", "")).lower(),
               "EventTime": _stamp(r), "EventSource": r["eventSource"], "Username": "someone", "Resources": [],
               "CloudTrailEvent": json.dumps(r)} for r in records]
    path.write_text(json.dumps({"Events": events, "NextToken": "abc"}, indent=4))
    return path


def _eventbridge(record: dict[str, Any]) -> dict[str, Any]:
    return {"version": "0", "id": str(uuid.uuid5(uuid.NAMESPACE_URL, record["eventID"])),
            "detail-type": "AWS API Call via CloudTrail", "source": "aws." + record["eventSource"].split(".")[0],
            "account": record.get("recipientAccountId", "111122223333"), "time": record["eventTime"],
            "region": record.get("awsRegion", "us-east-1"), "resources": [], "detail": record}


def eventbridge_lines(records: list[dict[str, Any]], path: Path) -> Path:
    path.write_text("".join(json.dumps(_eventbridge(r)) + "\n" for r in records))
    return path


def eventbridge_array(records: list[dict[str, Any]], path: Path) -> Path:
    path.write_text(json.dumps([_eventbridge(r) for r in records], indent=2))
    return path


def _cwl(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"messageType": "DATA_MESSAGE", "owner": "111122223333", "logGroup": "aws-cloudtrail-logs",
            "logStream": "111122223333_CloudTrail_us-east-1", "subscriptionFilters": ["to-firehose"],
            "logEvents": [{"id": str(i), "timestamp": _stamp(r) * 1000, "message": json.dumps(r)} for i, r in enumerate(records)]}


_CONTROL = {"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "",
            "subscriptionFilters": [], "logEvents": [{"id": "", "timestamp": 1, "message": "CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}


def _halves(records: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    middle = len(records) // 2
    return [records[:middle], records[middle:]]


def firehose_gzip(records: list[dict[str, Any]], path: Path) -> Path:
    """A Firehose S3 object of CloudWatch Logs data: gzip, envelopes back to back."""
    blob = json.dumps(_CONTROL) + "".join(json.dumps(_cwl(part)) for part in _halves(records))
    path.write_bytes(gzip.compress(blob.encode()))
    return path


def firehose_base64_lines(records: list[dict[str, Any]], path: Path) -> Path:
    """Each CloudWatch Logs envelope as base64 of its gzip, one a line."""
    lines = [base64.b64encode(gzip.compress(json.dumps(_cwl(part)).encode())).decode() for part in _halves(records)]
    path.write_text("\n".join(lines) + "\n")
    return path


def firehose_transform(records: list[dict[str, Any]], path: Path) -> Path:
    """The records a Firehose transformation Lambda receives (``data`` base64 of gzip)."""
    items = [{"recordId": str(i), "approximateArrivalTimestamp": 1,
              "data": base64.b64encode(gzip.compress(json.dumps(_cwl(part)).encode())).decode()}
             for i, part in enumerate(_halves(records))]
    path.write_text(json.dumps({"invocationId": "inv-1", "deliveryStreamArn": "arn:aws:firehose:us-east-1:1:deliverystream/ct",
                                "region": "us-east-1", "records": items}))
    return path


def lake_query_results(records: list[dict[str, Any]], path: Path) -> Path:
    """``aws cloudtrail get-query-results`` of ``SELECT *``: one single-key object a column;
    object and array columns come as JSON text."""
    rows = [[{k: json.dumps(v) if isinstance(v, (dict, list)) else v} for k, v in r.items()] for r in records]
    path.write_text(json.dumps({"QueryStatus": "FINISHED", "QueryStatistics": {"ResultsCount": len(rows)},
                                "QueryResultRows": rows}, indent=2))
    return path


SHAPES: dict[str, Callable[[list[dict[str, Any]], Path], Path]] = {
    "lookup-events.json": lookup_events,
    "eventbridge.ndjson": eventbridge_lines,
    "eventbridge-array.json": eventbridge_array,
    "firehose-cwl.gz": firehose_gzip,
    "firehose-cwl.b64": firehose_base64_lines,
    "firehose-transform.json": firehose_transform,
    "lake-results.json": lake_query_results,
}
