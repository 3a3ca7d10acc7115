"""Which part of a VLM a tensor belongs to, from its name alone.

A tensor name is a dotted module path (``model.visual.blocks.0.attn.qkv.weight``). The
classifier looks at its segments, left to right:

1. a *projector* segment — the modules between the vision encoders and the language model
   (projectors, resamplers, Q-Formers, the learned separators they insert) — makes it
   ``projector``: ``multi_modal_projector`` (LLaVA, PaliGemma, Mllama, Gemma 3),
   ``mm_projector`` (LLaVA/MGM originals), ``mlp1`` (InternVL), ``merger`` (Qwen2-VL's patch
   merger), ``img_projection`` (Phi-3-vision), ``vision_proj`` (XComposer), ``connector``
   (Idefics3/SmolVLM), ``resampler`` / ``perceiver_resampler`` (MiniCPM-V, Idefics2),
   ``qformer`` / ``query_tokens`` / ``language_projection`` (BLIP-2, InstructBLIP),
   ``vision_language_adapter`` (Pixtral's own format), ``image_newline`` /
   ``view_seperator`` (LLaVA-NeXT, DeepSeek-VL2/OCR), ``vte`` (Ovis), ``image_proj_norm`` /
   ``image_pos_embed`` / ``visual_temporal_embed`` (Florence-2), ``aligner``, ``projector``
   and any segment ending in ``_projector`` / ``image_projection``;
2. otherwise a *vision* segment makes it ``vision``: ``visual``, ``vision``,
   ``vision_tower``, ``vision_model``, ``vision_backbone``, ``vision_embed_tokens``,
   ``img_processor``, ``vit``, ``vpm``, ``image_encoder``, ``vision_encoder``, ``sam_model``
   (DeepSeek-OCR's second encoder), ``visual_tokenizer`` (Ovis), ``image_embed``,
   and any segment starting with ``vision_tower`` (``vision_tower_aux``);
3. everything else is the ``language`` model (embeddings, decoder layers, norm, head) —
   including CogVLM's ``vision_expert_*`` weights, which sit inside the decoder layers.

Segments are compared whole, so ``visualize`` or ``revision`` never match. Checkpoints
that name their parts otherwise land in ``language``, which errs towards a larger
language model — the part whose size drives the KV cache and the plan.
"""

from __future__ import annotations

COMPONENTS = ("vision", "projector", "language")

PROJECTOR = frozenset({
    "multi_modal_projector", "mm_projector", "mlp1", "merger", "img_projection",
    "vision_proj", "connector", "aligner", "projector", "image_projection", "resampler",
    "perceiver_resampler", "qformer", "query_tokens", "language_projection",
    "vision_language_adapter", "image_newline", "view_seperator", "view_separator", "vte",
    "image_proj_norm", "image_pos_embed", "visual_temporal_embed",
})
VISION = frozenset({
    "visual", "vision", "vision_tower", "vision_model", "vision_backbone",
    "vision_embed_tokens", "img_processor", "vit", "vpm", "image_encoder", "vision_encoder",
    "sam_model", "visual_tokenizer", "image_embed",
})


def component(tensor_name: str) -> str:
    segments = tensor_name.split(".")
    if any(s in PROJECTOR or s.endswith("_projector") for s in segments):
        return "projector"
    if any(s in VISION or s.startswith("vision_tower") for s in segments):
        return "vision"
    return "language"
