"""Human-readable output. Plain text when not a TTY; rich colours when it is."""

from __future__ import annotations

import textwrap
from typing import IO

from vlmdoctor import __version__
from vlmdoctor.render.safe import printable
from vlmdoctor.render.summary import environment_lines, model_lines
from vlmdoctor.report import Finding, Report
from vlmdoctor.snapshot import Snapshot

Line = tuple[str, str]  # (text, rich style)
_MARK = {"error": ("x", "bold red"), "warning": ("!", "bold yellow"), "info": ("i", "cyan")}
_HEAD = {"error": "Errors", "warning": "Warnings", "info": "Info"}
WIDTH = 100
MAX_REFERENCES = 2  # in text; JSON and Markdown keep them all


def report_lines(report: Report, extra: list[str] | None = None) -> list[Line]:
    s = report.summary
    target = report.target.model or "no model given"
    dtype = f", {report.target.dtype}" if report.target.dtype else ""
    verdict_style = "bold red" if s.verdict == "fail" else "bold green"
    lines: list[Line] = [
        (f"vlmdoctor {__version__} report: {target}{dtype}", "bold"),
        (verdict_line(report), verdict_style),
        ("", ""),
    ]
    rows = model_lines(report.target.extra) + environment_lines(report.environment)
    lines += [(f"  {k:<13} {v}", "dim") for k, v in rows]
    for severity in ("error", "warning", "info"):
        group = [f for f in report.findings if f.severity == severity]
        if group:
            lines += [("", ""), (f"{_HEAD[severity]}:", "bold")]
            for finding in group:
                lines += finding_lines(finding)
    if not report.findings:
        lines += [("", ""), ("No problems found.", "green")]
    for text in extra or []:
        lines.append((text, ""))
    if report.fix_plan is not None:  # the report ends with the plan
        from vlmdoctor.render.fixplan import fix_plan_lines

        lines += fix_plan_lines(report.fix_plan.to_dict())
    return lines


def verdict_line(report: Report) -> str:
    """The verdict with the exit code it means, then the counts: never contradict the exit."""
    s = report.summary
    why = f": {s.reason}" if s.reason else ""
    return (f"Verdict: {s.verdict.upper()} (exit {s.exit_code}{why})  {s.errors} error(s), "
            f"{s.warnings} warning(s), {s.infos} info")


def finding_lines(finding: Finding) -> list[Line]:
    mark, style = _MARK[finding.severity]
    lines: list[Line] = [("", ""), (f"  {mark} [{finding.id}] {finding.title}", style)]
    for chunk in textwrap.wrap(finding.message, WIDTH - 6):
        lines.append((f"      {chunk}", ""))
    if finding.fix:
        lines.append(("      Fix:", "bold"))
        for command in finding.fix:
            lines.append((f"        {command}" if command.startswith("#") else f"        $ {command}",
                          "green"))
    for ref in finding.references[:MAX_REFERENCES]:
        lines.append((f"      see {ref}", "dim"))
    if len(finding.references) > MAX_REFERENCES:
        more = len(finding.references) - MAX_REFERENCES
        lines.append((f"      (+{more} more source(s) in --format json)", "dim"))
    return lines


def snapshot_lines(snapshot: Snapshot) -> list[Line]:
    lines: list[Line] = [(f"vlmdoctor {__version__}: environment", "bold")]
    lines += [(f"  {k:<13} {v}", "") for k, v in environment_lines(snapshot)]
    lines.append((f"  packages      {len(snapshot.packages)} installed "
                  "(see --format json for all)", "dim"))
    return lines


def write_lines(lines: list[Line], stream: IO[str], color: bool) -> None:
    """Each line made printable (no control character reaches the terminal or the file)."""
    if not color:
        stream.write("".join(printable(text) + "\n" for text, _ in lines))
        return
    from rich.console import Console  # only for terminals: keeps the gate fast when piped
    from rich.text import Text

    console = Console(file=stream, highlight=False, soft_wrap=True)
    for text, style in lines:
        console.print(Text(printable(text), style=style or ""))
