"""Facts from the model's own code (import scan) and the transformers release index."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vlmdoctor.errors import InputError
from vlmdoctor.evaluate.context import UNKNOWN, Context
from vlmdoctor.evaluate.facts import fact

if TYPE_CHECKING:  # the index loads only when a model is checked
    from vlmdoctor.tfindex.index import TransformersIndex

FLASH_ATTN_ESCAPE = (
    " flash_attn is imported unconditionally, so transformers refuses the file even when "
    "the model can run without it (attn_implementation='sdpa' or 'eager'). Either install "
    "it, or drop it from the import check while loading: wrap from_pretrained in "
    "unittest.mock.patch('transformers.dynamic_module_utils.get_imports', ...) with a "
    "get_imports that removes 'flash_attn' (transformers issue #28459).")


def index_or_none() -> TransformersIndex | None:
    """The release index, or None when it cannot be read (then no index-based claims)."""
    from vlmdoctor.tfindex.index import load_index

    try:
        return load_index()
    except InputError:
        return None


def model_types(ctx: Context) -> list[str]:
    """model_types transformers itself must register: the model's files' (top and nested,
    less the top one when remote code defines it), else the card's unless the model brings
    its own code."""
    facts = ctx.model.facts if ctx.model is not None else None
    if facts is not None:
        own = facts.model_type if facts.auto_map else None
        return [t for t in facts.model_types if t != own]
    card = ctx.card
    if card is None or card.requirements.trust_remote_code or card.requirements.needs_repo_install:
        return []
    return [card.hf_model_type] if card.hf_model_type else []


def _import_utils_names(release: str | None) -> Any:
    """Whether ``release``'s transformers.utils.import_utils has a name (check_imports skips
    an ``if`` calling one from 4.52.0): from the release index, None when it cannot tell."""
    index = index_or_none() if release else None

    def has(name: str) -> bool | None:
        if index is None or release is None:
            return None
        return index.has_name("transformers.utils.import_utils", name, release)

    return has


@fact("model.code_missing_packages", "records",
      "Packages the model's code imports unguarded that are not installed")
def _code_missing(ctx: Context, _: str) -> Any:
    if "packages" in ctx.snapshot.unknown:
        return UNKNOWN
    if not ctx.code:
        return []
    from vlmdoctor.modelcode.packages import missing_packages

    release = ctx.snapshot.packages.get("transformers")
    records = missing_packages(ctx.code, ctx.snapshot.packages, release,
                               _import_utils_names(release))
    out = []
    for rec in records:
        if rec["optional"]:
            continue  # guarded: the code runs without it (no false alarm)
        rec["escape"] = FLASH_ATTN_ESCAPE if rec["import"] == "flash_attn" else ""
        out.append(rec)
    return out
