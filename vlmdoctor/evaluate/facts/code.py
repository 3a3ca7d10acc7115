"""Facts from the model's own code (import scan) and the transformers release index."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vlmdoctor.errors import InputError
from vlmdoctor.evaluate.context import UNKNOWN, Context
from vlmdoctor.evaluate.facts.registry import fact

if TYPE_CHECKING:  # the index loads only when a model is checked
    from vlmdoctor.tfindex.index import TransformersIndex

FLASH_ATTN_ESCAPE = (
    " flash_attn is imported unconditionally, so transformers refuses the file even when "
    "the model can run without it (attn_implementation='sdpa' or 'eager'). Either install "
    "it, or drop it from the import check while loading: wrap from_pretrained in "
    "unittest.mock.patch('transformers.dynamic_module_utils.get_imports', ...) with a "
    "get_imports that removes 'flash_attn' (transformers issue #28459).")


SKIPPED = ("the model_type registration and model-code import checks against transformers "
           "releases were skipped")


def index_or_none() -> TransformersIndex | None:
    """The release index, or None when it cannot be read (then no index-based claims)."""
    from vlmdoctor.tfindex.index import load_index

    try:
        return load_index()
    except InputError:
        return None


def index_state(ctx: Context) -> tuple[TransformersIndex | None, str | None]:
    """The release index when the model needs it (a model type or code to check), and why it
    could not be read (one line naming the file and what was skipped), else None."""
    if not (model_types(ctx) or ctx.code):
        return None, None
    from vlmdoctor.tfindex.index import load_index

    try:
        index = load_index()
        if any(site.top == "transformers" for scan in ctx.code for site in scan.imports):
            index.names("transformers")  # reads the names file now: a bad one is said here
    except InputError as exc:
        return None, f"{exc}; {SKIPPED}."
    return index, None


def model_types(ctx: Context) -> list[str]:
    """model_types transformers itself must register: the model's top-level one (a nested
    config is built by its parent config class, never looked up in CONFIG_MAPPING), none
    when remote code brings its own config class (auto_map AutoConfig); else the card's
    unless the model brings its own code."""
    facts = ctx.model.facts if ctx.model is not None else None
    if facts is not None:
        if "AutoConfig" in facts.auto_map or not facts.model_type:
            return []
        return [facts.model_type]
    card = ctx.card
    if card is None or card.requirements.trust_remote_code or card.requirements.needs_repo_install:
        return []
    return [card.hf_model_type] if card.hf_model_type else []


@fact("model.transformers_index_notes", "records",
      "What the transformers release index could not answer: a release newer than it, or an unreadable index file")
def _index_notes(ctx: Context, _: str) -> Any:
    if "packages" in ctx.snapshot.unknown:
        return UNKNOWN
    found = ctx.snapshot.packages.get("transformers")
    if (ctx.card is None and ctx.model is None) or found is None:
        return []
    index, problem = index_state(ctx)
    if problem is not None:
        return [{"severity": "warning", "title": problem.split(":", 1)[0] + ": the transformers "
                 "release index cannot be read", "why": problem, "found": found,
                 "fix": "pip install --force-reinstall --no-deps vlmdoctor"}]
    placed = index.place(found) if index is not None else None
    if index is None or placed is None or not placed.newer:
        return []
    return [{"severity": "info",
             "title": f"transformers {found} is newer than the release index (newest: "
                      f"{index.newest})",
             "why": f"The release index ends at transformers {index.newest}, so the checks of "
                    f"the model's model_type and of its code's transformers imports read "
                    f"{found} as {index.newest}: a name or model type that {found} added or "
                    "removed is not known. Refresh the index (maintainers: python "
                    "scripts/build_transformers_index.py --refresh) or upgrade vlmdoctor.",
             "found": found,
             "fix": "python scripts/build_transformers_index.py --refresh  # in a vlmdoctor "
                    "checkout; then reinstall it"}]


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
