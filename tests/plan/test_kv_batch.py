"""The KV cache holds every sequence of the batch: Qwen2-VL-7B (28 layers, 4 KV heads of
128, bf16: 57,344 bytes a token, from its config.json) at 4,096 text tokens plus one image
at the default 16,384 visual tokens."""

from __future__ import annotations

import json

import pytest

from tests.hostile.test_reports import run

PER_TOKEN = 2 * 28 * 4 * 128 * 2  # K and V, layers, KV heads, head_dim, bytes (bf16)


@pytest.mark.parametrize("batch", [1, 2, 3])
def test_kv_cache_grows_with_the_batch(batch: int) -> None:
    code, out, err = run("plan", "-m", "qwen2-vl-7b-instruct", "--gpus", "1xA100-80GB",
                         "--batch", str(batch), "--format", "json")
    assert code in (0, 1), err
    kv = sum(gpu["kv_bytes"] for gpu in json.loads(out)["per_gpu"])
    assert kv == PER_TOKEN * (4096 + 16384) * batch
