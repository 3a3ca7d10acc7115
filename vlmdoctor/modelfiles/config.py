"""What ``config.json`` says: model types, remote code, dtype, geometry, quantization.

Field names follow transformers' ``PretrainedConfig`` conventions; VLM configs nest the
language model under ``text_config`` (LLaVA, Qwen2.5-VL in transformers >= 4.52),
``llm_config`` (InternVL) or ``language_config`` (DeepSeek-VL2), and the vision tower
under ``vision_config``. Older flat configs (Qwen2-VL) keep the language model at the top.
"""

from __future__ import annotations

from typing import Any, Mapping

from vlmdoctor.errors import InputError
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


# Beyond these a number is not a real model's (the planner would build lists that long).
GEOMETRY_MAX = {"lm_layers": 4096, "vision_layers": 4096, "num_attention_heads": 65536,
                "num_kv_heads": 65536, "vision_heads": 65536, "num_experts": 65536,
                "head_dim": 65536, "hidden_size": 1 << 20, "vision_hidden_size": 1 << 20,
                "intermediate_size": 1 << 22, "vocab_size": 1 << 24, "max_context": 1 << 27}


class _Reader:
    """The first of several config keys that is set, checked: a value that is there but not
    a positive integer of a real model's size is an input error naming the key."""

    def __init__(self, shown: str | None) -> None:
        self.shown = shown

    def __call__(self, field: str, where: str, cfg: Mapping[str, Any], *names: str) -> int | None:
        for name in names:
            value = cfg.get(name)
            if value is None or (field == "num_experts" and value == 0):
                continue
            top = GEOMETRY_MAX[field]
            ok = isinstance(value, int) and not isinstance(value, bool) and 0 < value <= top
            if ok:
                return int(value)
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if self.shown is None or not number:
                return None  # a list or string (per-layer values, remote code): not known
            raise InputError(f"{self.shown}: {where}{name} is {value!r}; expected a positive "
                             f"integer up to {top:,} (cannot plan with it)")
        return None


def _prefix(cfg: Mapping[str, Any], sub: Mapping[str, Any]) -> str:
    return next((f"{k}." for k, v in cfg.items() if v is sub), "")


def geometry(cfg: Mapping[str, Any], shown: str | None = None) -> dict[str, Scalar]:
    """Layer/head geometry in the names of ``knowledge.cards.Architecture``. With ``shown``
    (the file's name as shown) an absurd value is an input error; without, it is dropped."""
    read = _Reader(shown)
    text = text_config(cfg)
    vision = _sub(cfg, VISION_KEYS) or {}
    t, v = _prefix(cfg, text), _prefix(cfg, vision)
    # Encoder-decoder language models (Florence-2's BART) cache keys and values in the decoder.
    heads = read("num_attention_heads", t, text, "num_attention_heads", "n_head",
                 "decoder_attention_heads")
    hidden = read("hidden_size", t, text, "hidden_size", "d_model", "n_embd")
    head_dim = read("head_dim", t, text, "head_dim")
    if head_dim is None and heads and hidden:
        head_dim = hidden // heads or None
    tie = _first(text, "tie_word_embeddings")
    if tie is None:
        tie = cfg.get("tie_word_embeddings")
    out: dict[str, Scalar] = {
        "lm_layers": read("lm_layers", t, text, "num_hidden_layers", "n_layer", "num_layers",
                          "decoder_layers"),
        "hidden_size": hidden,
        "intermediate_size": read("intermediate_size", t, text, "intermediate_size", "ffn_dim",
                                  "decoder_ffn_dim"),
        "num_attention_heads": heads,
        "num_kv_heads": read("num_kv_heads", t, text, "num_key_value_heads",
                             "multi_query_group_num") or heads,
        "head_dim": head_dim,
        "vocab_size": read("vocab_size", t, text, "vocab_size")
        or read("vocab_size", "", cfg, "vocab_size"),
        "max_context": read("max_context", t, text, "max_position_embeddings", "seq_length"),
        "tie_word_embeddings": tie if isinstance(tie, bool) else None,
        "num_experts": read("num_experts", t, text, "num_local_experts", "num_experts",
                            "n_routed_experts"),
        "vision_layers": read("vision_layers", v, vision, "num_hidden_layers", "depth",
                              "num_layers"),
        # Qwen2-VL's vision hidden_size is the merger's output; embed_dim is the ViT width.
        "vision_hidden_size": read("vision_hidden_size", v, vision, "embed_dim", "hidden_size",
                                   "width"),
        "vision_heads": read("vision_heads", v, vision, "num_attention_heads", "num_heads"),
    }
    return {k: val for k, val in out.items() if val is not None}


def quantization(cfg: Mapping[str, Any]) -> dict[str, Scalar]:
    """``quantization_config`` reduced to plain values (method, bits, 4/8-bit flags, ...)."""
    raw = _first(cfg, "quantization_config", "compression_config")
    if not isinstance(raw, Mapping):
        return {}
    out: dict[str, Scalar] = {}
    for key, value in raw.items():
        if plain(value):
            out[str(key)] = value
    groups = raw.get("config_groups")  # compressed-tensors: the weights' scheme per group
    if isinstance(groups, Mapping):
        first: Mapping[str, Any] = next(
            (g for g in groups.values() if isinstance(g, Mapping)), {})
        found = first.get("weights")
        weights: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        for key, name in (("num_bits", "num_bits"), ("type", "weights_type"),
                          ("group_size", "group_size")):
            if plain(weights.get(key)) and weights.get(key) is not None:
                out.setdefault(name, weights[key])
    kept = _names(raw.get("modules_to_not_convert")) or _names(raw.get("ignore"))
    if kept:  # the modules the method leaves unquantised (AWQ/GPTQ/FP8; compressed-tensors)
        out["not_converted"] = kept
    block = raw.get("weight_block_size")  # fine-grained FP8: one scale per block
    if isinstance(block, list) and len(block) == 2 and all(_int(b) for b in block):
        out["weight_block_size"] = f"{block[0]}x{block[1]}"
    method = raw.get("quant_method")
    if not isinstance(method, str):  # early bitsandbytes configs have no quant_method
        method = "bitsandbytes" if ("load_in_4bit" in raw or "load_in_8bit" in raw) else None
    out["quant_method"] = method.lower().replace("_", "-") if method else "unknown"
    return out


MAX_KEPT = 64


def _names(value: Any) -> str:
    """A list of module names as one comma-separated string (a scalar the facts can hold)."""
    if not isinstance(value, list):
        return ""
    return ",".join(v for v in value[:MAX_KEPT] if isinstance(v, str) and v and "," not in v)


def auto_map(cfg: Mapping[str, Any]) -> dict[str, str]:
    raw = cfg.get("auto_map")
    if not isinstance(raw, Mapping):
        return {}
    return {str(k): v if isinstance(v, str) else ",".join(str(x) for x in v if x)
            for k, v in raw.items() if isinstance(v, (str, list))}
