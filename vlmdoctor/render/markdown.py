"""Markdown for bug tickets: summary, findings, and the JSON report in a collapsed block."""

from __future__ import annotations

from vlmdoctor import __version__
from vlmdoctor.render.jsonfmt import report_json
from vlmdoctor.render.safe import md_cell, md_fence, printable
from vlmdoctor.render.summary import environment_lines, model_lines
from vlmdoctor.report import Report


def report_markdown(report: Report) -> str:
    s = report.summary
    out = [
        f"## vlmdoctor {__version__} report: {printable(report.target.model or 'no model')}"
        + (f" ({printable(report.target.dtype)})" if report.target.dtype else ""),
        "",
        f"**Verdict: {s.verdict.upper()}** (exit {s.exit_code}"
        + (f": {md_cell(s.reason)}" if s.reason else "")
        + f"): {s.errors} error(s), {s.warnings} warning(s), {s.infos} info",
        "",
        "| | |",
        "|---|---|",
    ]
    rows = model_lines(report.target.extra) + environment_lines(report.environment)
    out += [f"| {md_cell(k)} | {md_cell(v)} |" for k, v in rows]
    out.append("")
    if report.findings:
        out.append("### Findings")
        for f in report.findings:
            out += ["", f"#### {f.severity.upper()} `{f.id}`: {printable(f.title)}", "",
                    printable(f.message)]
            if f.fix:
                fence = md_fence(f.fix)
                out += ["", f"{fence}sh", *(printable(c) for c in f.fix), fence]
            if f.references:
                out += ["", "Sources: " + ", ".join(f"<{printable(r)}>" for r in f.references)]
    else:
        out.append("No problems found.")
    if report.fix_plan is not None:
        from vlmdoctor.render.fixplan import fix_plan_markdown

        out += fix_plan_markdown(report.fix_plan.to_dict())
    out += ["", "<details><summary>Full JSON report</summary>", "", "```json",
            report_json(report).rstrip("\n"), "```", "", "</details>", ""]
    return "\n".join(out)
