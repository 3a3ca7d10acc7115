"""Facts from the model's own files (``--model DIR`` or a cached repo id): remote code, the
transformers release the checkpoint was saved with, quantization needs, missing shards.

All are None when no files were read (catalogue models, no model), so rules over them stay
silent there.
"""

from __future__ import annotations

from typing import Any

from packaging.version import InvalidVersion, Version

from vlmdoctor.evaluate.context import UNKNOWN, Context
from vlmdoctor.evaluate.facts.registry import fact
from vlmdoctor.shell import word


def _facts(ctx: Context) -> Any:
    return ctx.model.facts if ctx.model is not None else None


def _version(text: Any) -> Version | None:
    try:
        return Version(text) if isinstance(text, str) else None
    except InvalidVersion:
        return None


@fact("model.files_source", "str", "directory or hf-cache when --model's own files were read")
def _source(ctx: Context, _: str) -> Any:
    source = ctx.model.source if ctx.model is not None and _facts(ctx) is not None else None
    return source.kind if source is not None else None


@fact("model.remote_code", "list", "auto_map entries of config.json: classes loaded from the model's own *.py")
def _remote(ctx: Context, _: str) -> Any:
    facts = _facts(ctx)
    return [f"{k} -> {v}" for k, v in sorted(facts.auto_map.items())] if facts else None


@fact("model.saved_transformers", "version", "transformers release that saved config.json")
def _saved(ctx: Context, _: str) -> Any:
    facts = _facts(ctx)
    return facts.transformers_version if facts else None


@fact("compat.saved_transformers_newer_major", "bool",
      "The checkpoint was saved by a newer transformers major release than the installed one")
def _newer_major(ctx: Context, _: str) -> Any:
    if ctx.section_unknown("packages"):
        return UNKNOWN
    facts = _facts(ctx)
    saved = _version(facts.transformers_version if facts else None)
    installed = _version(ctx.snapshot.packages.get("transformers"))
    if saved is None or installed is None:
        return None
    return saved.major > installed.major


@fact("model.missing_files", "list", "Weight shards the safetensors index names that are not there")
def _missing(ctx: Context, _: str) -> Any:
    facts = _facts(ctx)
    return list(facts.missing_files) if facts else None


def _needs(ctx: Context) -> Any:
    facts = _facts(ctx)
    if facts is None or not facts.quantization:
        return None
    from vlmdoctor.modelfiles.quant import needs

    return needs(facts.quantization)


@fact("model.quant_method", "str", "quantization_config.quant_method of the checkpoint")
def _method(ctx: Context, _: str) -> Any:
    facts = _facts(ctx)
    return facts.quantization.get("quant_method") if facts and facts.quantization else None


@fact("model.quant_packages_missing", "records",
      "Packages the checkpoint's quantization method needs that are not installed")
def _quant_packages(ctx: Context, _: str) -> Any:
    need = _needs(ctx)
    if need is None or ctx.section_unknown("packages"):
        return [] if need is None else UNKNOWN
    out = []
    for group in need.packages:
        if not any(name in ctx.snapshot.packages for name in group):
            either = f"One of {', '.join(group)} is needed. " if group[1:] else ""
            out.append({"package": group[0], "spec": "", "found": None,
                        "why": either + need.why, "severity": "error",
                        "fix": [f"pip install {word(group[0])}"], "references": list(need.references)})
    return out


@fact("model.quant_min_compute_capability", "version",
      "Lowest compute capability the checkpoint's quantization kernels run on")
def _quant_cc(ctx: Context, _: str) -> Any:
    need = _needs(ctx)
    return need.min_cc if need else None


@fact("model.quant_why", "str", "What the checkpoint's quantization method needs, and why")
def _quant_why(ctx: Context, _: str) -> Any:
    need = _needs(ctx)
    return need.why if need else None
