"""A model card built from ``ModelFacts``, merged with the curated card when one matches.

The files win on facts (dtype, sizes, geometry, image budget, remote code); the curated
card keeps what only people know (package windows, pitfalls, placement, notes).
"""

from __future__ import annotations

from typing import Any

from vlmdoctor.knowledge.cards import (
    Architecture,
    Images,
    ModelCard,
    Params,
    Placement,
    Requirements,
)
from vlmdoctor.modelfiles.config import GEOMETRY_MAX
from vlmdoctor.modelfiles.facts import ModelFacts
from vlmdoctor.record import fields, replace

TORCH_DTYPES = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32", "half": "fp16",
                "float": "fp32"}
STORAGE_DTYPES = {"BF16": "bf16", "F16": "fp16", "F32": "fp32"}
FROM_FILES = "the model's own config.json and safetensors headers"


def native_dtype(facts: ModelFacts) -> str | None:
    """config.json's dtype, else the language model's storage dtype in the headers."""
    if facts.dtype in TORCH_DTYPES:
        return TORCH_DTYPES[facts.dtype or ""]
    return STORAGE_DTYPES.get(facts.storage_dtypes.get("language", ""))


def _params(facts: ModelFacts) -> Params | None:
    """Counts from the headers: a quantised checkpoint's packed tensors count as the weights
    they hold, and its scales and zero points not at all (``modelfiles.packing``)."""
    if not facts.params:
        return None
    p = facts.params
    source = FROM_FILES
    if facts.quantization:
        source += (f" (logical counts of the {facts.quantization.get('quant_method')} "
                   "packing; stored bytes: " + f"{facts.weight_bytes or 0:,})")
    return Params(vision=p.get("vision", 0), projector=p.get("projector", 0),
                  language=p.get("language"), total=p.get("total"), source=source)


MAX_PIXELS = 1 << 34


def _sane(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return key == "tie_word_embeddings"
    return isinstance(value, int) and 0 < value <= GEOMETRY_MAX.get(key, 0)


def _architecture(facts: ModelFacts, base: Architecture) -> Architecture:
    known = set(fields(Architecture))
    values: dict[str, Any] = {k: v for k, v in facts.geometry.items()
                              if k in known and _sane(k, v)}
    if not values:
        return base
    source = FROM_FILES
    if facts.defaults_release and facts.config_defaults:
        source += (f"; values config.json leaves out are transformers "
                   f"{facts.defaults_release}'s config-class defaults ("
                   + ", ".join(f"{k}={v}" for k, v in sorted(facts.config_defaults.items())
                               if not k.endswith("model_type"))[:600] + ")")
    return replace(base, **values, source=source)


def _int(value: Any, top: int = 1 << 20) -> int | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 < value <= top
    return value if ok else None


def _images(facts: ModelFacts, base: Images | None) -> Images | None:
    """The visual tokens the files state (``modelfiles.images``); else the curated card's."""
    img = facts.images
    # Reports written before ``kind`` existed name a Qwen pixel budget by its fields alone.
    kind = img.get("kind") or ("qwen-pixels" if "merge_size" in img and "max_pixels" in img
                               else None)
    patch = _int(img.get("patch_size"), 4096)
    env = dict(base.env) if base and base.env else {}
    source = f"the model's own files: {img.get('tokens_source') or 'preprocessor_config.json'}"
    if kind == "qwen-pixels":
        merge, top = _int(img.get("merge_size"), 64), _int(img.get("max_pixels"), MAX_PIXELS)
        if patch and merge and top:
            return Images(kind="qwen-pixels", pixels_per_token=(patch * merge) ** 2,
                          patch_size=patch, min_pixels=_int(img.get("min_pixels"), MAX_PIXELS),
                          max_pixels=top, env=env, source=source)
    per_tile, tiles = _int(img.get("tokens_per_tile")), _int(img.get("max_tiles"), 4096)
    if kind in ("internvl-tiles", "slices", "phi-crops", "llava-anyres") and per_tile and tiles:
        return Images(kind=str(kind), tokens_per_tile=per_tile, max_tiles=tiles,
                      patch_size=patch, env=env, source=source)
    per_image = _int(img.get("tokens_per_image"))
    if kind == "fixed" and per_image:
        return Images(kind="fixed", tokens_per_image=per_image, patch_size=patch, env=env,
                      source=source)
    return base


def card_from_facts(facts: ModelFacts, model_id: str, curated: ModelCard | None) -> ModelCard:
    reqs = curated.requirements if curated else Requirements()
    if facts.trust_remote_code and not reqs.trust_remote_code:
        reqs = replace(reqs, trust_remote_code=True)
    if curated is not None:
        return replace(
            curated, id=model_id, native_dtype=native_dtype(facts) or curated.native_dtype,
            params=_params(facts) or curated.params,
            architecture=_architecture(facts, curated.architecture),
            images=_images(facts, curated.images), requirements=reqs,
            hf_model_type=facts.model_type or curated.hf_model_type,
            hf_architectures=facts.architectures or curated.hf_architectures)
    return ModelCard(
        id=model_id, name=facts.repo_id or model_id, family="local",
        family_name="local model files", aliases=(), hf_repos=(),
        native_dtype=native_dtype(facts), params=_params(facts) or Params(),
        architecture=_architecture(facts, Architecture()), requirements=reqs,
        placement=Placement(), images=_images(facts, None),
        hf_model_type=facts.model_type, notes=(), sources=(FROM_FILES,), file="",
        hf_architectures=facts.architectures)
