"""Phi-3/3.5-vision images are sized from the shipped card: 144 tokens per 336x336 crop
(config img_processor.num_img_tokens), 16 crops recommended for one image plus the global
view (the Phi-3.5-vision model card), so one image adds 17 x 144 = 2,448 tokens."""

from __future__ import annotations

import json

import pytest

from tests.hostile.test_reports import run


@pytest.mark.parametrize("model", ["phi-3.5-vision-instruct"])
def test_one_image_is_sixteen_crops_and_a_global_view(model: str) -> None:
    code, out, err = run("plan", "-m", model, "--gpus", "1xA100-80GB", "--format", "json")
    assert code == 0, err
    notes = json.loads(out)["notes"]
    assert "16+1 tiles x 144 tokens = 2,448 visual tokens per image" in notes
    assert "KV cache for 6,544 tokens per sequence x batch 1" in notes
