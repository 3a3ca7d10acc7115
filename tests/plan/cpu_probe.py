"""Run in a child process: build a tiny real Qwen2-VL on the CPU, prefill one prompt, and
print what it measured (bytes) as JSON. Used by test_cpu_measurement.py.

measured = weights resident after construction (RSS delta) + the peak RSS of the prefill
above the RSS after a warm-up forward (the CPU runtime's own one-off allocations play the
part the CUDA context plays on a GPU, which the planner counts separately)."""

from __future__ import annotations

import gc
import json
import os
import resource
import sys

import torch
from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration

TEXT = dict(hidden_size=512, intermediate_size=1536, num_hidden_layers=4, num_attention_heads=8,
            num_key_value_heads=2, vocab_size=32000, max_position_embeddings=8192,
            rope_scaling={"type": "mrope", "mrope_section": [8, 12, 12]},
            tie_word_embeddings=False)
VISION = dict(depth=2, embed_dim=256, num_heads=4, mlp_ratio=4, patch_size=14,
              spatial_merge_size=2, hidden_size=512)


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def main(tokens: int) -> None:
    torch.set_num_threads(2)
    torch.manual_seed(0)
    # Build and drop a one-layer model first: transformers imports its modeling code lazily
    # on first construction, and that import's memory is not the model's weights.
    small = {**TEXT, "num_hidden_layers": 1, "vocab_size": 64}
    Qwen2VLForConditionalGeneration(
        Qwen2VLConfig(text_config=small, vision_config={**VISION, "depth": 1},
                      tie_word_embeddings=False))
    gc.collect()
    before = rss()
    model = Qwen2VLForConditionalGeneration(
        Qwen2VLConfig(text_config=TEXT, vision_config=VISION, tie_word_embeddings=False)).eval()
    loaded = rss()
    with torch.no_grad():  # warm the CPU runtime (thread pools, kernels): not model memory
        model(input_ids=torch.randint(0, 30000, (1, 8)), use_cache=True)
    warm = rss()
    ids = torch.randint(0, 30000, (1, tokens))
    with torch.no_grad():
        model(input_ids=ids, use_cache=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    vision = sum(p.numel() for p in model.model.visual.parameters())
    total = sum(p.numel() for p in model.parameters())
    print(json.dumps({"before": before, "loaded": loaded, "warm": warm, "peak": peak,
                      "measured": peak - warm + loaded - before, "vision": vision,
                      "language": total - vision, "text": TEXT, "vision_config": VISION}))


if __name__ == "__main__":
    main(int(sys.argv[1]))
