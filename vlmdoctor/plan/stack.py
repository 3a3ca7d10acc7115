"""What the installed stack does with memory: logits, attention, cache (each with its source).

The numbers come from the transformers release wheels (scripts/build_logits_table.py writes
``logits_table.py``) and from transformers' own code, as cited per assumption below.
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from vlmdoctor.knowledge.cards import ModelCard
from vlmdoctor.plan.logits_table import GENERATE_KEEPS_LAST_SINCE, KEEP_SINCE, SDPA_SINCE

# transformers < 4.46 upcast the logits with an unconditional `logits = logits.float()`
# (modeling_llama.py in 4.44.0, modeling_qwen2_vl.py in 4.45.0); from 4.46.0 the upcast
# happens only `if labels is not None` (modeling_qwen2_vl.py 4.46.0), i.e. for a loss.
UPCAST_UNTIL = Version("4.46.0")
# transformers picks SDPA by default from 4.36.0 (modeling_utils `_check_and_enable_sdpa`)
# and only with torch >= 2.1.1 (utils/import_utils.py `is_torch_sdpa_available`).
SDPA_TRANSFORMERS = Version("4.36.0")
SDPA_TORCH = Version("2.1.1")
TABLE = "transformers release wheels (scripts/build_logits_table.py)"


@dataclass(frozen=True)
class Stack:
    """The versions the model will run under, and where each came from."""

    transformers: str | None = None
    torch: str | None = None
    source: str = "unknown"  # snapshot | report | --transformers | the model's requirement


@dataclass(frozen=True)
class Assumptions:
    logits_last_only: bool  # generate() computes the prefill logits for the last position only
    logits_upcast: bool  # the logits are upcast to fp32 (transformers < 4.46)
    eager_attention: bool  # eager attention: heads x tokens^2 scores per layer
    notes: tuple[str, ...]


def _version(text: str | None) -> Version | None:
    if not text:
        return None
    try:
        return Version(text.split("+", 1)[0])
    except InvalidVersion:
        return None


def _lowest_allowed(card: ModelCard) -> Version | None:
    """The oldest transformers the model's card allows (its pin, or its lower bound)."""
    found: list[Version] = []
    for req in card.requirements.packages:
        if req.package != "transformers" or not req.spec:
            continue
        try:
            spec = SpecifierSet(req.spec)
        except InvalidSpecifier:
            continue
        bounds = [_version(s.version) for s in spec if s.operator in ("==", ">=", "~=", ">")]
        found.extend(b for b in bounds if b is not None)
    return min(found) if found else None


def resolve_stack(card: ModelCard, stack: Stack) -> tuple[Version | None, str]:
    """The transformers version to plan for, and a note saying where it came from."""
    given = _version(stack.transformers)
    if given is not None:
        return given, f"transformers {given} ({stack.source})"
    lowest = _lowest_allowed(card)
    if lowest is not None:
        return lowest, (f"transformers not known here: planned for {lowest}, the oldest release "
                        "the model's card allows (the behaviour below holds for every newer one)")
    return None, "transformers version unknown: the most memory-hungry behaviour is assumed"


def assumptions(card: ModelCard, stack: Stack) -> Assumptions:
    version, where = resolve_stack(card, stack)
    notes = [where]
    model_type = card.hf_model_type or ""
    keep = _version(KEEP_SINCE.get(model_type))
    generate = Version(GENERATE_KEEPS_LAST_SINCE or "9999")
    last_only = bool(version is not None and keep is not None and version >= keep
                     and version >= generate and not card.requirements.trust_remote_code)
    if last_only:
        notes.append(f"logits: generate() computes them for the last prompt position only "
                     f"(logits_to_keep=1 since transformers {generate}; {model_type} forward takes "
                     f"it since {keep}: {TABLE})")
    else:
        why = ("remote model code, whose forward need not take logits_to_keep"
               if card.requirements.trust_remote_code and keep is not None
               else f"{model_type or 'this model'} forward takes logits_to_keep only from "
                    f"{keep}" if keep is not None
               else f"no transformers release gives {model_type or 'this model'} a forward "
                    "with logits_to_keep")
        notes.append(f"logits: computed for every prompt position ({why}; {TABLE})")
    upcast = not last_only and (version is None or version < UPCAST_UNTIL)
    if not last_only:
        notes.append("logits upcast to fp32 (unconditional `logits.float()` before transformers "
                     "4.46.0)" if upcast else
                     "logits kept in the model dtype (from transformers 4.46.0 the fp32 upcast "
                     "happens only when labels are given)")
    torch_version = _version(stack.torch)
    sdpa_type = _version(SDPA_SINCE.get(model_type))
    eager = bool((version is not None and version < SDPA_TRANSFORMERS)
                 or (torch_version is not None and torch_version < SDPA_TORCH)
                 or (version is not None and sdpa_type is not None and version < sdpa_type))
    if eager:
        notes.append("attention: eager (SDPA is the default only from transformers 4.36.0 with "
                     f"torch >= 2.1.1, and for {model_type or 'this model'} from "
                     f"{sdpa_type or 'no release'}): heads x tokens^2 scores per layer counted")
    else:
        notes.append("attention: SDPA, transformers' default (from 4.36.0 with torch >= 2.1.1; "
                     f"{model_type or 'this model'} supports it"
                     + (f" since {sdpa_type}" if sdpa_type else ", assumed") + "); "
                     "flash-attn only when asked for with attn_implementation")
    notes.append("cache: DynamicCache, grown to prompt + generated tokens, in the compute dtype")
    return Assumptions(logits_last_only=last_only, logits_upcast=upcast, eager_attention=eager,
                       notes=tuple(notes))
