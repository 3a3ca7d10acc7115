"""Shrink a model's own config to toy size, keeping its structure (stdlib only; runs in the child).

``shrink`` works on the plain dict of a config (``config.to_dict()``), nested configs
included (``text_config``, ``vision_config``, ``llm_config`` …: any dict that is not a known
parameter block), and returns a new dict the same config class can be built from. The
rules are generic, by key name, and keep the constraints model code relies on:

- widths all become ``WIDTH`` and heads ``HEADS`` (fewer when the model has fewer), so
  ``hidden = heads * head_dim`` holds in every config and equal widths stay equal across
  configs (a Qwen2-VL merger's output is the text width, a projector's input the vision
  width); key/value heads keep their relation to the heads (1, a divisor, or all);
- layer counts become ``layers`` (at most), per-layer lists are resampled keeping every
  kind they hold, and layer indexes (``fullatt_block_indexes``, ``vision_feature_layer``,
  ``deepstack_visual_indexes`` …) are mapped into the new range;
- the vocabulary becomes ``VOCAB`` and every special token id is remapped into it (bos 1,
  eos 2, pad 0, image 1000, video 1001, vision start/end 1002/1003, others from 1004);
- per-head parts (``rotary_dim``, MLA's ``qk_rope_head_dim`` …) keep their share of the
  head_dim;
- rope sections (``mrope_section``) are rescaled in proportion to the head_dim (so they
  still add up to the rotary half-width, whatever ``partial_rotary_factor`` is and wherever
  it is kept) and per-frequency lists cut to it; sections a text config leaves to the
  modeling code's default (``rope_defaults``, read from transformers' source by the child:
  GLM-4.1V's ``rope_parameters.get("mrope_section", [8, 12, 12])``) are written out first,
  so they are rescaled too; images shrink to 4x4 patches; experts to at most 4;
- a ``quantization_config`` is dropped (random toy weights are not quantized).
"""

from __future__ import annotations

import copy
import re
from typing import Any

WIDTH, INTERMEDIATE, HEADS, VOCAB, MAX_POSITIONS, IMAGE_PATCHES = 128, 256, 4, 1024, 4096, 4

_WIDTHS = {"hidden_size", "embed_dim", "d_model", "n_embd", "dim", "hidden_dim",
           "out_hidden_size", "projection_dim", "mm_hidden_size", "vision_hidden_size",
           "text_hidden_size", "projector_hidden_size", "encoder_hidden_size", "llm_hidden_size",
           "vision_embed_dim", "word_embed_proj_dim", "output_dim", "proj_dim"}
_INTERMEDIATE = {"intermediate_size", "ffn_dim", "n_inner", "mlp_dim", "encoder_ffn_dim",
                 "decoder_ffn_dim", "ffn_hidden_size", "moe_intermediate_size", "d_ff",
                 "shared_expert_intermediate_size", "vision_intermediate_size"}
_HEADS = {"num_attention_heads", "num_heads", "n_head", "n_heads", "attention_heads",
          "encoder_attention_heads", "decoder_attention_heads"}
_KV_HEADS = {"num_key_value_heads", "n_kv_heads", "num_kv_heads", "multi_query_group_num",
             "n_head_kv"}
_HEAD_DIMS = {"head_dim", "kv_channels", "attention_head_dim", "d_kv"}
_HEAD_PARTS = {"rotary_dim", "rope_dim", "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim"}
_LAYERS = {"num_hidden_layers", "num_layers", "n_layer", "n_layers", "depth",
           "num_decoder_layers", "encoder_layers", "decoder_layers", "num_encoder_layers"}
_EXPERTS = {"num_experts": 4, "num_local_experts": 4, "n_routed_experts": 4,
            "moe_num_experts": 4, "num_experts_per_tok": 2, "moe_topk": 2,
            "n_shared_experts": 1, "n_group": 1, "topk_group": 1, "first_k_dense_replace": 1}
_IMAGE_SIZES = {"image_size", "img_size", "force_image_size", "vision_image_size"}
_NOT_CONFIGS = {"rope_scaling", "rope_parameters", "auto_map", "id2label", "label2id",
                "task_specific_params", "quantization_config", "generation_config",
                "image_grid_pinpoints"}
_INDEX = re.compile(r"(index|indexes|indices|_layers?|_layer_ids?)$")
_TOKEN = re.compile(r"token_(id|ids|index)$")
# Which special token gets which id, most important first (equal ids stay equal).
_NAMED_TOKENS = (("eos", 2), ("bos", 1), ("pad", 0), ("vision_start", 1002),
                 ("vision_end", 1003), ("video", 1001), ("image", 1000), ("img_context", 1000))


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_config(key: str, value: Any) -> bool:
    return isinstance(value, dict) and key not in _NOT_CONFIGS and any(
        k == "model_type" or k in _WIDTHS or k in _LAYERS for k in value)


def _layer_count(cfg: dict[str, Any]) -> int | None:
    counts = [v for k, v in cfg.items() if (k in _LAYERS or (
        k.startswith("num_") and k.endswith("_layers"))) and _int(v) and v > 0]
    return max(counts) if counts else None


def _resample(items: list[Any], n: int) -> list[Any]:
    """``n`` items spread over ``items``, keeping every distinct kind while there is room."""
    out = [items[i * len(items) // n] for i in range(n)]
    missing = [x for x in dict.fromkeys(items) if x not in out]
    for slot in range(n - 1, -1, -1):
        if not missing:
            break
        if out.count(out[slot]) > 1:
            out[slot] = missing.pop(0)
    return out


def _reindex(value: Any, old: int, new: int) -> Any:
    def one(i: int) -> int:
        return max(i, -new) if i < 0 else min(new - 1, i * new // max(old, 1))

    if _int(value):
        return one(value)
    if isinstance(value, list) and value and all(_int(v) for v in value):
        return list(dict.fromkeys(one(v) for v in value))
    return value


_VISION = re.compile(r"vision|visual|vit|image|audio")


class _Shrinker:
    def __init__(self, layers: int, rope_defaults: dict[str, Any] | None = None) -> None:
        self.layers = layers
        self.rope_defaults = rope_defaults or {}
        self.tokens: dict[int, int] = {}
        self.next_token = 1004
        self.changed = 0

    def token(self, key: str, value: Any) -> Any:
        if isinstance(value, list):
            return [self.token(key, v) for v in value]
        if not _int(value) or value < 0:
            return value
        if value not in self.tokens:
            named = next((tid for name, tid in _NAMED_TOKENS if key.startswith(name)
                          and tid not in self.tokens.values()), None)
            if named is None:
                named, self.next_token = min(self.next_token, VOCAB - 1), self.next_token + 1
            self.tokens[value] = named
        return self.tokens[value]

    def set(self, cfg: dict[str, Any], key: str, value: Any) -> None:
        if cfg.get(key) != value:
            cfg[key], self.changed = value, self.changed + 1

    def config(self, cfg: dict[str, Any], outer_layers: tuple[int, int] | None,
               name: str = "") -> None:
        old_layers = _layer_count(cfg)
        span = (old_layers, min(old_layers, self.layers)) if old_layers else outer_layers
        heads = next((cfg[k] for k in _HEADS if _int(cfg.get(k)) and cfg[k] > 0), None)
        new_heads = min(heads, HEADS) if heads else HEADS
        head_dim = WIDTH // new_heads
        hidden = next((cfg[k] for k in ("hidden_size", "n_embd", "d_model", "embed_dim", "dim")
                       if _int(cfg.get(k))), None)
        old_head_dim = next((cfg[k] for k in _HEAD_DIMS if _int(cfg.get(k))), None) or (
            hidden // heads if _int(hidden) and heads else 0)  # read before widths shrink
        for key, value in list(cfg.items()):
            if _is_config(key, value):
                self.config(value, span, key)
            elif key == "quantization_config":
                del cfg[key]
                self.changed += 1
            elif key in ("rope_scaling", "rope_parameters") and isinstance(value, dict):
                if not _VISION.search(name):  # the text model's implicit sections
                    for default, given in self.rope_defaults.items():
                        if default not in value:
                            self.set(value, default, copy.deepcopy(given))
                self.rope(value, old_head_dim, head_dim)
            elif _TOKEN.search(key):
                self.set(cfg, key, self.token(key, value))
            elif not (_int(value) or isinstance(value, list)):
                continue
            elif key in _WIDTHS and _int(value) and value > WIDTH:
                self.set(cfg, key, WIDTH)
            elif key in _INTERMEDIATE:
                self.set(cfg, key, [INTERMEDIATE] * len(value) if isinstance(value, list)
                         else min(value, INTERMEDIATE))
            elif key in _HEADS and _int(value):
                self.set(cfg, key, new_heads)
            elif key in _KV_HEADS and _int(value) and heads:
                self.set(cfg, key, new_heads if value >= heads else
                         1 if value == 1 or new_heads % 2 else 2)
            elif key in _HEAD_DIMS and _int(value):
                self.set(cfg, key, head_dim)
            elif key in _HEAD_PARTS and _int(value) and value > 0 and old_head_dim:
                # a part of each head (rotary width, MLA's rope/nope/value widths): the
                # same share of the new head_dim, even, as rotary code pairs channels
                self.set(cfg, key, max(2, value * head_dim // old_head_dim // 2 * 2))
            elif key == "vocab_size" and _int(value) and value > VOCAB:
                self.set(cfg, key, VOCAB)
            elif key == "max_position_embeddings" and _int(value):
                self.set(cfg, key, min(value, MAX_POSITIONS))
            elif key in _EXPERTS and _int(value):
                self.set(cfg, key, min(value, _EXPERTS[key]))
            elif old_layers and (key in _LAYERS or (key.startswith(("num_", "max_"))
                                                    and key.endswith("_layers"))):
                self.set(cfg, key, min(value, self.layers))
            elif (old_layers and isinstance(value, list) and len(value) == old_layers
                  and old_layers > self.layers and not _INDEX.search(key)):
                self.set(cfg, key, _resample(value, self.layers))
            elif span and _INDEX.search(key) and not key.startswith("num_"):
                self.set(cfg, key, _reindex(value, *span))
        self.images(cfg)

    def images(self, cfg: dict[str, Any]) -> None:
        patch = cfg.get("patch_size")
        if isinstance(patch, list) and patch and all(_int(p) for p in patch):
            patch = patch[0]
        size = IMAGE_PATCHES * (patch if isinstance(patch, int) and patch > 0 else 14)
        for key in _IMAGE_SIZES & set(cfg):
            value = cfg[key]
            if _int(value) and value > size:
                self.set(cfg, key, size)
            elif isinstance(value, list) and all(_int(v) and v > size for v in value):
                self.set(cfg, key, [size] * len(value))

    def rope(self, rope: dict[str, Any], old_head_dim: int, head_dim: int) -> None:
        half = head_dim // 2
        sections = rope.get("mrope_section")
        if isinstance(sections, list) and sections and all(_int(s) for s in sections):
            total = sum(sections)
            # in proportion: at full size the sections add up to the rotary half-width
            target = (max(len(sections), total * head_dim // old_head_dim)
                      if old_head_dim > 0 and total > 0 else half)
            scaled = [max(1, s * target // max(total, 1)) for s in sections]
            scaled[-1] += target - sum(scaled)
            self.set(rope, "mrope_section", scaled)
        for key, value in list(rope.items()):
            if (isinstance(value, list) and old_head_dim and len(value) == old_head_dim // 2
                    and key != "mrope_section"):
                self.set(rope, key, value[:half])


def shrink(config: dict[str, Any], layers: int = 2,
           rope_defaults: dict[str, Any] | None = None) -> tuple[dict[str, Any], int]:
    """(a toy-size copy of ``config``, how many values were changed). ``rope_defaults``:
    rope settings the modeling code assumes when the text config's rope dict leaves them
    out (see ``rope_defaults_in``)."""
    out = copy.deepcopy(config)
    shrinker = _Shrinker(layers, rope_defaults)
    shrinker.config(out, None)
    return out, shrinker.changed


_IMPLICIT = re.compile(r"""\.get\(\s*["'](mrope_section)["']\s*,\s*(\[[\d,\s]+\])\s*\)""")


def rope_defaults_in(source: str) -> dict[str, Any]:
    """The rope settings a modeling file falls back to when the config leaves them out:
    ``config.rope_parameters.get("mrope_section", [8, 12, 12])`` -> that default. The file
    is read as text (it is transformers' own, or code already trusted and imported)."""
    found = _IMPLICIT.search(source)
    if found is None:
        return {}
    values = [int(v) for v in found.group(2).strip("[] \n").split(",") if v.strip()]
    return {found.group(1): values} if values else {}


def overlay(target: dict[str, Any], recipe: dict[str, Any], keys: frozenset[str]) -> None:
    """Copy ``keys`` from ``recipe`` into ``target`` where both have them, nested configs
    (by the same key) included: the image geometry a known input recipe needs."""
    for key, value in recipe.items():
        if key not in target:
            continue
        if isinstance(value, dict) and isinstance(target[key], dict):
            overlay(target[key], value, keys)
        elif key in keys:
            target[key] = copy.deepcopy(value)
