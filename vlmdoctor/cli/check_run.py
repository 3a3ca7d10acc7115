"""What `vlmdoctor check` does once its options are parsed, click-free: the click command
(``check_cmd``) and the gate's own parser (``gate``) both end here with ``CheckParams``."""

from __future__ import annotations

import os
import sys

from vlmdoctor.cli.output import emit_report
from vlmdoctor.collect import collect_snapshot
from vlmdoctor.doctor import CheckRequest, ExtraStage, run_check
from vlmdoctor.errors import EXIT_FINDINGS, EXIT_OK, InputError
from vlmdoctor.knowledge import load_knowledge
from vlmdoctor.record import record
from vlmdoctor.report import Report
from vlmdoctor.reportfile import read_saved
from vlmdoctor.stages import fixing, planning, probing, saved_probe


@record
class CheckParams:
    """The parsed options of `check`. ``dtype`` is None when --dtype was not given."""

    model: str | None = None
    dtype: str | None = None
    from_report: str | None = None
    fmt: str = "text"
    output: str | None = None
    fail_on: str = "error"
    no_probe: bool = False
    probe_timeout: float = 120.0
    resolve: bool = False
    resolve_timeout: float = 120.0
    constraints: str | None = None
    python: str | None = None
    trust_remote_code: bool = False
    rules_dir: str | None = None


def run_check_command(p: CheckParams) -> int:
    """Check, print the report (and write --write-constraints), return the exit code."""
    knowledge = load_knowledge(p.rules_dir, gate=True)
    probe_stage: ExtraStage | None = None
    saved = read_saved(p.from_report) if p.from_report is not None else None
    if saved is not None:
        probe_stage = saved_probe(saved.probe) if saved.probe is not None else None
    elif not p.no_probe:
        probe_stage = probing(p.probe_timeout, knowledge.tables, python=p.python,
                              trust_remote_code=p.trust_remote_code)
    request = CheckRequest(model=p.model, dtype=p.dtype, from_report=p.from_report,
                           fail_on=p.fail_on)
    python = p.python
    report = run_check(request, knowledge, plan_stage=planning(knowledge),
                       probe_stage=probe_stage, saved=saved,
                       collect=lambda: collect_snapshot(python=python),
                       fix_stage=fixing(resolve_with=(python or sys.executable) if p.resolve
                                        else None, timeout=p.resolve_timeout))
    if p.constraints is not None and report.fix_plan is not None:
        write_constraints(p.constraints, report)
    emit_report(report, p.fmt, p.output, extra_lines=_stage_lines(report))
    # The verdict states the exit: findings at or above --fail-on, or a failed probe.
    return EXIT_FINDINGS if report.summary.verdict == "fail" else EXIT_OK


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
