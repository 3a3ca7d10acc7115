from __future__ import annotations

from types import SimpleNamespace

import pytest

from vlmdoctor.probe import tiny

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
