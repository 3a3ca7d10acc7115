"""Visual tokens per image, from ``preprocessor_config.json`` / ``processor_config.json`` and
the model config (with the release's defaults filled in, ``modelfiles.defaults``).

The kinds, in the order they are recognised:

- ``qwen-pixels``: Qwen2-VL / Qwen2.5-VL / Qwen3-VL / GLM-4.1V processors give ``min_pixels``
  / ``max_pixels`` (newer releases ``size: {shortest_edge, longest_edge}`` in pixels),
  ``patch_size`` and ``merge_size``: one token per (patch x merge)^2 pixels
  (transformers models/qwen2_vl/image_processing_qwen2_vl.py ``smart_resize``).
- ``internvl-tiles``: InternVL's ``num_image_token = (image_size / patch_size)^2 *
  downsample_ratio^2`` per 448-px tile, up to ``max_dynamic_patch`` tiles (+1 thumbnail)
  (OpenGVLab InternVL ``modeling_internvl_chat.py``; HF ``max_patches``).
- ``slices``: MiniCPM-V ``query_num`` resampler tokens per slice, up to ``max_slice_nums``
  slices plus the source image; Idefics3 / SmolVLM ``image_seq_len`` =
  ``(image_size / patch_size)^2 / scale_factor^2`` per tile, ``(size / max_image_size)^2``
  tiles plus the global image when ``do_image_splitting``.
- ``phi-crops``: Phi-3/3.5-vision ``img_processor.num_img_tokens`` per crop, ``num_crops``.
- ``llava-anyres``: LLaVA-NeXT / OneVision ``(image_size / patch_size)^2`` per tile, up to
  the largest ``image_grid_pinpoints`` grid (``anyres_max_N`` caps it at N).
- ``fixed``: a count the files state (``mm_tokens_per_image`` — Gemma 3;
  ``image_seq_length`` — LLaVA, PaliGemma, Florence-2; ``num_image_tokens``), Llama-3.2-Vision's
  ``max_image_tiles x ((image_size / patch_size)^2 + 1)``, Fuyu's ``rows x (columns + 1)``
  patches, or LLaVA-style ``(image_size / patch_size)^2`` (+1 with the ``full`` feature
  strategy, which keeps the class token).

A value that is there but absurd (zero, negative, beyond any real model) is an input error
naming the file and field; a value that is not there leaves the count unknown.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping

from vlmdoctor.errors import InputError
from vlmdoctor.modelfiles.facts import Scalar

MAX_EDGE = 1 << 16          # pixels on an image edge / patch edge
MAX_TOKENS = 1 << 20        # visual tokens per tile or image
MAX_TILES = 1024
MAX_PIXELS = 1 << 34


class Fields:
    """Reads named values from one file, checking each value it returns."""

    def __init__(self, data: Mapping[str, Any], shown: str) -> None:
        self.data, self.shown = data, shown

    def raw(self, path: str) -> Any:
        value: Any = self.data
        for part in path.split("."):
            if not isinstance(value, Mapping):
                return None
            value = value.get(part)
        return value

    def int(self, path: str, top: int, edge: bool = False) -> int | None:
        value = self.raw(path)
        if isinstance(value, list) and value and edge:  # [448, 448] (HF InternVL)
            value = value[0]
        if isinstance(value, Mapping) and edge:
            value = value.get("height", value.get("shortest_edge", value.get("longest_edge")))
        if value is None:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None  # a string, list or object here is not a count we know how to read
        if not isinstance(value, int) or not 0 < value <= top:
            raise InputError(f"{self.shown}: {path} is {value!r}; expected a positive integer "
                             f"up to {top:,} (cannot plan the visual tokens)")
        return value

    def num(self, path: str, low: float, high: float) -> float | None:
        value = self.raw(path)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        if not low < value <= high:
            raise InputError(f"{self.shown}: {path} is {value!r}; expected a number in "
                             f"({low}, {high}] (cannot plan the visual tokens)")
        return float(value)


def _first(*getters: Callable[[], int | None]) -> int | None:
    for get in getters:
        value = get()
        if value is not None:
            return value
    return None


def image_budget(pre: Mapping[str, Any], cfg: Mapping[str, Any], proc: Mapping[str, Any]
                 | None = None, shown: str = "model") -> dict[str, Scalar]:
    p = Fields(pre, f"{shown}/preprocessor_config.json")
    q = Fields(proc or {}, f"{shown}/processor_config.json")
    c = Fields(cfg, f"{shown}/config.json")
    vkey = next((k for k in ("vision_config", "visual", "vision_tower_config")
                 if isinstance(cfg.get(k), Mapping)), "vision_config")
    size: Mapping[str, Any] = pre["size"] if isinstance(pre.get("size"), Mapping) else {}
    out: dict[str, Scalar] = {
        "min_pixels": p.int("min_pixels", MAX_PIXELS)
        or (p.int("size.shortest_edge", MAX_PIXELS) if "longest_edge" in size and
            "max_pixels" not in pre and size.get("longest_edge", 0) > MAX_EDGE else None),
        "max_pixels": p.int("max_pixels", MAX_PIXELS)
        or (p.int("size.longest_edge", MAX_PIXELS) if "shortest_edge" in size and
            size.get("longest_edge", 0) > MAX_EDGE else None),
        "patch_size": _first(lambda: p.int("patch_size", MAX_EDGE, edge=True),
                             lambda: c.int(f"{vkey}.patch_size", MAX_EDGE, edge=True)),
        "merge_size": _first(lambda: p.int("merge_size", 64),
                             lambda: c.int(f"{vkey}.spatial_merge_size", 64)),
        "image_size": _first(lambda: c.int("force_image_size", MAX_EDGE),
                             lambda: c.int(f"{vkey}.image_size", MAX_EDGE, edge=True),
                             lambda: p.int("crop_size", MAX_EDGE, edge=True),
                             lambda: p.int("size", MAX_EDGE, edge=True)
                             if size.get("longest_edge", 0) <= MAX_EDGE else None),
        "num_crops": p.int("num_crops", MAX_TILES),
        "max_dynamic_patch": c.int("max_dynamic_patch", MAX_TILES),
    }
    out.update(_tokens(p, q, c, vkey, out))
    return {k: v for k, v in out.items() if v is not None}


def _tokens(p: Fields, q: Fields, c: Fields, vkey: str,
            got: Mapping[str, Scalar]) -> dict[str, Scalar]:
    patch, image = got.get("patch_size"), got.get("image_size")
    grid = (image // patch) ** 2 if isinstance(image, int) and isinstance(patch, int) \
        and image >= patch else None
    if got.get("max_pixels") and got.get("merge_size") and patch:
        return {"kind": "qwen-pixels", "tokens_source": "min_pixels/max_pixels, patch_size, "
                "merge_size"}
    ratio = c.num("downsample_ratio", 0.0, 1.0)
    tiles = _first(lambda: c.int("max_dynamic_patch", MAX_TILES),
                   lambda: p.int("max_patches", MAX_TILES))
    if ratio and grid and tiles:
        return {"kind": "internvl-tiles", "tokens_per_tile": round(grid * ratio * ratio),
                "max_tiles": tiles, "tokens_source": "(image_size / patch_size)^2 x "
                "downsample_ratio^2 per tile; max_dynamic_patch tiles"}
    query = _first(lambda: c.int("query_num", MAX_TOKENS),
                   lambda: p.int("image_feature_size", MAX_TOKENS))
    slices = _first(lambda: p.int("max_slice_nums", MAX_TILES),
                    lambda: c.int("slice_config.max_slice_nums", MAX_TILES))
    if query and slices:
        return {"kind": "slices", "tokens_per_tile": query, "max_tiles": slices,
                "tokens_source": "query_num per slice; max_slice_nums slices + the source image"}
    scale = c.int("scale_factor", 64)
    per_tile = _first(lambda: q.int("image_seq_len", MAX_TOKENS),
                      lambda: grid // (scale * scale) if grid and scale else None)
    if scale and per_tile:
        split = p.raw("do_image_splitting")
        longest, tile = p.int("size.longest_edge", MAX_EDGE), p.int("max_image_size.longest_edge",
                                                                      MAX_EDGE)
        n = math.ceil(longest / tile) ** 2 if split is not False and longest and tile else 0
        if n:
            return {"kind": "slices", "tokens_per_tile": per_tile, "max_tiles": n,
                    "tokens_source": "image_seq_len per tile; (size / max_image_size)^2 tiles "
                    "+ the global image"}
        return {"kind": "fixed", "tokens_per_image": per_tile, "tokens_source": "image_seq_len"}
    crop = c.int("img_processor.num_img_tokens", MAX_TOKENS)
    if crop and got.get("num_crops"):
        return {"kind": "phi-crops", "tokens_per_tile": crop, "max_tiles": got["num_crops"],
                "tokens_source": "img_processor.num_img_tokens per crop; num_crops"}
    pinpoints = c.raw("image_grid_pinpoints")
    if grid and isinstance(image, int) and isinstance(pinpoints, list) and pinpoints:
        cells = [a * b // (image * image) for a, b in (x for x in pinpoints if _pair(x))]
        cap = c.raw("vision_aspect_ratio")
        most = max(cells) if cells else 0
        if isinstance(cap, str) and cap.startswith("anyres_max_") and cap[11:].isdigit():
            most = min(most, int(cap[11:]))
        if most:
            return {"kind": "llava-anyres", "tokens_per_tile": grid, "max_tiles": most,
                    "tokens_source": "(image_size / patch_size)^2 per tile; the largest "
                    "image_grid_pinpoints grid"}
    return _fixed(p, q, c, vkey, grid)


def _pair(x: Any) -> bool:
    return isinstance(x, list) and len(x) == 2 and all(
        isinstance(v, int) and not isinstance(v, bool) and 0 < v <= MAX_EDGE for v in x)


def _fixed(p: Fields, q: Fields, c: Fields, vkey: str, grid: int | None) -> dict[str, Scalar]:
    for fields, path in ((c, "mm_tokens_per_image"), (p, "image_seq_length"),
                         (q, "image_seq_length"), (c, "image_seq_length"),
                         (c, "num_image_tokens"), (c, "text_config.num_image_tokens"),
                         (q, "num_image_tokens")):
        value = fields.int(path, MAX_TOKENS)
        if value:
            return {"kind": "fixed", "tokens_per_image": value, "tokens_source": path}
    tiles = p.int("max_image_tiles", MAX_TILES)
    if tiles and grid:  # Llama-3.2-Vision: a class token per tile
        return {"kind": "fixed", "tokens_per_image": tiles * (grid + 1), "tokens_source":
                "max_image_tiles x ((image_size / patch_size)^2 + 1)"}
    h, w = p.int("size.height", MAX_EDGE), p.int("size.width", MAX_EDGE)
    ph = p.int("patch_size.height", MAX_EDGE)
    if h and w and ph and c.raw("model_type") == "fuyu":
        return {"kind": "fixed", "tokens_per_image": (h // ph) * (w // ph + 1),
                "tokens_source": "size / patch_size rows x (columns + a newline token)"}
    strategy = c.raw("vision_feature_select_strategy")
    if grid and strategy in ("default", "full"):
        return {"kind": "fixed", "tokens_per_image": grid + (strategy == "full"),
                "tokens_source": "(image_size / patch_size)^2, vision_feature_select_strategy"}
    return {}
