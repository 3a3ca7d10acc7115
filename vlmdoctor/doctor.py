"""Orchestration: collect (or read) -> evaluate -> report. Collaborators are parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Tuple

from vlmdoctor.collect import Collected, collect_snapshot, now_utc
from vlmdoctor.errors import InputError
from vlmdoctor.evaluate.context import DTYPE_CHOICES, Context
from vlmdoctor.evaluate.engine import evaluate
from vlmdoctor.knowledge import Knowledge
from vlmdoctor.knowledge.cards import ModelCard
from vlmdoctor.report import Finding, JsonSection, Report, Target, summarize
from vlmdoctor.reportfile import SavedEnvironment, read_saved
from vlmdoctor.snapshot import Snapshot

# A later stage (planner, probe): (snapshot, card, dtype) -> (report section, findings).
ExtraStage = Callable[[Snapshot, Optional[ModelCard], str],
                      Tuple[Optional[JsonSection], Tuple[Finding, ...]]]


@dataclass(frozen=True)
class CheckRequest:
    model: str | None = None
    dtype: str = "auto"
    from_report: str | None = None
    fail_on: str = "error"
    text: str | None = None  # error text for `explain`


def load_environment(from_report: str | None,
                     collect: Callable[[], Collected] = collect_snapshot) -> Snapshot:
    """The live snapshot, or the one saved in a report / snapshot file."""
    if from_report is not None:
        return read_saved(from_report).snapshot
    return collect().snapshot


def resolve_model(knowledge: Knowledge, name: str | None) -> ModelCard | None:
    return knowledge.catalogue.resolve(name) if name else None


def run_check(
    request: CheckRequest,
    knowledge: Knowledge,
    collect: Callable[[], Collected] = collect_snapshot,
    plan_stage: ExtraStage | None = None,
    probe_stage: ExtraStage | None = None,
    clock: Callable[[], str] = now_utc,
    saved: SavedEnvironment | None = None,
) -> Report:
    """``saved`` is ``request.from_report`` already read (callers that needed it too)."""
    if request.dtype not in DTYPE_CHOICES:
        raise InputError(f"unknown dtype {request.dtype!r}; use one of {', '.join(DTYPE_CHOICES)}")
    card = resolve_model(knowledge, request.model)
    if request.from_report is not None:
        saved = saved or read_saved(request.from_report)
        snapshot, redactions = saved.snapshot, saved.redactions
    else:
        collected = collect()
        snapshot, redactions = collected.snapshot, collected.redactions
    ctx = Context(snapshot=snapshot, tables=knowledge.tables, card=card,
                  dtype=request.dtype, text=request.text)
    findings = list(evaluate(knowledge.rules, ctx))
    plan = probe = None
    if plan_stage is not None:
        plan, extra = plan_stage(snapshot, card, request.dtype)
        findings.extend(extra)
    if probe_stage is not None:
        probe, extra = probe_stage(snapshot, card, request.dtype)
        findings.extend(extra)
    ordered = tuple(sorted(findings, key=lambda f: f.sort_key()))
    probe_status = None if probe is None else probe.to_dict().get("status")
    return Report(
        created_at=clock(),
        target=Target(model=card.id if card else None, dtype=ctx.effective_dtype),
        environment=snapshot,
        findings=ordered,
        summary=summarize(ordered, request.fail_on, probe_status),
        redactions=redactions,
        plan=plan,
        probe=probe,
    )
