"""Command-line entry point.

The CLI is thin: each sub-command lives in its own module under ``ctdetect.commands``
and is imported only when it is invoked, so ``ctdetect validate`` never pays for the
anomaly engine or the Elasticsearch client at start-up.
"""

from __future__ import annotations

import gc
import importlib
import sys

import click

from ctdetect import __version__

# command name -> (module under ctdetect.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("init", "Create a content repository of your own (layout, CI workflow, pre-commit hooks, an example rule)."),
    "import": ("import_rules", "Import rules exported from Kibana (rules.ndjson) as TOML rules with playbooks."),
    "new": ("new", "Scaffold a rule, ML job or hunting query with its playbook and scenarios."),
    "validate": ("validate", "Check a content package (or a folder of rule TOML files) for problems."),
    "fmt": ("fmt", "Lay out rule TOML files as Elastic's detection-rules formatter does."),
    "schema": ("schema", "Print the JSON Schema of a content format (rule, job, datafeed, scenario, hunting-query)."),
    "replay": ("replay", "Run scenarios and check that the expected alerts and anomalies fire."),
    "hunt": ("hunt", "Run every rule and ML job over CloudTrail archives and rank the findings."),
    "map": ("map", "Write the ECS documents of CloudTrail input as the aws integration would index them (NDJSON)."),
    "esql": ("esql", "Run an ES|QL hunting query over CloudTrail archives, offline."),
    "synth": ("synth", "Generate deterministic benign CloudTrail history (raw records)."),
    "playbooks": ("playbooks", "Regenerate rule notes from playbooks, and list hunting queries."),
    "coverage": ("coverage", "Print the package's coverage table (rules, jobs, ATT&CK, scenarios)."),
    "deploy": ("deploy", "Install the package into Elasticsearch and Kibana."),
    "view-rule": ("view_rule", "Print the exact Kibana API body deploy sends for one rule."),
    "export": ("export", "Write Kibana import files, an ML bundle and an ATT&CK Navigator layer."),
    "stack": ("stack", "Start, inspect or stop the docker-compose Elasticsearch + Kibana stack."),
}


class LazyGroup(click.Group):
    """A click group whose sub-commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, help_text = entry
        try:
            module = importlib.import_module(f"ctdetect.commands.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("ctdetect.commands"):
                return _absent_command(cmd_name, help_text)
            raise
        command = getattr(module, "command", None)
        if command is None:
            return _absent_command(cmd_name, help_text)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _absent_command(name: str, help_text: str) -> click.Command:
    """A command that says plainly it is not available in this build."""

    @click.command(name=name, help=help_text, context_settings={"ignore_unknown_options": True})
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def absent(args: tuple[str, ...]) -> None:
        click.echo(f"ctdetect {name}: not available in this version.", err=True)
        sys.exit(2)

    return absent


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ctdetect")
def cli() -> None:
    """ctdetect: CloudTrail detections for the Elastic Stack, checked on a laptop."""


#: The cyclic collector's thresholds for a ctdetect process (Python's default: 700, 10, 10).
#: A hunt or replay allocates millions of short-lived containers (mapped events, rule
#: windows' rows, a bucket close's leaves) that reference counting frees; with a young
#: generation of 700 the collector walks them every few hundred allocations, and
#: promotes the live ones into generations whose collections walk the whole heap (the
#: models, the rules' state). Measured (bench/README.md, stop 28): 10-20 % of a hunt's or
#: a replay's CPU; with these thresholds about a tenth less CPU, the same peak memory and
#: byte-identical results (nothing ctdetect computes depends on when the collector runs).
COLLECTOR_THRESHOLDS = (50_000, 50, 100)


def main() -> None:
    """Console-script entry point."""
    gc.set_threshold(*COLLECTOR_THRESHOLDS)
    cli(prog_name="ctdetect")
