"""The options every command shares, spelt once: one vocabulary across ``ctdetect``.

Why: a user who learnt ``--package`` on ``deploy`` should not meet ``--root`` on
``coverage``, ``--project-dir`` on ``stack`` and a positional path on ``playbooks``; nor
``--format table`` here and ``--format text`` there. Each shared option is a decorator
below; an old spelling stays as a hidden alias that still works and prints one
deprecation warning on stderr, so scripts keep running while they are updated.

- ``package_option`` (``--package DIR``): resolved by ``content.locate.resolve_package``
  at the start of the command (the folder given, else the current folder when it is a
  package, else a clear error and exit 2).
- ``output_option`` (``-o/--output FILE``) and ``open_output``: a report to a file
  instead of stdout.
- ``format_option``: ``--format`` with the same names for the same things: ``text``
  (for people: tables, plans, reports), ``json``, ``ndjson``, ``junit``, ``sarif``,
  ``markdown``; the old ``table`` is read as ``text``.
- ``backend_option``: ``--backend`` validated against the registered backends.
- ``time_bound_option``: ``--since`` / ``--until`` in Elastic's date math (``now-7d/d``)
  or ISO-8601, read by ``timeutil.parse_date_math``.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator, NoReturn, TextIO

import click

F = Callable[..., Any]

#: Old --format names and what they are now.
FORMAT_ALIASES = {"table": "text"}


def warn(message: str) -> None:
    """One line on stderr that starts with ``warning:`` (never on stdout, which may be data)."""
    click.echo(f"warning: {message}", err=True)


def _with_alias(f: F, dest: str, new_flag: str, old_flag: str, alias_dest: str) -> F:
    """Wrap the command callback so the hidden alias ``alias_dest`` feeds ``dest``."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        old = kwargs.pop(alias_dest, None)
        if old is not None and old is not False:
            warn(f"{old_flag} is deprecated; use {new_flag}")
            if kwargs.get(dest) not in (None, False):
                raise click.UsageError(f"give {new_flag} or {old_flag}, not both")
            kwargs[dest] = old
        return f(*args, **kwargs)

    wrapper.__click_params__ = list(getattr(f, "__click_params__", []))  # type: ignore[attr-defined]
    return wrapper


def deprecated_alias(old_flag: str, *, new_flag: str, dest: str, is_flag: bool = False, **attrs: Any) -> Callable[[F], F]:
    """A hidden ``old_flag`` that sets the same parameter as ``new_flag``, with a warning.

    Apply it *above* the option it aliases (click decorators run bottom-up)."""
    alias_dest = "_alias_" + old_flag.lstrip("-").replace("-", "_")

    def decorate(f: F) -> F:
        wrapped = _with_alias(f, dest, new_flag, old_flag, alias_dest)
        option = click.option(old_flag, alias_dest, hidden=True, is_flag=is_flag, default=None if not is_flag else False, **attrs)
        return option(wrapped)

    return decorate


# --------------------------------------------------------------------------- the package


def package_option(*old_flags: str) -> Callable[[F], F]:
    """``--package DIR`` (parameter ``package``; ``None`` when not given), plus hidden
    deprecated ``old_flags`` (``--root``, ``--project-dir``). Resolve it with
    ``resolve_package_or_exit``."""

    def decorate(f: F) -> F:
        for old in old_flags:
            f = deprecated_alias(old, new_flag="--package", dest="package", type=click.Path(file_okay=False))(f)
        return click.option(
            "--package", "package", default=None, type=click.Path(file_okay=False),
            help="Content package folder (default: the current folder, when it is one).",
        )(f)

    return decorate


def resolve_package_or_exit(value: str | Path | None, command: str, bundled: bool = False) -> Path:
    """``content.locate.resolve_package``, or the reason on stderr and exit 2. ``bundled``:
    a command that only reads content may fall back to the content shipped with ctdetect."""
    from ctdetect.content.locate import PackageNotFound, resolve_package

    try:
        return resolve_package(value, bundled=bundled)
    except PackageNotFound as exc:
        fail(command, str(exc))


def fail(command: str, message: str, code: int = 2) -> NoReturn:
    """``ctdetect <command>: <message>`` on stderr, then exit ``code`` (2: nothing could run)."""
    click.echo(f"ctdetect {command}: {message}", err=True)
    sys.exit(code)


# --------------------------------------------------------------------------- output


def output_option(help_text: str = "Write the report to this file instead of standard output.") -> Callable[[F], F]:
    """``-o/--output FILE`` (parameter ``output``)."""
    return click.option("-o", "--output", "output", default=None, type=click.Path(dir_okay=False, path_type=Path), help=help_text)


@contextlib.contextmanager
def open_output(output: Path | None, command: str) -> Iterator[TextIO]:
    """The stream a report goes to: the file ``output`` (exit 2 with the reason when it
    cannot be written), else stdout."""
    if output is None:
        yield sys.stdout
        return
    try:
        handle = open(output, "w", encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        fail(command, f"cannot write {output}: {exc.strerror or exc}")
    with handle:
        yield handle


class FormatChoice(click.Choice):
    """``--format`` names; an old name (``table``) is accepted with a warning."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and value in FORMAT_ALIASES and FORMAT_ALIASES[value] in self.choices:
            warn(f"--format {value} is deprecated; use --format {FORMAT_ALIASES[value]}")
            value = FORMAT_ALIASES[value]
        return super().convert(value, param, ctx)


def format_option(choices: tuple[str, ...], default: str, help_text: str = "Output format.") -> Callable[[F], F]:
    """``--format`` (parameter ``fmt``) among ``choices``, shared names across commands."""
    return click.option("--format", "fmt", type=FormatChoice(list(choices)), default=default, show_default=True, help=help_text)


# --------------------------------------------------------------------------- backends and time


def backend_option(help_text: str = "Backend that runs the content.") -> Callable[[F], F]:
    """``--backend`` among the registered backends (``ctdetect.backends.backend_names``)."""
    from ctdetect.backends import backend_names

    return click.option("--backend", type=click.Choice(backend_names()), default="embedded", show_default=True, help=help_text)


class DateMath(click.ParamType):
    """A time bound: Elastic date math or ISO-8601; upper bounds round up (``now/d`` is
    the end of today), as Elasticsearch rounds ``lte``."""

    name = "time"

    def __init__(self, round_up: bool = False) -> None:
        self.round_up = round_up

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        from ctdetect.timeutil import BadTimestamp, parse_date_math

        if isinstance(value, datetime):
            return value
        try:
            return parse_date_math(str(value), round_up=self.round_up)
        except BadTimestamp as exc:
            self.fail(str(exc), param, ctx)


def time_bounds_options(what: str = "findings") -> Callable[[F], F]:
    """``--since`` and ``--until`` (parameters ``since``, ``until``: aware UTC datetimes or
    ``None``); the command must reject ``since > until`` with ``check_time_bounds``."""

    def decorate(f: F) -> F:
        f = click.option("--until", type=DateMath(round_up=True), default=None,
                         help=f"Only {what} at or before this time: ISO-8601 (UTC unless an offset is given) or date math (now, now-1d/d).")(f)
        return click.option("--since", type=DateMath(), default=None,
                            help=f"Only {what} at or after this time: ISO-8601 (UTC unless an offset is given) or date math (now-7d, now-7d/d).")(f)

    return decorate


def check_time_bounds(since: datetime | None, until: datetime | None, command: str) -> None:
    """Exit 2 when ``--since`` is later than ``--until``: nothing could ever match."""
    if since is not None and until is not None and since > until:
        fail(command, f"--since {since:%Y-%m-%dT%H:%M:%S}Z is later than --until {until:%Y-%m-%dT%H:%M:%S}Z: no time lies between them")
