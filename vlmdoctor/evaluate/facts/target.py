"""Facts about the target: the model card and the requested dtype."""

from __future__ import annotations

from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from vlmdoctor.evaluate.context import UNKNOWN, Context
from vlmdoctor.evaluate.facts.registry import fact
from vlmdoctor.knowledge.cards import shown_spec
from vlmdoctor.shell import arg


@fact("target.model", "str", "Canonical id of the --model (null when none was given)")
def _model(ctx: Context, _: str) -> Any:
    return ctx.card.id if ctx.card else None


@fact("target.model_unknown", "str",
      "--model as given when it names no catalogue model, directory or cached repo")
def _unknown(ctx: Context, _: str) -> Any:
    return ctx.model.requested if ctx.model is not None and ctx.model.unknown else None


@fact("target.model_unknown_repo", "str", "An unknown --model that has the shape of a Hub repo id")
def _unknown_repo(ctx: Context, _: str) -> Any:
    import re

    name = _unknown(ctx, "")
    return name if name and re.fullmatch(r"[A-Za-z0-9][\w.\-]*/[\w.\-]+", name) else None


@fact("target.model_suggestions", "list", "The closest catalogue ids to an unknown --model")
def _suggestions(ctx: Context, _: str) -> Any:
    return list(ctx.model.suggestions) if ctx.model is not None else []


@fact("target.hf_cache", "str", "The Hugging Face cache directory --model repo ids are looked up in")
def _hf_cache(ctx: Context, _: str) -> Any:
    from vlmdoctor.collect.host import home_relative
    from vlmdoctor.modelfiles.locate import hub_cache

    return home_relative(str(hub_cache(ctx.snapshot.env))) if ctx.model is not None else None


@fact("target.dtype", "str", "Effective dtype: --dtype, or the model's native dtype for auto")
def _dtype(ctx: Context, _: str) -> Any:
    return ctx.effective_dtype


@fact("target.dtype_requested", "str", "--dtype as given (auto, bf16, fp16, fp32)")
def _dtype_requested(ctx: Context, _: str) -> Any:
    return ctx.dtype


@fact("model.name", "str", "Display name of the model")
def _name(ctx: Context, _: str) -> Any:
    return ctx.card.name if ctx.card else None


@fact("model.family", "str", "Model family id (mgm, internvl, qwen2-vl, ...)")
def _family(ctx: Context, _: str) -> Any:
    return ctx.card.family if ctx.card else None


@fact("model.native_dtype", "str", "The dtype the model's weights are published in")
def _native(ctx: Context, _: str) -> Any:
    return ctx.card.native_dtype if ctx.card else None


@fact("model.flash_attn", "str", "none, optional, default, required or required-high-res")
def _flash(ctx: Context, _: str) -> Any:
    return ctx.card.requirements.flash_attn if ctx.card else None


@fact("model.attn_fallback", "str", "The model's own switch away from FlashAttention-2")
def _fallback(ctx: Context, _: str) -> Any:
    if ctx.card is None:
        return None
    return ctx.card.requirements.attn_fallback or "attn_implementation='sdpa'"


@fact("model.min_compute_capability", "version", "Lowest compute capability the model supports")
def _min_cc(ctx: Context, _: str) -> Any:
    return ctx.card.requirements.min_compute_capability if ctx.card else None


@fact("model.min_gpus", "number", "GPUs the model's own loader expects")
def _min_gpus(ctx: Context, _: str) -> Any:
    return ctx.card.requirements.min_gpus if ctx.card else None


@fact("model.trust_remote_code", "bool", "Whether loading runs code from the model repo")
def _remote(ctx: Context, _: str) -> Any:
    return ctx.card.requirements.trust_remote_code if ctx.card else None


@fact("model.repo_install", "str", "How to install the model's own code repository")
def _repo(ctx: Context, _: str) -> Any:
    return ctx.card.requirements.needs_repo_install if ctx.card else None


@fact("model.python_spec", "spec", "Python versions the model's pinned stack supports")
def _python(ctx: Context, _: str) -> Any:
    py = ctx.card.requirements.python if ctx.card else None
    return py.spec if py else None


@fact("model.python_why", "str", "Why the model's stack limits the Python version")
def _python_why(ctx: Context, _: str) -> Any:
    py = ctx.card.requirements.python if ctx.card else None
    return py.why if py else None


@fact("model.transformers_fix", "str", "The model's own fix command for its transformers window")
def _transformers_fix(ctx: Context, _: str) -> Any:
    if ctx.card is None:
        return None
    for req in ctx.card.requirements.for_package("transformers"):
        if req.severity == "error" and req.fix:
            return req.fix[0]
    return None


def _record(req: Any, spec: str, found: str | None) -> dict[str, Any]:
    return {"package": req.package, "spec": shown_spec(spec), "found": found, "why": req.why,
            "severity": req.severity, "references": list(req.references),
            "fix": list(req.fix) or [f"pip install {arg(req.package + req.shown_spec)}"]}


def _unmet(ctx: Context) -> Any:
    """Installed packages (not transformers) outside one of the card's windows, one record per window."""
    if "packages" in ctx.snapshot.unknown:
        return UNKNOWN
    if ctx.card is None:
        return []
    out = []
    for req in ctx.card.requirements.packages:
        found = ctx.snapshot.packages.get(req.package)
        if req.package == "transformers" or found is None:
            continue
        try:
            meets = SpecifierSet(req.spec).contains(Version(found), prereleases=True)
        except InvalidVersion:
            continue  # a version packaging cannot read is unknown: it neither meets nor misses
        if not meets:
            out.append(_record(req, req.spec, found))
    return out


@fact("model.transformers_unmet", "records",
      "One record per model: the card's transformers windows and the release index, combined")
def _transformers_unmet(ctx: Context, _: str) -> Any:
    if "packages" in ctx.snapshot.unknown:
        return UNKNOWN
    found = ctx.snapshot.packages.get("transformers")
    if ctx.card is None or found is None:
        return []
    try:
        Version(found)
    except InvalidVersion:
        return UNKNOWN  # a version packaging cannot read neither meets nor misses a window
    from vlmdoctor.evaluate.facts.code import index_state, model_types
    from vlmdoctor.evaluate.transformers_window import combine, index_parts

    types = model_types(ctx)
    # The index only speaks to model types and code imports: without either it is not loaded;
    # when it cannot be read, model.transformers_index_notes says so.
    index, _unreadable = index_state(ctx)
    parts = index_parts(index, found, types, ctx.code)
    return combine(ctx.card.requirements.for_package("transformers"), found, parts, index)


@fact("model.packages_unmet", "records", "Other package versions the model needs that this install misses")
def _packages_unmet(ctx: Context, _: str) -> Any:
    return _unmet(ctx)


@fact("model.packages_missing", "records", "Packages the model needs that are not installed")
def _packages_missing(ctx: Context, _: str) -> Any:
    """One record per missing package, its error windows joined into one specifier."""
    if "packages" in ctx.snapshot.unknown:
        return UNKNOWN
    if ctx.card is None:
        return []
    seen: dict[str, dict[str, Any]] = {}
    for req in ctx.card.requirements.packages:
        if req.package in ctx.snapshot.packages or req.severity != "error":
            continue
        entry = seen.setdefault(req.package, _record(req, req.spec, None))
        if req.shown_spec and req.shown_spec not in entry["spec"].split(","):
            entry["spec"] = shown_spec(f"{entry['spec']},{req.shown_spec}")
    return list(seen.values())


@fact("model.placement_style", "str", "How the family splits across GPUs (internvl-split, xcomposer, ...)")
def _placement(ctx: Context, _: str) -> Any:
    return ctx.card.placement.style if ctx.card else None
