"""``ctdetect view-rule ID``: the exact API body deploy would send for one rule."""

from __future__ import annotations

import sys

import click

from ctdetect.commands.options import package_option, resolve_package_or_exit


@click.command(name="view-rule")
@click.argument("rule_ref")
@package_option()
def command(rule_ref, package):  # type: ignore[no-untyped-def]
    """Print the JSON body of Kibana's create-rule API (POST /api/detection_engine/rules)
    for the rule whose rule_id or name is RULE_REF, exactly as deploy and export send it
    (like detection-rules' `view-rule --api-format`). Exit 2 when no rule matches or the
    rule file does not load."""
    from ctdetect.services.view_rule import ViewRuleError, rule_api_body

    package_root = resolve_package_or_exit(package, "view-rule", bundled=True)
    try:
        text = rule_api_body(package_root, rule_ref)
    except ViewRuleError as exc:
        click.echo(f"ctdetect view-rule: {exc}", err=True)
        sys.exit(2)
    sys.stdout.write(text)
