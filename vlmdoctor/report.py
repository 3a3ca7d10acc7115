"""Findings and the report: what evaluate produces and render consumes."""

from __future__ import annotations

from typing import Any, Mapping, Protocol

from vlmdoctor import __version__
from vlmdoctor.record import field, record
from vlmdoctor.snapshot import Snapshot

SCHEMA_VERSION = 1
SEVERITIES = ("error", "warning", "info")
SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}
FAIL_ON = ("error", "warning", "never")


@record
class Finding:
    id: str
    severity: str
    title: str
    message: str
    fix: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    evidence: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "severity": self.severity,
            "title": self.title,
            "message": self.message,
            "fix": list(self.fix),
            "references": list(self.references),
            "evidence": dict(self.evidence),
        }

    def sort_key(self) -> tuple[int, str, str]:
        return (SEVERITY_RANK[self.severity], self.id, self.title)


class JsonSection(Protocol):
    """A report section produced by another stage (the plan, the probe)."""

    def to_dict(self) -> dict[str, Any]: ...


@record
class Target:
    model: str | None = None
    dtype: str | None = None
    # Additive keys (schema v1 readers ignore them): where the model came from and the
    # model facts evaluation used, so --from-report replays them without the files.
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "dtype": self.dtype, **self.extra}


@record
class Summary:
    """Counts, and the verdict that the command's exit code states: ``fail`` exactly when
    it exits 1. ``reason`` says why, in words, for each command's own meaning of the exit."""

    errors: int
    warnings: int
    infos: int
    verdict: str
    reason: str = ""

    @property
    def exit_code(self) -> int:
        return 1 if self.verdict == "fail" else 0

    def to_dict(self) -> dict[str, Any]:
        return {"errors": self.errors, "warnings": self.warnings, "infos": self.infos,
                "verdict": self.verdict, "exit_code": self.exit_code, "reason": self.reason}


PROBE_FAILED = ("failed", "timeout")


def summarize(findings: tuple[Finding, ...], fail_on: str,
              probe_status: str | None = None) -> Summary:
    """The verdict of `check`: findings at or above ``fail_on``, or a failed probe (which
    fails the run whatever ``--fail-on`` says: the stack does not work)."""
    counts = {s: sum(1 for f in findings if f.severity == s) for s in SEVERITIES}
    at_or_above = 0 if fail_on == "never" else sum(
        1 for f in findings if SEVERITY_RANK[f.severity] <= SEVERITY_RANK[fail_on])
    if probe_status in PROBE_FAILED:
        verdict, reason = "fail", f"the probe {'timed out' if probe_status == 'timeout' else 'failed'}"
    elif at_or_above:
        verdict, reason = "fail", f"{at_or_above} finding(s) at or above --fail-on {fail_on}"
    elif fail_on == "never":
        verdict, reason = "pass", "--fail-on never: findings are reported, none fails the run"
    else:
        verdict, reason = "pass", f"nothing at or above --fail-on {fail_on}"
    return Summary(errors=counts["error"], warnings=counts["warning"], infos=counts["info"],
                   verdict=verdict, reason=reason)


def with_verdict(summary: Summary, passed: bool, reason: str) -> Summary:
    """The same counts under another command's meaning of the exit (explain, probe)."""
    return Summary(summary.errors, summary.warnings, summary.infos,
                   "pass" if passed else "fail", reason)


@record
class Report:
    created_at: str
    target: Target
    environment: Snapshot
    findings: tuple[Finding, ...]
    summary: Summary
    redactions: tuple[str, ...] = ()
    plan: JsonSection | None = None
    probe: JsonSection | None = None
    cluster: JsonSection | None = None  # additive: only in `cluster check` reports
    fix_plan: JsonSection | None = None  # additive: `check` merges every fix into one plan

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "vlmdoctor", "version": __version__},
            "created_at": self.created_at,
            "target": self.target.to_dict(),
            "environment": self.environment.to_dict(),
            "findings": [f.to_dict() for f in self.findings],
            "plan": None if self.plan is None else self.plan.to_dict(),
            "probe": None if self.probe is None else self.probe.to_dict(),
            "redactions": list(self.redactions),
            "summary": self.summary.to_dict(),
        }
        if self.cluster is not None:
            out["cluster"] = self.cluster.to_dict()
        if self.fix_plan is not None:
            out["fix_plan"] = self.fix_plan.to_dict()
        return out
