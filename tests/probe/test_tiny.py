from __future__ import annotations

from types import SimpleNamespace

import pytest

from vlmdoctor.probe import tiny

from .helpers import needs_torch

ALL = SimpleNamespace(__version__="5.23.0", **{name: object for name in tiny.CLASSES.values()})
OLD = SimpleNamespace(__version__="4.44.2", LlavaConfig=object, LlavaNextConfig=object)


@pytest.mark.parametrize(("family", "hf_model_type", "expected"), [
    ("qwen2-vl", "qwen2_vl", ("qwen2_vl", "qwen2_vl architecture")),
    ("qwen2.5-vl", "qwen2_5_vl", ("qwen2_5_vl", "qwen2_5_vl architecture")),
    ("llava", "llava_next", ("llava_next", "llava_next architecture")),
    ("internvl", "internvl_chat", ("internvl", "internvl architecture")),
    ("mgm", None, ("llava", "LLaVA-style stand-in for mgm (transformers ships no such architecture)")),
    ("phi3-vision", "phi3_v",
     ("llava", "LLaVA-style stand-in for phi3_v (transformers ships no such architecture)")),
    (None, None, ("llava", "LLaVA-style stand-in for no model given (transformers ships no such "
                           "architecture)")),
])
def test_resolve_uses_the_real_architecture_where_transformers_ships_it(
        family: str | None, hf_model_type: str | None, expected: tuple[str, str]) -> None:
    assert tiny.resolve(ALL, family, hf_model_type) == expected


def test_resolve_falls_back_when_this_transformers_lacks_the_architecture() -> None:
    assert tiny.resolve(OLD, "qwen2-vl", "qwen2_vl") == (
        "llava", "LLaVA-style stand-in: transformers 4.44.2 does not ship Qwen2VLConfig")


def test_version_and_legacy_image_tokens() -> None:
    assert tiny.version(SimpleNamespace(__version__="4.36.2")) == (4, 36)
    assert tiny.version(SimpleNamespace(__version__="5.0.0.dev0")) == (5, 0)
    assert tiny.version(SimpleNamespace()) == (0, 0)
    assert tiny._image_tokens(SimpleNamespace(__version__="4.36.2"), 16) == [tiny.IMAGE]
    assert tiny._image_tokens(ALL, 16) == [tiny.IMAGE] * 16


@needs_torch
def test_logit_sanity_for_raw_logits_and_for_processed_scores() -> None:
    import torch

    from vlmdoctor.probe.generate import _sane

    inf, nan = float("inf"), float("nan")
    assert _sane(torch, torch.tensor([0.0, 1.0]), raw=True)
    assert not _sane(torch, torch.tensor([0.0, -inf]), raw=True)
    assert _sane(torch, torch.tensor([0.0, -inf]), raw=False)  # EOS held back by min_new_tokens
    assert not _sane(torch, torch.tensor([0.0, nan]), raw=False)
    assert not _sane(torch, torch.tensor([inf, 0.0]), raw=False)
