"""How many tokens an image becomes: for the language model, and for the vision tower."""

from __future__ import annotations

from dataclasses import dataclass

from vlmdoctor.knowledge.cards import Images
from vlmdoctor.plan.constants import PATCH_PIXELS


@dataclass(frozen=True)
class ImageLoad:
    tokens: int  # visual tokens the language model sees per image
    patches: int  # tokens the vision tower runs attention/MLP over per image
    note: str


def _patches(tokens: int, images: Images) -> int:
    """Vision-tower tokens: one per patch (14x14 unless the card says) when pixels per token are known."""
    if images.pixels_per_token:
        patch = images.patch_size * images.patch_size if images.patch_size else PATCH_PIXELS
        return tokens * images.pixels_per_token // patch
    return tokens


def image_load(images: Images | None, max_pixels: int | None) -> ImageLoad | None:
    """None when the card does not give the numbers for its kind."""
    if images is None:
        return None
    kind = images.kind
    if kind in ("qwen-pixels", "pixels"):
        per_token = images.pixels_per_token
        budget = max_pixels if max_pixels is not None else images.max_pixels
        if not per_token or budget is None:
            return None
        pixels = max(budget, images.min_pixels or 0)
        tokens = max(pixels // per_token, 1)
        return ImageLoad(tokens, _patches(tokens, images),
                         f"{pixels:,} pixels / {per_token} per token = {tokens:,} visual tokens per image")
    if kind in ("internvl-tiles", "phi-crops", "llava-anyres", "slices"):
        per_tile, tiles = images.tokens_per_tile, images.max_tiles
        if not per_tile or not tiles:
            return None
        if max_pixels is not None and images.pixels_per_token:
            tiles = max(1, min(tiles, max_pixels // (per_tile * images.pixels_per_token)))
        # InternVL adds a thumbnail tile when it splits (dynamic_preprocess use_thumbnail=True);
        # Phi-3.5-V, LLaVA-NeXT and the slicing families (MiniCPM-V, Idefics3) always add
        # the global/base view.
        extra = (1 if tiles > 1 else 0) if kind == "internvl-tiles" else 1
        tokens = (tiles + extra) * per_tile
        return ImageLoad(tokens, _patches(tokens, images),
                         f"{tiles}+{extra} tiles x {per_tile} tokens = {tokens:,} visual tokens per image")
    if images.tokens_per_image:
        tokens = images.tokens_per_image
        return ImageLoad(tokens, _patches(tokens, images),
                         f"{tokens:,} visual tokens per image (fixed)")
    return None
