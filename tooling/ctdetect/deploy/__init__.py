"""The deploy planner: read what ctdetect owns in a cluster (``state``), compare it with
the package (``diff``), plan the actions (``planner``) and send them (``apply``).

HTTP, settings and request bodies live in ``ctdetect.elastic``; the export files in
``ctdetect.export``; the Docker stack in ``ctdetect.stack``.
"""
