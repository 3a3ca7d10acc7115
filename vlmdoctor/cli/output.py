"""Where output goes (stdout or --output FILE) and whether it gets colour."""

from __future__ import annotations

import os
import sys
from typing import Callable

from vlmdoctor.errors import InputError
from vlmdoctor.render.jsonfmt import report_json
from vlmdoctor.render.markdown import report_markdown
from vlmdoctor.render.text import Line, report_lines, write_lines
from vlmdoctor.report import Report


def use_color() -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


def emit(render: Callable[[bool], str | list[Line]], output: str | None) -> None:
    """``render(color)`` returns a string, or lines for the text renderer."""
    if output is None:
        rendered = render(use_color())
        if isinstance(rendered, str):
            sys.stdout.write(rendered)
        else:
            write_lines(rendered, sys.stdout, use_color())
        sys.stdout.flush()
        return
    rendered = render(False)
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
    if fmt == "json":
        emit(lambda _: report_json(report), output)
    elif fmt == "markdown":
        emit(lambda _: report_markdown(report), output)
    else:
        emit(lambda _: report_lines(report, extra_lines), output)
