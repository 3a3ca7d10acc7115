"""Build facts of compiled extensions come from files; nothing is imported."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import make_knowledge, snapshot
from vlmdoctor.collect.extensions import read_extensions
from vlmdoctor.collect.packages import installed_distributions
from vlmdoctor.snapshot import Snapshot

WHEEL = "flash_attn-2.5.8+cu122torch2.3cxx11abiFALSE-cp310-cp310-linux_x86_64.whl"
DS_INFO = """version='0.14.4'
git_hash='unknown'
installed_ops={'async_io': False, 'fused_adam': True, 'cpu_adam': True}
torch_info={'version': '2.1', 'bf16_support': True, 'cuda_version': '11.8', 'nccl_version': '2.18', 'hip_version': '0.0'}
"""


def _dist(site: Path, name: str, files: dict[str, str]) -> None:
    info = site / name
    info.mkdir(parents=True)
    for file, text in files.items():
        (info / file).write_text(text)


def _site(tmp_path: Path) -> Path:
    _dist(tmp_path, "flash_attn-2.5.8+cu122torch2.3cxx11abiFALSE.dist-info", {
        "direct_url.json": json.dumps({"url": f"https://github.com/x/releases/download/v2.5.8/{WHEEL}",
                                       "archive_info": {}})})
    _dist(tmp_path, "bitsandbytes-0.43.1.dist-info", {"RECORD": (
        "bitsandbytes/__init__.py,sha256=x,10\n"
        "bitsandbytes/libbitsandbytes_cuda118.so,sha256=x,10\n"
        "bitsandbytes/libbitsandbytes_cuda121_nocublaslt.so,sha256=x,10\n")})
    _dist(tmp_path, "deepspeed-0.14.4.dist-info", {})
    (tmp_path / "deepspeed").mkdir()
    (tmp_path / "deepspeed" / "git_version_info_installed.py").write_text(DS_INFO)
    _dist(tmp_path, "torch-2.3.1+cu121.dist-info", {})
    cmake = tmp_path / "torch" / "share" / "cmake" / "Torch"
    cmake.mkdir(parents=True)
    (cmake / "TorchConfig.cmake").write_text('set(TORCH_CXX_FLAGS "-D_GLIBCXX_USE_CXX11_ABI=0")\n')
    return tmp_path


def test_reads_wheel_names_libraries_build_info_and_torch_abi(tmp_path: Path) -> None:
    found = read_extensions(installed_distributions([str(_site(tmp_path))]))
    assert found == {
        "flash-attn": {"wheel": WHEEL},
        "bitsandbytes": {"wheel": None, "libraries": [
            "libbitsandbytes_cuda118.so", "libbitsandbytes_cuda121_nocublaslt.so"]},
        "deepspeed": {"wheel": None, "build": {
            "version": "2.1", "bf16_support": "True", "cuda_version": "11.8",
            "nccl_version": "2.18", "hip_version": "0.0", "ops_prebuilt": "cpu_adam,fused_adam"}},
        "torch": {"cxx11_abi": "0"},
    }


def test_nothing_when_no_extension_is_installed(tmp_path: Path) -> None:
    _dist(tmp_path, "torch-2.13.0.dist-info", {})
    assert read_extensions(installed_distributions([str(tmp_path)])) == {}


def test_extensions_round_trip() -> None:
    snap = snapshot("a100-cu124", {"extensions": {
        "bitsandbytes": {"wheel": None, "libraries": ["libbitsandbytes_cuda124.so"]},
        "deepspeed": {"build": {"version": "2.1"}}}})
    assert Snapshot.from_dict(snap.to_dict()) == snap
    assert "extensions" not in snapshot("a100-cu124").to_dict()


def test_the_additive_keys_are_in_the_snapshot_schema() -> None:
    import jsonschema

    from vlmdoctor.schemas import schema

    validator = jsonschema.Draft202012Validator(schema("snapshot"))
    snap = snapshot("a100-cu124", {
        "requirements": {"vllm": ["torch==2.4.0", "numpy<2; python_version < '3.9'"]},
        "extensions": {"bitsandbytes": {"wheel": None, "libraries": ["libbitsandbytes_cuda124.so"]},
                       "deepspeed": {"build": {"version": "2.1"}}, "torch": {"cxx11_abi": "1"}}})
    assert list(validator.iter_errors(snap.to_dict())) == []
    bad = dict(snap.to_dict(), requirements={"vllm": "torch==2.4.0"})
    assert [e.message for e in validator.iter_errors(bad)] == ["'torch==2.4.0' is not of type 'array'"]


def _findings(snap: Snapshot) -> list[Any]:
    from vlmdoctor.collect import Collected
    from vlmdoctor.doctor import CheckRequest, run_check

    report = run_check(CheckRequest(), make_knowledge(), collect=lambda: Collected(snap, ()),
                       clock=lambda: "T")
    return [f for f in report.findings if f.id == "extension-built-for-other-torch"]


def test_the_label_in_the_wheel_file_is_evaluated(tmp_path: Path) -> None:
    """flash-attn renames its release wheels after building: the installed version has no
    label, the file name pip recorded in direct_url.json has it."""
    wheel = "flash_attn-2.7.4.post1+cu12torch2.6cxx11abiFALSE-cp311-cp311-linux_x86_64.whl"
    _dist(tmp_path, "flash_attn-2.7.4.post1.dist-info", {
        "direct_url.json": json.dumps({"url": f"https://example.org/dl/{wheel}"}),
        "METADATA": "Metadata-Version: 2.1\nName: flash_attn\nVersion: 2.7.4.post1\n"})
    extensions = read_extensions(installed_distributions([str(tmp_path)]))
    assert extensions["flash-attn"] == {"wheel": wheel}
    snap = snapshot("a100-cu124", {"packages": {"flash-attn": "2.7.4.post1"},
                                   "extensions": extensions})
    found = _findings(snap)
    assert [(f.severity, f.title) for f in found] == [(
        "error", f"flash-attn 2.7.4.post1 (installed from {wheel}) was built for "
                 "torch 2.6 (installed: 2.5)")]
    assert found[0].fix[0].startswith("pip install --no-cache-dir --force-reinstall --no-deps "
                                      "--no-build-isolation 'flash-attn==2.7.4.post1'")
    same = snapshot("a100-cu124", {"packages": {"flash-attn": "2.7.4.post1", "torch": "2.6.0+cu124"},
                                   "torch": {"version": "2.6.0+cu124", "cuda": "12.4"},
                                   "extensions": {"flash-attn": {"wheel": wheel}}})
    assert _findings(same) == []


def test_a_cuda_label_in_the_wheel_file_is_evaluated() -> None:
    snap = snapshot("a100-cu124", {"packages": {"vllm": "0.6.1.post1"}, "extensions": {
        "vllm": {"wheel": "vllm-0.6.1.post1+cu118-cp38-abi3-manylinux1_x86_64.whl"}}})
    assert [f.title for f in _findings(snap)] == [
        "vllm 0.6.1.post1 (installed from vllm-0.6.1.post1+cu118-cp38-abi3-manylinux1_x86_64"
        ".whl) was built for CUDA 11.x (torch has CUDA 12.x)"]


def test_mamba_ssm_and_causal_conv1d_wheel_labels_are_evaluated(tmp_path: Path) -> None:
    """mamba-ssm and causal-conv1d release wheels carry flash-attn's label scheme
    (+cu<CUDA>torch<X.Y>cxx11abi<TRUE|FALSE>, state-spaces/mamba#217, #750)."""
    mamba = "mamba_ssm-2.2.4+cu12torch2.4cxx11abiTRUE-cp310-cp310-linux_x86_64.whl"
    conv = "causal_conv1d-1.5.0.post8+cu12torch2.4cxx11abiFALSE-cp310-cp310-linux_x86_64.whl"
    _dist(tmp_path, "mamba_ssm-2.2.4.dist-info", {
        "direct_url.json": json.dumps({"url": f"file:///tmp/{mamba}", "archive_info": {}})})
    _dist(tmp_path, "causal_conv1d-1.5.0.post8.dist-info", {
        "direct_url.json": json.dumps({"url": f"file:///tmp/{conv}", "archive_info": {}})})
    extensions = read_extensions(installed_distributions([str(tmp_path)]))
    assert extensions == {"mamba-ssm": {"wheel": mamba}, "causal-conv1d": {"wheel": conv}}
    snap = snapshot("a100-cu124", {
        "packages": {"torch": "2.4.0", "mamba-ssm": "2.2.4", "causal-conv1d": "1.5.0.post8"},
        "torch": {"version": "2.4.0", "cuda": "12.1"}, "extensions": extensions})
    found = _findings(snap)
    assert [(f.severity, f.title) for f in found] == [(
        "error", f"mamba-ssm 2.2.4 (installed from {mamba}) was built for "
                 "C++ ABI cxx11abiTRUE (torch: cxx11abiFALSE)")]
    assert found[0].fix == (
        "pip install --no-cache-dir --force-reinstall --no-deps --no-build-isolation "
        "'mamba-ssm==2.2.4'   # builds for this torch; or the release wheel "
        "mamba_ssm-2.2.4+cu12torch2.4cxx11abiFALSE-*.whl",)
