"""Backends run a package over events and return findings.

``embedded`` runs in-process (no server); ``elasticsearch`` drives a real cluster.
Both implement ``Backend`` (``base``) and return the same ``Finding`` shapes.

The registry maps a backend name (``--backend NAME``) to ``"module:factory"``; the
module is imported only when that backend is asked for, so the embedded path never
imports an HTTP client. A backend module registers itself simply by being listed here,
or at run time through ``register_backend``. ``get_backend(name, **options)`` returns
an instance; an unknown or unavailable backend raises ``BackendUnavailable`` with a
message for the user.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

BACKENDS: dict[str, str] = {
    "embedded": "ctdetect.backends.embedded:EmbeddedBackend",
    "elasticsearch": "ctdetect.backends.elasticsearch:ElasticsearchBackend",
}

_FACTORIES: dict[str, Callable[..., Any]] = {}


class BackendUnavailable(Exception):
    """The backend named does not exist or cannot be loaded here (message says why)."""


def register_backend(name: str, factory: Callable[..., Any]) -> None:
    """Make ``factory(**options)`` available as ``--backend name``."""
    _FACTORIES[name] = factory


def backend_names() -> list[str]:
    return sorted(set(BACKENDS) | set(_FACTORIES))


def get_backend(name: str, **options: Any) -> Any:
    """An instance of the backend called ``name`` (options go to its constructor)."""
    return backend_class(name)(**options)


def backend_class(name: str) -> Any:
    """The factory (class) of the backend called ``name``, not instantiated: its class
    attributes say what it can do (``in_process``, ``reports_progress``; ``base.Backend``)."""
    factory = _FACTORIES.get(name)
    if factory is None:
        target = BACKENDS.get(name)
        if target is None:
            raise BackendUnavailable(f"unknown backend {name!r} (known: {', '.join(backend_names())})")
        module_name, _, attr = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            raise BackendUnavailable(f"backend {name!r} is not available in this installation ({exc.name} missing)") from exc
        factory = getattr(module, attr, None)
        if factory is None:
            raise BackendUnavailable(f"backend {name!r} is not available: {target} not found")
    return factory
