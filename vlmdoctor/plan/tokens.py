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


# qwen-vl-utils (vision_process.py) video defaults, in visual tokens (one token = one 28x28
# region of a temporally merged pair of frames for Qwen2-VL): VIDEO_MIN_PIXELS = 128, VIDEO_MAX_PIXELS
# = 768 and VIDEO_TOTAL_PIXELS = 24576 tokens' worth of pixels; FRAME_FACTOR 2 (temporal patch).
VIDEO_MIN_TOKENS = 128
VIDEO_MAX_TOKENS = 768
VIDEO_TOTAL_TOKENS = 24576
FRAME_FACTOR = 2


def video_pixels_cap(images: Images) -> int | None:
    """qwen-vl-utils' default per-frame pixel cap (VIDEO_MAX_PIXELS) for this model."""
    return VIDEO_MAX_TOKENS * images.pixels_per_token if images.pixels_per_token else None


def video_load(images: Images | None, frames: int, max_pixels: int | None) -> ImageLoad | None:
    """One video of ``frames`` frames as qwen-vl-utils sizes it: per frame min(max_pixels,
    VIDEO_TOTAL_PIXELS / frames x 2), at least VIDEO_MIN_PIXELS x 1.05; frames merge in pairs."""
    if images is None or images.kind != "qwen-pixels" or not images.pixels_per_token:
        return None
    per = images.pixels_per_token
    cap = max_pixels if max_pixels is not None else VIDEO_MAX_TOKENS * per
    total = VIDEO_TOTAL_TOKENS * per
    frame_pixels = max(min(cap, total * FRAME_FACTOR // max(frames, 1)),
                       int(VIDEO_MIN_TOKENS * per * 1.05))
    pairs = -(-frames // FRAME_FACTOR)
    tokens = max(pairs * (frame_pixels // per), 1)
    return ImageLoad(tokens, _patches(tokens, images),
                     f"video: {frames} frames at {frame_pixels:,} pixels each = {pairs} frame "
                     f"pairs x {frame_pixels // per:,} = {tokens:,} visual tokens per video")
