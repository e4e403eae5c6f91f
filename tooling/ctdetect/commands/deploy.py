"""``ctdetect deploy``: install the package into Elasticsearch and Kibana."""

from __future__ import annotations

import sys

import click


@click.command(name="deploy")
@click.option("--package", "package_root", default=".", show_default=True, type=click.Path(file_okay=False), help="Package root.")
@click.option("--space", default="default", show_default=True, help="Kibana space for rules and saved queries.")
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing. Needs no cluster when none is configured.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="With --dry-run, json is the exact request list.")
@click.option("--prune", is_flag=True, help="Delete objects carrying this package's marker that are no longer in the package (never an ML job a rule in any space uses); with --dry-run, list them.")
@click.option("--offline", is_flag=True, help="With --dry-run: plan without reading the cluster (every object is a create).")
@click.option("--env-file", type=click.Path(dir_okay=False), default=None, help="KEY=VALUE file with ELASTICSEARCH_URL, KIBANA_URL and credentials (default: .env if present).")
@click.option("--ca-cert", type=click.Path(dir_okay=False), default=None, help="CA bundle to verify the cluster's TLS certificate.")
@click.option("--rule", "rule_ref", default=None, help="Deploy one rule (rule_id or exact name) with the ML jobs it uses; nothing else.")
@click.option("--include-development", is_flag=True, help="Also deploy rules with maturity = \"development\" (production rules only by default).")
@click.option("--force-enabled-state", is_flag=True, help="On update, set enabled as the TOML says (by default a rule turned off or on in Kibana stays so).")
@click.option("--timeout", type=click.FloatRange(min=1), default=600, show_default=True, help="Seconds for the whole run: every request and every retry wait; past it, deploy stops and says where.")
def command(package_root, space, dry_run, fmt, prune, offline, env_file, ca_cert, rule_ref, include_development, force_enabled_state, timeout):  # type: ignore[no-untyped-def]
    """Create or update the package's ML jobs and datafeeds (Elasticsearch), detection
    rules and saved queries (Kibana). Runs validate's checks first and sends nothing while
    errors remain. Updates keep exceptions, actions and the enabled state set in Kibana.
    Idempotent: a second run sends nothing. Credentials come from the environment or
    --env-file, never from the command line. Exit 0 when everything is in place, 1 when
    some change failed or an id is held by an object this package did not create, 2 when
    nothing could start (package errors, settings, version, licence)."""
    from ctdetect.reporting.deploy import render_text, requests_json, result_dict
    from ctdetect.elastic.settings import ConnectionSettings, SettingsError
    from ctdetect.services.deploy import DeployError, DeployOptions, run_deploy

    if offline and not dry_run:
        click.echo("ctdetect deploy: --offline needs --dry-run", err=True)
        sys.exit(2)
    settings = None
    try:
        settings = ConnectionSettings.load(env_file, ca_cert=ca_cert)
        options = DeployOptions(
            space=space, dry_run=dry_run, prune=prune, offline=offline, include_development=include_development,
            force_enabled=force_enabled_state, rule=rule_ref, timeout=timeout,
            progress=lambda line: click.echo(f"ctdetect deploy: {settings.redact(line) if settings else line}", err=True),
        )
        result = run_deploy(package_root, settings, options=options)
    except (SettingsError, DeployError) as exc:
        message = settings.redact(str(exc)) if settings else str(exc)
        click.echo(f"ctdetect deploy: {message}", err=True)
        sys.exit(2)
    import io

    out = io.StringIO()  # everything shown goes through redaction (reports echo cluster answers)
    if fmt == "json":
        import json

        if dry_run:
            out.write(requests_json(result))
        else:
            out.write(json.dumps(result_dict(result), indent=2) + "\n")
        for line in [f"note: {n}" for n in result.notes] + [f"problem: {p}" for p in result.problems]:
            click.echo(settings.redact(line), err=True)
    else:
        render_text(result, out)
    sys.stdout.write(settings.redact(out.getvalue()))
    sys.exit(result.exit_code)
