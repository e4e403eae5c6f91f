"""The console script starts, lists its commands and reports its version."""

from click.testing import CliRunner

from ctdetect import __version__
from ctdetect.cli import cli


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in ("validate", "replay", "hunt", "deploy", "export", "schema", "synth"):
        assert name in result.output


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output
