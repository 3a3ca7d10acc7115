"""`vlmdoctor explain`: recognise a pasted error, give its cause and this environment's fix."""

from __future__ import annotations

import sys

import click

from vlmdoctor.cli.options import (
    format_option,
    from_report_option,
    model_option,
    output_option,
    rules_option,
)
from vlmdoctor.cli.output import emit_report
from vlmdoctor.doctor import CheckRequest, run_check
from vlmdoctor.errors import EXIT_FINDINGS, EXIT_OK, InputError
from vlmdoctor.knowledge import load_knowledge
from vlmdoctor.record import replace
from vlmdoctor.report import with_verdict

MAX_TEXT = 4 * 1024 * 1024
NO_MATCH = ("No known failure signature matched this text. For a bug report, attach the "
            "full traceback and `vlmdoctor check --model MODEL --format json` output.")


@click.command("explain")
@click.argument("text", nargs=-1)
@model_option(help="The model that failed.")
@from_report_option
@format_option(("text", "json", "markdown"))
@output_option
@rules_option
def command(text: tuple[str, ...], model: str | None, from_report: str | None, fmt: str,
            output: str | None, rules_dir: str | None) -> None:
    """Explain an error message or log (arguments, or standard input when none are given).

    Exit 0 when a known cause was found, 1 when none matched, 2 on bad input.
    """
    if text:
        body = " ".join(text)
    else:
        if sys.stdin.isatty():
            click.echo("Paste the error or log, then press Ctrl-D:", err=True)
        body = sys.stdin.read(MAX_TEXT)
    if not body.strip():
        raise InputError("no error text given (pass it as arguments or on standard input)")
    knowledge = load_knowledge(rules_dir)
    symptom_ids = {r.id for r in knowledge.rules if r.is_symptom}
    report = run_check(CheckRequest(model=model, from_report=from_report, text=body), knowledge)
    matched = [f for f in report.findings if f.id in symptom_ids]
    # The recognised causes first, then what else is wrong with this environment.
    others = [f for f in report.findings if f.id not in symptom_ids]
    # explain's exit says whether a cause was recognised, and so does its verdict.
    reason = (f"{len(matched)} known failure cause(s) recognised" if matched
              else "no known failure signature matched")
    report = replace(report, findings=tuple(matched + others),
                                 summary=with_verdict(report.summary, bool(matched), reason))
    if fmt == "text":
        emit_report(report, "text", output, extra_lines=[] if matched else ["", NO_MATCH])
    else:
        emit_report(report, fmt, output)
        if not matched:
            click.echo(NO_MATCH, err=True)
    raise click.exceptions.Exit(EXIT_OK if matched else EXIT_FINDINGS)
