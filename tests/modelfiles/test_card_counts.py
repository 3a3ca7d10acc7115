"""Issue 15 §4: the SigLIP towers of Gemma 3, LLaVA-OneVision and PaliGemma 2 have no
pooling head (``vision_use_head: false`` in the checkpoints' configs), so the shipped cards
count the tower without it. Sources: google/gemma-3-4b-it model.safetensors.index.json
total_size 8,600,158,944 bytes (bf16) = 4,300,079,472; google/medgemma-27b-it (the Gemma 3
27B architecture) total_size 54,864,813,280 bytes = 27,432,406,640; LLaVA-OneVision-0.5B
893,359,264 and PaliGemma2-3B-448 3,033,127,152 (the audit in issue 15)."""

from __future__ import annotations

import pytest

from tests.conftest import make_knowledge


def siglip_tower(layers: int, positions: int, width: int = 1152, mlp: int = 4304,
                 patch: int = 14, head: bool = False) -> int:
    """SiglipVisionTransformer's parameters: patch embedding (with bias), positions,
    ``layers`` encoder layers, post layer norm, and the pooling head only if ``head``."""
    layer = 2 * 2 * width + 4 * (width * width + width) + 2 * width * mlp + mlp + width
    count = width * 3 * patch * patch + width + positions * width + layers * layer + 2 * width
    if head:
        count += width + 4 * (width * width + width) + 2 * width + 2 * width * mlp + mlp + width
    return count


def test_the_head_is_the_difference_the_audit_found() -> None:
    assert siglip_tower(27, 4096) == 416_866_032
    assert siglip_tower(27, 4096, head=True) - siglip_tower(27, 4096) == 15_238_352


@pytest.mark.parametrize(("card_id", "layers", "positions", "total"), [
    ("gemma-3-4b-it", 27, 4096, 4_300_079_472),
    ("gemma-3-12b-it", 27, 4096, 12_187_325_040),
    ("gemma-3-27b-it", 27, 4096, 27_432_406_640),
    ("llava-onevision-qwen2-0.5b-ov-hf", 26, 729, 893_359_264),
    ("llava-onevision-qwen2-7b-ov-hf", 26, 729, 8_030_807_584),
    ("llava-onevision-qwen2-72b-ov-hf", 26, 729, 73_181_570_592),
    ("paligemma2-3b-224", 27, 256, 3_032_242_416),
    ("paligemma2-3b-448", 27, 1024, 3_033_127_152),
    ("paligemma2-3b-896", 27, 4096, 3_036_666_096),
    ("paligemma2-10b-448", 27, 1024, 9_663_523_568),
    ("paligemma2-28b-448", 27, 1024, 27_651_371_760),
])
def test_cards_count_the_tower_without_a_pooling_head(card_id: str, layers: int,
                                                      positions: int, total: int) -> None:
    card = make_knowledge().catalogue.resolve(card_id)
    p = card.params
    assert p.vision == siglip_tower(layers, positions)
    assert p.total == total
    assert (p.vision or 0) + (p.projector or 0) + (p.language or 0) == p.total
    assert "vision_use_head: false" in (p.source or "")


def test_every_card_of_the_three_families_is_corrected() -> None:
    catalogue = make_knowledge().catalogue
    for family in ("gemma3", "llava-onevision", "paligemma2"):
        cards = catalogue.family(family)
        assert cards, family
        for card in cards:
            assert card.params.vision is not None and card.params.vision < 420_000_000, card.id
