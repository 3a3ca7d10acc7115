"""`vlmdoctor check`: the doctor. Findings with fixes; exit code for gating."""

from __future__ import annotations

import click

from vlmdoctor.cli.options import (
    fail_on_option,
    format_option,
    from_report_option,
    output_option,
    rules_option,
)
from vlmdoctor.cli.output import emit_report
from vlmdoctor.doctor import CheckRequest, run_check
from vlmdoctor.errors import EXIT_FINDINGS, EXIT_OK
from vlmdoctor.evaluate.context import DTYPE_CHOICES
from vlmdoctor.knowledge import load_knowledge


@click.command("check")
@click.option("--model", "-m", metavar="MODEL", default=None,
              help="Model id, alias or Hugging Face repo id (see 'vlmdoctor models').")
@click.option("--dtype", type=click.Choice(DTYPE_CHOICES), default="auto", show_default=True,
              help="dtype the model will run in; auto = the model's native dtype.")
@from_report_option
@format_option(("text", "json", "markdown"))
@output_option
@fail_on_option
@click.option("--no-probe", is_flag=True, help="Skip the live load-and-generate probe.")
@click.option("--probe-timeout", type=click.FloatRange(min=1), default=120.0, show_default=True,
              metavar="SECONDS", help="Hard limit for the probe.")
@rules_option
def command(model: str | None, dtype: str, from_report: str | None, fmt: str,
            output: str | None, fail_on: str, no_probe: bool, probe_timeout: float,
            rules_dir: str | None) -> None:
    """Check this environment (or a saved report) for a model; print findings with fixes."""
    knowledge = load_knowledge(rules_dir)
    request = CheckRequest(model=model, dtype=dtype, from_report=from_report, fail_on=fail_on)
    report = run_check(request, knowledge)
    emit_report(report, fmt, output)
    raise click.exceptions.Exit(EXIT_FINDINGS if report.summary.verdict == "fail" else EXIT_OK)
