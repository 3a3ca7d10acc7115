"""What ``config.json`` says: model types, remote code, dtype, geometry, quantization.

Field names follow transformers' ``PretrainedConfig`` conventions; VLM configs nest the
language model under ``text_config`` (LLaVA, Qwen2.5-VL in transformers >= 4.52),
``llm_config`` (InternVL) or ``language_config`` (DeepSeek-VL2), and the vision tower
under ``vision_config``. Older flat configs (Qwen2-VL) keep the language model at the top.
"""

from __future__ import annotations

from typing import Any, Mapping

from vlmdoctor.modelfiles.facts import Scalar, plain

TEXT_KEYS = ("text_config", "llm_config", "language_config", "text_model_config")
VISION_KEYS = ("vision_config", "vision_tower_config", "visual", "vision_encoder_config")


def _first(cfg: Mapping[str, Any], *names: str) -> Any:
    for name in names:
        value = cfg.get(name)
        if value is not None:
            return value
    return None


def _int(value: Any) -> int | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2 ** 53
    return value if ok else None


def _sub(cfg: Mapping[str, Any], keys: tuple[str, ...]) -> Mapping[str, Any] | None:
    for key in keys:
        value = cfg.get(key)
        if isinstance(value, Mapping):
            return value
    return None


def text_config(cfg: Mapping[str, Any]) -> Mapping[str, Any]:
    return _sub(cfg, TEXT_KEYS) or cfg


MAX_MODEL_TYPES = 32


def model_types(cfg: Mapping[str, Any]) -> tuple[str, ...]:
    """The top ``model_type`` first, then those of nested configs, each once."""
    found: dict[str, None] = {}  # ordered and linear: a set's lookups, a list's order
    top = cfg.get("model_type")
    if isinstance(top, str):
        found[top] = None
    for value in cfg.values():
        nested = value.get("model_type") if isinstance(value, Mapping) else None
        if isinstance(nested, str):
            found.setdefault(nested, None)
            if len(found) >= MAX_MODEL_TYPES:  # no model has more parts than this
                break
    return tuple(found)


def saved_dtype(cfg: Mapping[str, Any]) -> str | None:
    value = _first(cfg, "torch_dtype", "dtype")
    if value is None:
        value = _first(text_config(cfg), "torch_dtype", "dtype")
    return value if isinstance(value, str) else None


def geometry(cfg: Mapping[str, Any]) -> dict[str, Scalar]:
    """Layer/head geometry in the names of ``knowledge.cards.Architecture``."""
    text = text_config(cfg)
    vision = _sub(cfg, VISION_KEYS) or {}
    heads = _int(_first(text, "num_attention_heads", "n_head"))
    hidden = _int(_first(text, "hidden_size", "d_model", "n_embd"))
    head_dim = _int(text.get("head_dim"))
    if head_dim is None and heads and hidden:
        head_dim = hidden // heads
    tie = _first(text, "tie_word_embeddings")
    if tie is None:
        tie = cfg.get("tie_word_embeddings")
    out: dict[str, Scalar] = {
        "lm_layers": _int(_first(text, "num_hidden_layers", "n_layer", "num_layers")),
        "hidden_size": hidden,
        "intermediate_size": _int(_first(text, "intermediate_size", "ffn_dim")),
        "num_attention_heads": heads,
        "num_kv_heads": _int(_first(text, "num_key_value_heads", "multi_query_group_num"))
        or heads,
        "head_dim": head_dim,
        "vocab_size": _int(_first(text, "vocab_size")) or _int(cfg.get("vocab_size")),
        "max_context": _int(_first(text, "max_position_embeddings", "seq_length")),
        "tie_word_embeddings": tie if isinstance(tie, bool) else None,
        "num_experts": _int(_first(text, "num_local_experts", "num_experts",
                                   "n_routed_experts")),
        "vision_layers": _int(_first(vision, "num_hidden_layers", "depth", "num_layers")),
        "vision_hidden_size": _int(_first(vision, "hidden_size", "embed_dim", "width")),
        "vision_heads": _int(_first(vision, "num_attention_heads", "num_heads")),
    }
    return {k: v for k, v in out.items() if v is not None}


def quantization(cfg: Mapping[str, Any]) -> dict[str, Scalar]:
    """``quantization_config`` reduced to plain values (method, bits, 4/8-bit flags, ...)."""
    raw = _first(cfg, "quantization_config", "compression_config")
    if not isinstance(raw, Mapping):
        return {}
    out: dict[str, Scalar] = {}
    for key, value in raw.items():
        if plain(value):
            out[str(key)] = value
    method = raw.get("quant_method")
    if not isinstance(method, str):  # early bitsandbytes configs have no quant_method
        method = "bitsandbytes" if ("load_in_4bit" in raw or "load_in_8bit" in raw) else None
    out["quant_method"] = method.lower().replace("_", "-") if method else "unknown"
    return out


def auto_map(cfg: Mapping[str, Any]) -> dict[str, str]:
    raw = cfg.get("auto_map")
    if not isinstance(raw, Mapping):
        return {}
    return {str(k): v if isinstance(v, str) else ",".join(str(x) for x in v if x)
            for k, v in raw.items() if isinstance(v, (str, list))}
