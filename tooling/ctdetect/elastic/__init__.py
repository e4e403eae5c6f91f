"""Talking to Elasticsearch and Kibana: connection settings, the HTTP client with its one
deadline and safe retries, the request model, and the request bodies built from content
(rule TOML -> Kibana detection engine API, job/datafeed JSON -> ES ML API, hunting query
-> saved query), plus the preflight checks (versions, licence).

Used by both ``deploy`` (the planner) and the elasticsearch backend, so neither imports
the other. Nothing here is imported by the embedded path: ``ctdetect validate`` and
``replay`` with the embedded backend never load an HTTP client.
"""
