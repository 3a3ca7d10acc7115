"""The stages `check` adds after the rules: the memory plan and the live probe.

Each is a function (snapshot, resolved model, dtype) -> (report section, findings), built here
from its collaborators so `doctor.run_check` stays ignorant of both.
"""

from __future__ import annotations

import sys
from typing import Any, Mapping

from vlmdoctor.doctor import ExtraStage, FixStage
from vlmdoctor.evaluate.context import Context
from vlmdoctor.knowledge import Knowledge
from vlmdoctor.knowledge.tables import CudaTables
from vlmdoctor.report import Finding, JsonSection
from vlmdoctor.snapshot import Snapshot
from vlmdoctor.target import ResolvedModel


def planning(knowledge: Knowledge) -> ExtraStage:
    """Plan the model on the GPUs in the snapshot (none: no plan)."""

    def stage(snapshot: Snapshot, model: ResolvedModel,
              dtype: str) -> tuple[JsonSection | None, tuple[Finding, ...]]:
        card = model.card
        if card is None or not snapshot.gpus:
            return None, ()
        from vlmdoctor.plan import (
            PlanRequest,
            Stack,
            gpus_from_snapshot,
            make_plan,
            plan_findings,
            unplannable,
        )
        from vlmdoctor.plan.checkpoint import checkpoint_of

        variants = knowledge.catalogue.family(card.family)
        pixels = snapshot.env.get("MAX_PIXELS", "")  # what qwen-vl-utils / ms-swift will use
        plan = make_plan(PlanRequest(card=card, gpus=gpus_from_snapshot(snapshot),
                                     dtype=None if dtype == "auto" else dtype,
                                     max_pixels=int(pixels) if pixels.isdigit() else None,
                                     variants=variants, excluded=unplannable(snapshot),
                                     stack=Stack(snapshot.packages.get("transformers"),
                                                 snapshot.packages.get("torch"), "snapshot"),
                                     checkpoint=checkpoint_of(model.facts)),
                         strict=False)
        return plan, plan_findings(plan)

    return stage


def local_dir(model: ResolvedModel) -> str | None:
    """The directory of a model read from its own files (a directory or an HF cache
    snapshot): the probe builds that model's own code. None for a catalogue model."""
    local = getattr(model.source, "local", None)
    return None if local is None else str(local)


def probing(timeout: float, tables: CudaTables | None = None,
            python: str | None = None, trust_remote_code: bool = False) -> ExtraStage:
    """Run the probe in a child of this interpreter (skipped when torch is absent); for a
    local model it builds that model at toy size (its own Python code only with
    ``trust_remote_code``, the user's --trust-remote-code).

    With ``tables``, what the imported torch reports (CUDA, arch list) is compared with
    the wheel table; a disagreement is a finding, and the real build wins."""

    def stage(snapshot: Snapshot, model: ResolvedModel,
              dtype: str) -> tuple[JsonSection | None, tuple[Finding, ...]]:
        card = model.card
        from vlmdoctor.probe import (
            ProbeRequest,
            ProbeResult,
            probe_findings,
            run_probe,
            torch_importable,
        )

        interpreter = python or sys.executable
        if not torch_importable(interpreter):
            result = ProbeResult.skipped("torch is not importable in this Python")
        else:
            result = run_probe(ProbeRequest(
                python=interpreter,
                family=card.family if card else None,
                hf_model_type=card.hf_model_type if card else None,
                dtype=None if dtype == "auto" else dtype, timeout=timeout,
                model_path=local_dir(model), trust_remote_code=trust_remote_code))
        findings = probe_findings(result)
        truth = result.evidence.get("torch_build")
        if tables is not None and isinstance(truth, Mapping):
            from vlmdoctor.evaluate.torchtruth import compare

            differs = compare(snapshot, tables, truth)
            findings += (differs,) if differs is not None else ()
        return result, findings

    return stage


def saved_probe(section: Mapping[str, Any]) -> ExtraStage:
    """Replay the probe section of a saved report (`--from-report`)."""

    def stage(snapshot: Snapshot, model: ResolvedModel,
              dtype: str) -> tuple[JsonSection | None, tuple[Finding, ...]]:
        from vlmdoctor.probe import ProbeResult, probe_findings

        result = ProbeResult.from_dict(section)
        return result, probe_findings(result)

    return stage


def fixing(resolve_with: str | None = None, timeout: float = 120.0,
           runner: Any = None) -> FixStage:
    """Merge every finding's fix into one plan checked against the snapshot (pure, offline);
    with ``resolve_with`` (an interpreter), also ask that interpreter's pip to resolve it."""

    def stage(ctx: Context, findings: tuple[Finding, ...],
              ) -> tuple[JsonSection | None, tuple[Finding, ...]]:
        from vlmdoctor.fixplan import build_fix_plan

        plan = build_fix_plan(ctx, findings)
        if resolve_with is None:
            return plan, ()
        from vlmdoctor.fixplan.resolve import resolve, resolve_findings
        from vlmdoctor.record import replace

        section = resolve(plan, ctx.snapshot, resolve_with, timeout, runner)
        return replace(plan, resolve=section), resolve_findings(section)

    return stage
