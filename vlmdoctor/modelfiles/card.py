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
    """Exact counts from the headers; none for quantised checkpoints, whose packed tensors
    (int32 words, uint8 pairs) hold several weights per element."""
    if not facts.params or facts.quantization:
        return None
    p = facts.params
    return Params(vision=p.get("vision", 0), projector=p.get("projector", 0),
                  language=p.get("language"), total=p.get("total"), source=FROM_FILES)


# Beyond these a number is not a real model's (the planner would build lists that long).
GEOMETRY_MAX = {"lm_layers": 4096, "vision_layers": 4096, "num_attention_heads": 65536,
                "num_kv_heads": 65536, "vision_heads": 65536, "num_experts": 65536,
                "head_dim": 65536, "hidden_size": 1 << 20, "vision_hidden_size": 1 << 20,
                "intermediate_size": 1 << 22, "vocab_size": 1 << 24, "max_context": 1 << 27}
MAX_PIXELS = 1 << 31


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
    return replace(base, **values, source=FROM_FILES)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _images(facts: ModelFacts, base: Images | None) -> Images | None:
    """Qwen-style pixel budgets from preprocessor_config.json; otherwise the curated card's."""
    img = facts.images
    patch, merge, top = _int(img.get("patch_size")), _int(img.get("merge_size")), \
        _int(img.get("max_pixels"))
    if patch and merge and top and top <= MAX_PIXELS and patch * merge <= 4096:
        return Images(kind="qwen-pixels", pixels_per_token=(patch * merge) ** 2,
                      min_pixels=_int(img.get("min_pixels")), max_pixels=top,
                      env=dict(base.env) if base and base.env else {},
                      source="preprocessor_config.json")
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
