"""`vlmdoctor check`: the doctor. Findings with fixes; exit code for gating.

The options are declared here, once, for click; ``vlmdoctor.cli.gate`` parses the gate's
common forms of the same options without click (tests hold the two to the same answers)."""

from __future__ import annotations

import click

from vlmdoctor.cli.check_run import CheckParams, run_check_command
from vlmdoctor.cli.options import (
    dtype_given,
    dtype_option,
    fail_on_option,
    format_option,
    from_report_option,
    model_option,
    output_option,
    python_option,
    rules_option,
    trust_option,
)
from vlmdoctor.evaluate.context import DTYPE_CHOICES


@click.command("check")
@model_option()
@dtype_option(tuple(d for d in DTYPE_CHOICES if d != "auto"),
              help="dtype the model will run in; auto = the model's native dtype (with "
                   "--from-report and no --dtype: the report's dtype).")
@from_report_option
@format_option(("text", "json", "markdown"))
@output_option
@fail_on_option
@click.option("--no-probe", is_flag=True,
              help="Skip the live load-and-generate probe (never run with --from-report).")
@click.option("--probe-timeout", type=click.FloatRange(min=1), default=120.0, show_default=True,
              metavar="SECONDS", help="Hard limit for the probe.")
@click.option("--resolve", "resolve", is_flag=True,
              help="Verify the fix plan with pip's own resolver (pip install --dry-run "
                   "--ignore-installed --report, with the target Python and your pip "
                   "configuration and index; installs nothing). Not for the pre-job gate.")
@click.option("--resolve-timeout", type=click.FloatRange(min=1), default=120.0,
              show_default=True, metavar="SECONDS", help="Hard limit for --resolve's pip.")
@click.option("--write-constraints", "constraints", metavar="FILE", default=None,
              help="Write the fix plan's requirement set as a pip constraints file "
                   "(pip install -c FILE ...).")
@python_option
@trust_option
@rules_option
@click.pass_context
def command(ctx: click.Context, model: str | None, dtype: str, from_report: str | None, fmt: str,
            output: str | None, fail_on: str, no_probe: bool, probe_timeout: float,
            resolve: bool, resolve_timeout: float, constraints: str | None,
            python: str | None, trust_remote_code: bool, rules_dir: str | None) -> None:
    """Check this environment (or a saved report) for a model; print findings with fixes,
    merged at the end into one fix plan."""
    code = run_check_command(CheckParams(
        model=model, dtype=dtype if dtype_given(ctx) else None, from_report=from_report,
        fmt=fmt, output=output, fail_on=fail_on, no_probe=no_probe, probe_timeout=probe_timeout,
        resolve=resolve, resolve_timeout=resolve_timeout, constraints=constraints, python=python,
        trust_remote_code=trust_remote_code, rules_dir=rules_dir))
    raise click.exceptions.Exit(code)
