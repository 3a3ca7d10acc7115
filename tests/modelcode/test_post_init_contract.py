"""transformers 5's post_init() contract, read from model code (rule
model-code-post-init-missing): which classes miss it, which auto_map entries are checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from vlmdoctor.evaluate.facts.contract import _targets, misses_post_init
from vlmdoctor.modelcode.scan import scan_dir


def _classes(tmp_path: Path, source: str) -> dict[str, object]:
    (tmp_path / "modeling_x.py").write_text(source)
    return {c.name: c for c in scan_dir(tmp_path).classes}


@pytest.mark.parametrize("source, missing", [
    # Built on PreTrainedModel and never calling it (init_weights() was the 4.x habit).
    ("from transformers import PreTrainedModel\n"
     "class M(PreTrainedModel):\n    def __init__(self, c):\n        super().__init__(c)\n"
     "        self.init_weights()\n", True),
    # The same through a local *PreTrainedModel base, aliased import.
    ("from transformers.modeling_utils import PreTrainedModel as PTM\n"
     "class XPreTrainedModel(PTM):\n    pass\n"
     "class M(XPreTrainedModel):\n    def __init__(self, c):\n        super().__init__(c)\n", True),
    # A transformers *PreTrainedModel base (Llama's) does not call it either.
    ("from transformers import LlamaPreTrainedModel\n"
     "class M(LlamaPreTrainedModel):\n    pass\n", True),
    # Calls it itself.
    ("from transformers import PreTrainedModel\n"
     "class M(PreTrainedModel):\n    def __init__(self, c):\n        super().__init__(c)\n"
     "        self.post_init()\n", False),
    # A local base calls it; the subclass inherits that __init__.
    ("from transformers import PreTrainedModel\n"
     "class Base(PreTrainedModel):\n    def __init__(self, c):\n        super().__init__(c)\n"
     "        self.post_init()\n"
     "class M(Base):\n    pass\n", False),
    # A concrete transformers model class calls it in its own __init__.
    ("from transformers import LlamaForCausalLM\n"
     "class M(LlamaForCausalLM):\n    def __init__(self, c):\n        super().__init__(c)\n", False),
    # No transformers base seen at all: nothing is claimed.
    ("import torch\nclass M(torch.nn.Module):\n    pass\n", False),
])
def test_which_classes_miss_post_init(tmp_path: Path, source: str, missing: bool) -> None:
    classes = _classes(tmp_path, source)
    assert misses_post_init(classes["M"], classes) is missing  # type: ignore[arg-type]


def test_only_auto_model_classes_of_this_repo_are_checked() -> None:
    assert _targets({"AutoConfig": "configuration_x.XConfig",
                     "AutoModelForCausalLM": "modeling_x.XForCausalLM",
                     "AutoModel": "sub.modeling_y.YModel",
                     "AutoProcessor": "processing_x.XProcessor",
                     "AutoModelForVision2Seq": "other/repo--modeling_z.Z"}) == [
        ("sub/modeling_y.py", "YModel"), ("modeling_x.py", "XForCausalLM")]
