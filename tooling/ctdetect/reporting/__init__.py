"""Every report ctdetect writes, one module per result type.

Services return data and never print; commands parse options and pick a format; the
modules here turn one service's result into text, JSON, JUnit XML, SARIF or tables:
``validation`` (text, json, and the dispatch by format name), ``sarif``, ``junit`` (the one
JUnit XML writer, for validate and replay), ``hunt``, ``replay``, ``compare``
(``replay --compare``), ``deploy`` (plan and outcome), ``coverage`` (the README table) and
``esql`` (the ``ctdetect esql`` table). ``paths.display_path`` names files the same way in
all of them.
"""
