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
from vlmdoctor.cli.stdin_tail import read_tail
from vlmdoctor.doctor import CheckRequest, run_check
from vlmdoctor.errors import EXIT_FINDINGS, EXIT_OK, InputError
from vlmdoctor.knowledge import load_knowledge
from vlmdoctor.record import replace
from vlmdoctor.report import with_verdict

MAX_TEXT = 4 * 1024 * 1024
NO_MATCH = ("No known failure signature matched this text. For a bug report, attach the "
            "full traceback and `vlmdoctor check --model MODEL --format json` output.")


def _read_stdin() -> tuple[str, str | None]:
    """The end of standard input (where the final traceback is), in bounded memory."""
    stream = sys.stdin
    if stream is None:
        raise InputError("no error text given and standard input is closed "
                         "(pass the text as arguments)")
    try:
        if stream.isatty():
            click.echo("Paste the error or log, then press Ctrl-D:", err=True)
        tail = read_tail(stream.buffer, MAX_TEXT)
    except (OSError, ValueError, AttributeError) as exc:
        raise InputError(f"standard input: cannot read: {getattr(exc, 'strerror', None) or exc}"
                         ) from None
    return tail.text, tail.note()


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
    skipped_note = None
    if text:
        body = " ".join(text)
    else:
        body, skipped_note = _read_stdin()
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
    notes = [n for n in (skipped_note, None if matched else NO_MATCH) if n]
    if fmt == "text":
        emit_report(report, "text", output, extra_lines=[line for n in notes for line in ("", n)])
    else:
        emit_report(report, fmt, output)
        for note in notes:
            click.echo(note, err=True)
    raise click.exceptions.Exit(EXIT_OK if matched else EXIT_FINDINGS)
