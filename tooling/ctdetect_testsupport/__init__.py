"""Support for ctdetect's tests and benchmarks, kept out of the wheel.

``fakecluster.FakeElastic`` is an in-memory Elasticsearch + Kibana served over real HTTP,
used by the deploy and backend tests and by ``bench/cluster.py``. It lives in an importable
package (installed with the clone, ``pip install -e .``) so neither tests nor benchmarks
put folders on ``sys.path``; ``pyproject.toml`` excludes it from the wheel, and nothing in
``ctdetect`` may import it (``tests/test_layers.py``).
"""
