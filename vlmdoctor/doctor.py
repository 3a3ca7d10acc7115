"""Orchestration: collect (or read) -> evaluate -> report. Collaborators are parameters."""

from __future__ import annotations

from typing import Any, Callable, Optional, Tuple

from vlmdoctor.collect import Collected, collect_snapshot, now_utc
from vlmdoctor.errors import InputError
from vlmdoctor.evaluate.context import DTYPE_CHOICES, Context
from vlmdoctor.evaluate.engine import evaluate
from vlmdoctor.knowledge import Knowledge
from vlmdoctor.record import record
from vlmdoctor.report import Finding, JsonSection, Report, Target, summarize
from vlmdoctor.reportfile import SavedEnvironment, read_saved
from vlmdoctor.snapshot import Snapshot
from vlmdoctor.target import ResolvedModel, replay, resolve

# A later stage (planner, probe): (snapshot, resolved model, dtype) -> (section, findings).
# The resolved model carries the card, where the model came from (``source.local`` is the
# directory of a local model) and the facts read from its files.
ExtraStage = Callable[[Snapshot, ResolvedModel, str],
                      Tuple[Optional[JsonSection], Tuple[Finding, ...]]]
# The fix plan, after every other stage: (context, the findings) -> (section, more findings).
FixStage = Callable[[Context, Tuple[Finding, ...]],
                    Tuple[Optional[JsonSection], Tuple[Finding, ...]]]


@record
class CheckRequest:
    model: str | None = None
    dtype: str | None = None  # None: auto, or the saved target's dtype with --from-report
    from_report: str | None = None
    fail_on: str = "error"
    text: str | None = None  # error text for `explain`


def load_environment(from_report: str | None,
                     collect: Callable[[], Collected] = collect_snapshot) -> Snapshot:
    """The live snapshot, or the one saved in a report / snapshot file."""
    if from_report is not None:
        return read_saved(from_report).snapshot
    return collect().snapshot


def resolve_target(request: CheckRequest, knowledge: Knowledge,
                   saved: SavedEnvironment | None) -> tuple[ResolvedModel, str]:
    """The model and dtype to evaluate: as requested, or the saved report's target unless
    the maintainer overrides ``--model`` (the saved dtype then no longer applies)."""
    if request.dtype is not None and request.dtype not in DTYPE_CHOICES:
        raise InputError(f"unknown dtype {request.dtype!r}; use one of {', '.join(DTYPE_CHOICES)}")
    if saved is None or request.model is not None:
        return resolve(knowledge.catalogue, request.model), request.dtype or "auto"
    model = replay(knowledge.catalogue, saved.target or {}, saved.path)
    dtype = request.dtype
    if dtype is None:
        dtype = saved.target_dtype or "auto"
        if dtype not in DTYPE_CHOICES:
            raise InputError(f"{saved.path}: target.dtype {dtype!r} is not one of "
                             f"{', '.join(DTYPE_CHOICES)}")
    return model, dtype


def model_unknown_findings(knowledge: Knowledge, snapshot: Snapshot,
                           model: ResolvedModel) -> tuple[Finding, ...]:
    """The ``model-unknown`` warning alone, for commands that run no other rules (probe)."""
    if not model.unknown:
        return ()
    rules = [r for r in knowledge.rules if r.id == "model-unknown"]
    return evaluate(rules, Context(snapshot=snapshot, tables=knowledge.tables, model=model))


def verdict_status(probe: dict[str, Any]) -> str | None:
    """The probe status the verdict reads. A probe that failed in vlmdoctor's own code
    (``probe-fault``) proved nothing about the model: its warning is reported, and fails the
    run only through --fail-on like any other warning, never as a failed probe."""
    error = probe.get("error")
    if isinstance(error, dict) and error.get("kind") == "probe-fault":
        return None
    status = probe.get("status")
    return status if isinstance(status, str) else None


def run_check(
    request: CheckRequest,
    knowledge: Knowledge,
    collect: Callable[[], Collected] = collect_snapshot,
    plan_stage: ExtraStage | None = None,
    probe_stage: ExtraStage | None = None,
    clock: Callable[[], str] = now_utc,
    saved: SavedEnvironment | None = None,
    fix_stage: FixStage | None = None,
) -> Report:
    """``saved`` is ``request.from_report`` already read (callers that needed it too)."""
    if request.from_report is not None:
        saved = saved or read_saved(request.from_report)
    model, dtype = resolve_target(request, knowledge, saved)
    if saved is not None:
        snapshot, redactions = saved.snapshot, saved.redactions
    else:
        collected = collect()
        snapshot, redactions = collected.snapshot, collected.redactions
    ctx = Context(snapshot=snapshot, tables=knowledge.tables, card=model.card,
                  dtype=dtype, text=request.text, model=model, code=model.code)
    findings = list(evaluate(knowledge.rules, ctx))
    plan = probe = None
    if plan_stage is not None:
        plan, extra = plan_stage(snapshot, model, dtype)
        findings.extend(extra)
    if probe_stage is not None:
        probe, extra = probe_stage(snapshot, model, dtype)
        findings.extend(extra)
    # A stage that measured the truth withdraws the rule findings it proves wrong.
    withdrawn = {w for f in findings for w in f.evidence.get("withdraws") or ()}
    ordered = tuple(sorted((f for f in findings if f.id not in withdrawn),
                           key=lambda f: f.sort_key()))
    fix_plan = None
    if fix_stage is not None:
        fix_plan, extra = fix_stage(ctx, ordered)
        ordered = tuple(sorted(ordered + extra, key=lambda f: f.sort_key()))
    probe_status = None if probe is None else verdict_status(probe.to_dict())
    return Report(
        created_at=clock(),
        target=Target(model=model.model_id, dtype=ctx.effective_dtype,
                      extra=model.report_fields()),
        environment=snapshot,
        findings=ordered,
        summary=summarize(ordered, request.fail_on, probe_status),
        redactions=redactions,
        plan=plan,
        probe=probe,
        fix_plan=fix_plan,
    )
