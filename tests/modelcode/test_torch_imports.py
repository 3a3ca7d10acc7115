"""End to end: a model's remote code imports torch names that some releases lack (our own
stand-ins, at their real module paths), checked against the torch release index."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cli.test_cli import run
from tests.conftest import environment
from tests.modelfiles.tiny import QWEN_CONFIG, QWEN_TENSORS, write_model
from tests.schema.test_schema import REPORT, errors

# flex_attention arrived in torch 2.5.0; torch.nn.attention re-exported enable_flash_sdp
# from 2.3.0 to 2.5.1; GradScaler is in torch.amp from 2.3.0; torch._six went before 2.0.
MODELING = '''"""Toy remote code for vlmdoctor's tests."""
import torch
from torch.nn.attention.flex_attention import flex_attention, create_block_mask
from torch.nn.attention import enable_flash_sdp
from torch.amp import GradScaler
from torch import nn, Tensor

try:
    from torch._six import inf
except ImportError:
    inf = float("inf")
'''
SIX = '"""Toy remote code written for torch 1.x."""\nfrom torch._six import inf\n'


def _model(tmp_path: Path, code: str) -> Path:
    cfg: dict[str, Any] = dict(QWEN_CONFIG, model_type="acme_vl",
                               architectures=["AcmeForCausalLM"],
                               auto_map={"AutoModelForCausalLM": "modeling_acme.AcmeForCausalLM"})
    return write_model(tmp_path / "acme", config=cfg, tensors=QWEN_TENSORS,
                       code={"modeling_acme.py": code})


def _check(tmp_path: Path, model: Path, torch: str, base: str = "a100-cu124",
           cuda: str | None = "12.4") -> list[dict[str, Any]]:
    env = environment(base, {"torch": {"version": torch, "cuda": cuda},
                             "packages": {"torch": torch}})
    path = tmp_path / f"env-{torch}.json"
    path.write_text(json.dumps(env))
    code, out, err = run("check", "--no-probe", "--format", "json", "--model", str(model),
                         "--from-report", str(path))
    assert code in (0, 1), err
    report: dict[str, Any] = json.loads(out)
    assert errors(REPORT, report) == []
    return [f for f in report["findings"] if f["id"] == "model-code-torch-name"]


def test_a_name_torch_removed_is_an_error_with_the_release_and_a_cuda_fix(tmp_path: Path) -> None:
    [finding] = _check(tmp_path, _model(tmp_path, MODELING), "2.6.0+cu124")
    assert finding["severity"] == "error"
    assert finding["title"] == ("The model's code imports torch.nn.attention.enable_flash_sdp, "
                                "which torch 2.6.0+cu124 does not have")
    assert finding["message"].startswith(
        "modeling_acme.py:4 imports torch.nn.attention.enable_flash_sdp outside any try block")
    assert "it is removed in torch 2.6.0 (last in 2.5.1); it exists in torch 2.3.0 to 2.5.1" \
        in finding["message"]
    assert "torch>=2.5.0,<2.6.0 has every torch name the code imports" in finding["message"]
    # the window's newest release with a build for this driver (CUDA 12.4) and the A100
    assert finding["fix"] == ["pip install 'torch==2.5.1' 'torchvision==0.20.1' "
                              "--index-url https://download.pytorch.org/whl/cu124"]


def test_a_module_torch_added_later_is_said_once(tmp_path: Path) -> None:
    [finding] = _check(tmp_path, _model(tmp_path, MODELING), "2.4.1+cu121", cuda="12.1")
    assert finding["title"] == ("The model's code imports torch.nn.attention.flex_attention, "
                                "which torch 2.4.1+cu121 does not have")
    assert "modeling_acme.py:3 imports" in finding["message"]
    assert "it is added in torch 2.5.0; it exists in torch 2.5.0 and later" in finding["message"]
    assert finding["fix"] == ["pip install 'torch==2.5.1' 'torchvision==0.20.1' "
                              "--index-url https://download.pytorch.org/whl/cu124"]


def test_inside_the_window_nothing_fires(tmp_path: Path) -> None:
    assert _check(tmp_path, _model(tmp_path, MODELING), "2.5.1+cu124") == []


def test_a_module_gone_before_the_index_and_a_cpu_build(tmp_path: Path) -> None:
    [finding] = _check(tmp_path, _model(tmp_path, SIX), "2.13.0+cpu", base="no-gpu-cpu-torch",
                       cuda=None)
    assert finding["title"] == ("The model's code imports torch._six, which torch 2.13.0+cpu "
                                "does not have")
    assert "it is in no indexed torch release (2.0.0 to 2.15.0)" in finding["message"]
    assert finding["fix"][0].startswith("# no indexed torch release has every name")


def test_cpu_build_keeps_its_index(tmp_path: Path) -> None:
    code = '"""Toy."""\nfrom torch.nn.attention import enable_flash_sdp\n'
    [finding] = _check(tmp_path, _model(tmp_path, code), "2.13.0+cpu", base="no-gpu-cpu-torch",
                       cuda=None)
    assert finding["fix"] == ["pip install 'torch>=2.3.0,<2.6.0' "
                              "--index-url https://download.pytorch.org/whl/cpu"]


def test_replay_from_the_report_gives_the_same_findings(tmp_path: Path) -> None:
    model = _model(tmp_path, MODELING)
    env = environment("a100-cu124", {"torch": {"version": "2.6.0+cu124", "cuda": "12.4"},
                                     "packages": {"torch": "2.6.0+cu124"}})
    (tmp_path / "env.json").write_text(json.dumps(env))
    code, out, _ = run("check", "--no-probe", "--format", "json", "--model", str(model),
                       "--from-report", str(tmp_path / "env.json"))
    (tmp_path / "report.json").write_text(out)
    code2, out2, _ = run("check", "--no-probe", "--format", "json",
                         "--from-report", str(tmp_path / "report.json"))
    assert (code, json.loads(out)["findings"]) == (code2, json.loads(out2)["findings"])


def test_a_star_import_records_what_the_file_reads_but_never_binds(tmp_path: Path) -> None:
    from vlmdoctor.modelcode.scan import ImportSite, scan_files

    (tmp_path / "m.py").write_text(
        "from torch import *\nimport os\n\n\ndef f(x, inf=None):\n    y = Tensor\n"
        "    return os.sep, y, x, cat, inf, len\n")
    scan = scan_files(tmp_path, [tmp_path / "m.py"], "remote code")
    [star] = [s for s in scan.imports if "*" in s.names]
    assert star.star_uses == ("Tensor", "cat")
    assert ImportSite.from_dict(star.to_dict()) == star
    [plain] = [s for s in scan.imports if s.module == "os"]
    assert "star_uses" not in plain.to_dict()


def test_a_name_a_star_import_from_torch_no_longer_gives(tmp_path: Path) -> None:
    code = ('"""Toy remote code that takes torch names from a star import."""\n'
            "from torch import *\n\n\ndef build():\n    return has_cuda, Tensor, cat\n")
    [finding] = _check(tmp_path, _model(tmp_path, code), "2.5.1+cu124")
    assert finding["title"] == ("The model's code imports torch.has_cuda (through from torch "
                                "import *), which torch 2.5.1+cu124 does not have")
    assert finding["message"].startswith("modeling_acme.py:2 imports torch.has_cuda")
    assert "it is removed in torch 2.1.0 (last in 2.0.1)" in finding["message"]
    assert finding["fix"] == ["pip install 'torch==2.0.1' 'torchvision==0.15.2' "
                              "--index-url https://download.pytorch.org/whl/cu118"]
    # a name the file binds itself, or one every release's star import gives: no claim
    fine = code.replace("has_cuda, ", "")
    assert _check(tmp_path, _model(tmp_path / "fine", fine), "2.5.1+cu124") == []


def test_no_claim_when_another_star_import_may_give_the_name(tmp_path: Path) -> None:
    code = ('"""Toy."""\nfrom torch import *\nfrom numpy import *\n\n\n'
            "def build():\n    return has_cuda\n")
    assert _check(tmp_path, _model(tmp_path, code), "2.5.1+cu124") == []


def test_modules_torch_serves_at_run_time_get_no_claim(tmp_path: Path) -> None:
    code = '"""Toy."""\nfrom torch.ops import aten\nimport torch.classes\nfrom torch import Storage\n'
    assert _check(tmp_path, _model(tmp_path, code), "2.5.1+cu124") == []


def test_an_unknown_format_index_is_one_info_finding(tmp_path: Path, monkeypatch: Any) -> None:
    import gzip

    from vlmdoctor.torchindex import index as torch_index

    broken = tmp_path / "torch-index.json.gz"
    broken.write_bytes(gzip.compress(b'{"format": 99, "releases": [], "modules": {}}'))
    monkeypatch.setattr(torch_index, "INDEX_FILE", broken)
    torch_index.load_index.cache_clear()
    try:
        model = _model(tmp_path, MODELING)
        env = environment("a100-cu124", {"torch": {"version": "2.6.0+cu124", "cuda": "12.4"},
                                         "packages": {"torch": "2.6.0+cu124"}})
        (tmp_path / "env.json").write_text(json.dumps(env))
        code, out, err = run("check", "--no-probe", "--format", "json", "--model", str(model),
                             "--from-report", str(tmp_path / "env.json"))
    finally:
        torch_index.load_index.cache_clear()
    assert code in (0, 1), err
    findings = json.loads(out)["findings"]
    assert [f for f in findings if f["id"] == "model-code-torch-name"] == []
    [info] = [f for f in findings if f["id"] == "release-index-unavailable"]
    assert info["severity"] == "info"
    assert info["message"] == (f"{broken}: unknown format 99 (expected 1); rebuild it with "
                               "scripts/build_torch_index.py. Skipped: the model code's torch "
                               "imports were not checked.")
