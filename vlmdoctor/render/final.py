"""The redaction that runs on the final text of every format.

Renderers escape what they print: JSON escapes quotes, backslashes and control
characters (and, with ``ensure_ascii``, everything beyond ASCII), text and Markdown show
control characters as visible escapes, Markdown cells escape ``|``, and fix commands put
values in single quotes. A secret that passes through one of these no longer matches its
raw value, so the last redaction masks every form a renderer can give it; the text
renderer's wrapping is covered by redacting the findings before they are wrapped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from vlmdoctor.record import replace
from vlmdoctor.redact import Redactor
from vlmdoctor.render.safe import json_safe, md_cell, printable
from vlmdoctor.report import Finding, Report


def _quoted(value: str) -> str:
    return value.replace("'", "'\"'\"'")  # the form a value takes inside '...' in a fix


def rendered_forms(secret: str) -> set[str]:
    """Every form ``secret`` can take in vlmdoctor's output."""
    forms: set[str] = set()
    for base in (secret, _quoted(secret)):
        forms |= {base, printable(base), md_cell(base), json.dumps(base)[1:-1],
                  json_safe(json.dumps(base, ensure_ascii=False)[1:-1])}
    return forms


def final_redactor(environ: Mapping[str, str]) -> Redactor:
    return Redactor(environ, variants=rendered_forms)


def _finding(finding: Finding, redact: Redactor) -> Finding:
    return replace(finding, title=redact(finding.title), message=redact(finding.message),
                   fix=tuple(redact(c) for c in finding.fix))


def redact_findings(report: Report, redact: Redactor) -> Report:
    """Findings' own text redacted before a renderer wraps or truncates it."""
    return replace(report, findings=tuple(_finding(f, redact) for f in report.findings))
