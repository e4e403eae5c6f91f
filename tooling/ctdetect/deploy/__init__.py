"""Talking to a real Elastic cluster: connection settings, HTTP clients with retries,
request-body builders (rule TOML -> Kibana API, job/datafeed JSON -> ES ML API, hunting
query -> saved query), the preflight checks, the state reader and the planner.

Nothing here is imported by the embedded path: ``ctdetect validate`` and ``replay`` with
the embedded backend never load an HTTP client.
"""
