"""`vlmdoctor check`: the doctor. Findings with fixes; exit code for gating."""

from __future__ import annotations

import sys

import click

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
from vlmdoctor.cli.output import emit_report
from vlmdoctor.collect import collect_snapshot
from vlmdoctor.doctor import CheckRequest, ExtraStage, run_check
from vlmdoctor.errors import EXIT_FINDINGS, EXIT_OK, InputError
from vlmdoctor.evaluate.context import DTYPE_CHOICES
from vlmdoctor.knowledge import load_knowledge
from vlmdoctor.report import Report
from vlmdoctor.reportfile import read_saved
from vlmdoctor.stages import fixing, planning, probing, saved_probe


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
    knowledge = load_knowledge(rules_dir, gate=True)
    probe_stage: ExtraStage | None = None
    saved = read_saved(from_report) if from_report is not None else None
    if saved is not None:
        probe_stage = saved_probe(saved.probe) if saved.probe is not None else None
    elif not no_probe:
        probe_stage = probing(probe_timeout, knowledge.tables, python=python,
                              trust_remote_code=trust_remote_code)
    request = CheckRequest(model=model, dtype=dtype if dtype_given(ctx) else None,
                           from_report=from_report, fail_on=fail_on)
    report = run_check(request, knowledge, plan_stage=planning(knowledge),
                       probe_stage=probe_stage, saved=saved,
                       collect=lambda: collect_snapshot(python=python),
                       fix_stage=fixing(resolve_with=(python or sys.executable) if resolve
                                        else None, timeout=resolve_timeout))
    if constraints is not None and report.fix_plan is not None:
        write_constraints(constraints, report)
    emit_report(report, fmt, output, extra_lines=_stage_lines(report))
    # The verdict states the exit: findings at or above --fail-on, or a failed probe.
    raise click.exceptions.Exit(EXIT_FINDINGS if report.summary.verdict == "fail" else EXIT_OK)


def _stage_lines(report: Report) -> list[str]:
    lines: list[str] = []
    if report.plan is not None:
        from vlmdoctor.plan import plan_text_lines

        lines += ["", *plan_text_lines(report.plan)]  # type: ignore[arg-type]
    if report.probe is not None:
        from vlmdoctor.probe import probe_summary_lines

        lines += ["", *probe_summary_lines(report.probe)]  # type: ignore[arg-type]
    return lines


def write_constraints(path: str, report: Report) -> None:
    """Written before the report is printed, so an unwritable path exits 2 with one line."""
    import os

    from vlmdoctor.fixplan.constraints import constraints_text
    from vlmdoctor.render.final import final_redactor

    assert report.fix_plan is not None
    text = final_redactor(os.environ)(constraints_text(report.fix_plan.to_dict(), report.target.model))
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise InputError(f"{path}: cannot write the constraints file: "
                         f"{exc.strerror or exc}") from None
    print(f"vlmdoctor: wrote constraints to {path}", file=sys.stderr, flush=True)
