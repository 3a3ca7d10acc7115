"""End to end: a model directory's remote code and model types, checked live and replayed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_cli import run
from tests.conftest import environment
from tests.modelfiles.tiny import QWEN_CONFIG, QWEN_TENSORS, write_model
from tests.schema.test_schema import REPORT, errors

# Remote code of our own: one name transformers removed in 4.43 (_get_unpad_data moved out
# of modeling_llama), one it removed in 4.48, one it added in 4.36, and einops.
MODELING = '''"""Toy remote code for vlmdoctor's tests."""
from transformers.models.llama.modeling_llama import LlamaFlashAttention2, _get_unpad_data
from transformers.cache_utils import DynamicCache
import einops

from .configuration_acme import AcmeConfig

try:
    from flash_attn import flash_attn_func
except ImportError:
    flash_attn_func = None
'''
CONFIGURATION = "from transformers import PretrainedConfig\n\n\nclass AcmeConfig(PretrainedConfig):\n    model_type = 'acme_vl'\n"


def _remote_model(tmp_path: Path) -> Path:
    cfg: dict[str, Any] = dict(QWEN_CONFIG, model_type="acme_vl",
                               architectures=["AcmeForCausalLM"],
                               auto_map={"AutoConfig": "configuration_acme.AcmeConfig",
                                         "AutoModelForCausalLM": "modeling_acme.AcmeForCausalLM"})
    cfg["vision_config"] = dict(cfg["vision_config"], model_type="acme_vision")
    return write_model(tmp_path / "acme", config=cfg, tensors=QWEN_TENSORS,
                       code={"modeling_acme.py": MODELING,
                             "configuration_acme.py": CONFIGURATION})


def _env(tmp_path: Path, transformers: str) -> Path:
    env = environment("a100-cu124", {"packages": {"transformers": transformers}})
    path = tmp_path / f"env-{transformers}.json"
    path.write_text(json.dumps(env))
    return path


def _check(*args: str) -> dict[str, Any]:
    code, out, err = run("check", "--no-probe", "--format", "json", *args)
    assert code in (0, 1), err
    report: dict[str, Any] = json.loads(out)
    return report


def _by_id(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for f in report["findings"]:
        out.setdefault(f["id"], []).append(f)
    return out


def test_remote_code_imports_are_checked_and_replayed(tmp_path: Path) -> None:
    model = _remote_model(tmp_path)
    live = _check("--model", str(model), "--from-report", str(_env(tmp_path, "4.45.2")))
    found = _by_id(live)
    [missing] = found["model-code-package-missing"]
    assert missing["title"] == "The model's code imports einops; einops is not installed"
    assert missing["message"].startswith("modeling_acme.py:4 imports einops outside any try")
    assert missing["fix"] == ["pip install einops"]
    [tf] = found["model-transformers-version"]
    assert tf["severity"] == "error"
    assert tf["fix"] == ["pip install 'transformers>=4.36.0,<4.43.0'"]
    assert ("modeling_acme.py:2 imports transformers.models.llama.modeling_llama._get_unpad_data "
            "(in transformers 4.34.0 to 4.42.4)") in tf["message"]
    assert [s["file"] for s in live["target"]["code"][0]["imports"]][:1] == ["configuration_acme.py"]
    assert errors(REPORT, live) == []
    saved = tmp_path / "report.json"
    saved.write_text(json.dumps(live))
    replayed = _check("--from-report", str(saved))
    assert replayed["findings"] == live["findings"]


def test_inside_the_window_no_code_findings(tmp_path: Path) -> None:
    model = _remote_model(tmp_path)
    env = environment("a100-cu124", {"packages": {"transformers": "4.42.4", "einops": "0.8.0"}})
    (tmp_path / "ok.json").write_text(json.dumps(env))
    found = _by_id(_check("--model", str(model), "--from-report", str(tmp_path / "ok.json")))
    assert "model-code-package-missing" not in found
    assert "model-transformers-version" not in found


@pytest.mark.parametrize(("transformers", "fires"), [("4.44.2", True), ("4.45.0", False)])
def test_model_type_newer_than_the_install(tmp_path: Path, transformers: str, fires: bool) -> None:
    model = write_model(tmp_path / "qwen", config=dict(QWEN_CONFIG), tensors=QWEN_TENSORS)
    found = _by_id(_check("--model", str(model), "--from-report", str(_env(tmp_path, transformers))))
    if not fires:
        assert "model-transformers-version" not in found
        return
    [tf] = found["model-transformers-version"]
    assert tf["title"].endswith(f"needs transformers>=4.45.0; found {transformers}")
    assert "model_type 'qwen2_vl' is registered by transformers 4.45.0" in tf["message"]


@pytest.mark.parametrize(("transformers", "fires"), [("4.50.3", False), ("4.51.3", True)])
def test_import_as_is_required_from_the_release_whose_check_imports_sees_it(
        tmp_path: Path, transformers: str, fires: bool) -> None:
    """Before 4.51, check_imports read imports with a regular expression that never matched
    ``import x as y``; from 4.51 (syntax tree) it does, and the load fails without einops."""
    cfg: dict[str, Any] = dict(QWEN_CONFIG, model_type="acme_vl",
                               auto_map={"AutoModelForCausalLM": "modeling_acme.AcmeForCausalLM"})
    model = write_model(tmp_path / "acme", config=cfg, tensors=QWEN_TENSORS,
                        code={"modeling_acme.py": "import einops as E\n"})
    found = _by_id(_check("--model", str(model), "--from-report",
                          str(_env(tmp_path, transformers))))
    assert ("model-code-package-missing" in found) is fires
    if fires:
        [missing] = found["model-code-package-missing"]
        assert missing["message"].startswith("modeling_acme.py:1 imports einops")
