"""Where output goes (stdout or --output FILE) and whether it gets colour."""

from __future__ import annotations

import os
import sys
from typing import Callable

from vlmdoctor.cli.guard import discard_stdout
from vlmdoctor.errors import InputError
from vlmdoctor.redact import Redactor
from vlmdoctor.render.final import final_redactor, redact_findings
from vlmdoctor.render.text import Line, report_lines, write_lines
from vlmdoctor.report import Report


def use_color() -> bool:
    if os.environ.get("NO_COLOR") or sys.stdout is None:
        return False
    try:
        return sys.stdout.isatty()
    except (OSError, ValueError):
        return False


def _redacted(rendered: str | list[Line], redact: Redactor | None = None) -> str | list[Line]:
    """Everything vlmdoctor prints or writes passes the one redaction (secrets, URL creds),
    on its final text: after JSON escaping, visible escapes and quoting."""
    redact = redact or final_redactor(os.environ)
    if isinstance(rendered, str):
        return redact(rendered)
    return [(redact(text), style) for text, style in rendered]


def emit(render: Callable[[bool], str | list[Line]], output: str | None,
         redact: Redactor | None = None) -> None:
    """``render(color)`` returns a string, or lines for the text renderer."""
    if output is None:
        color = use_color()
        rendered = _redacted(render(color), redact)
        stream = sys.stdout
        if stream is None:
            raise InputError("standard output is closed; write the report with -o FILE")
        try:
            if isinstance(rendered, str):
                stream.write(rendered)
            else:
                write_lines(rendered, stream, color)
            stream.flush()
        except BrokenPipeError:
            raise  # the reader went away: run_cli exits quietly
        except (OSError, ValueError) as exc:  # a full disk (/dev/full), a closed stream
            discard_stdout()
            reason = getattr(exc, "strerror", None) or str(exc)
            raise InputError(f"standard output: cannot write: {reason}") from None
        return
    rendered = _redacted(render(False), redact)
    try:
        with open(output, "w", encoding="utf-8") as handle:
            if isinstance(rendered, str):
                handle.write(rendered)
            else:
                write_lines(rendered, handle, False)
    except OSError as exc:
        raise InputError(f"{output}: cannot write: {exc.strerror or exc}") from None
    print(f"vlmdoctor: wrote {output}", file=sys.stderr, flush=True)


def emit_report(report: Report, fmt: str, output: str | None,
                extra_lines: list[str] | None = None) -> None:
    redact = final_redactor(os.environ)
    report = redact_findings(report, redact)
    if fmt == "json":
        from vlmdoctor.render.jsonfmt import report_json

        emit(lambda _: report_json(report), output, redact)
    elif fmt == "markdown":
        from vlmdoctor.render.markdown import report_markdown

        emit(lambda _: report_markdown(report), output, redact)
    else:
        emit(lambda _: report_lines(report, extra_lines), output, redact)
