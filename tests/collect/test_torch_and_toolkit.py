from __future__ import annotations

import json
from pathlib import Path

import pytest

from vlmdoctor.collect.toolkit import read_toolkit, toolkit_version
from vlmdoctor.collect.torchbuild import parse_version_file
from vlmdoctor.snapshot import CudaToolkit, TorchBuild

TORCH_VERSION_PY = '''from typing import Optional

__all__ = ['__version__', 'debug', 'cuda', 'git_version', 'hip']
__version__ = '2.5.1+cu124'
debug = False
cuda: Optional[str] = '12.4'
git_version = 'a8d6afb511a69687bbb2b7e88a3cf67917e1697e'
hip: Optional[str] = None
'''


def test_torch_version_file_cuda_build() -> None:
    assert parse_version_file(TORCH_VERSION_PY) == TorchBuild(version="2.5.1+cu124", cuda="12.4")


def test_torch_version_file_cpu_build() -> None:
    text = "__version__ = '2.13.0+cpu'\ncuda: Optional[str] = None\n"
    assert parse_version_file(text) == TorchBuild(version="2.13.0+cpu", cuda=None)


def _toolkit(tmp: Path, files: dict[str, str]) -> Path:
    (tmp / "bin").mkdir(parents=True)
    (tmp / "bin" / "nvcc").write_text("")
    for name, text in files.items():
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp / name).write_text(text)
    return tmp


def test_version_json(tmp_path: Path) -> None:
    home = _toolkit(tmp_path, {"version.json": json.dumps({"cuda": {"version": "12.2.140"}})})
    assert toolkit_version(home) == "12.2"


def test_cuda_h_macro(tmp_path: Path) -> None:
    home = _toolkit(tmp_path, {"include/cuda.h": "#define CUDA_VERSION 11080\n"})
    assert toolkit_version(home) == "11.8"


@pytest.mark.parametrize("before", [14_000, 65_530, 300_000])
def test_cuda_h_macro_wherever_it_sits(tmp_path: Path, before: int) -> None:
    """cuda.h (over 1 MB) is searched from its head; a macro further down, or one cut by the
    first read, is still found."""
    body = "/* x */\n" * (before // 8) + "#define CUDA_VERSION 13000\n" + "int f(void);\n" * 90_000
    home = _toolkit(tmp_path, {"include/cuda.h": body})
    assert toolkit_version(home) == "13.0"


def test_version_txt(tmp_path: Path) -> None:
    home = _toolkit(tmp_path, {"version.txt": "CUDA Version 11.0.228\n"})
    assert toolkit_version(home) == "11.0"


def test_cuda_home_env_wins(tmp_path: Path) -> None:
    home = _toolkit(tmp_path / "cuda", {"include/cuda.h": "#define CUDA_VERSION 12040\n"})
    toolkit, reason = read_toolkit({"CUDA_HOME": str(home), "PATH": ""})
    assert toolkit == CudaToolkit(nvcc="12.4", cuda_home=str(home))
    assert reason is None


def test_nvcc_wrapper_script_is_followed(tmp_path: Path) -> None:
    real = _toolkit(tmp_path / "cuda-13.0", {"version.json": '{"cuda": {"version": "13.0.48"}}'})
    wrapper_home = tmp_path / "local"
    (wrapper_home / "bin").mkdir(parents=True)
    nvcc = wrapper_home / "bin" / "nvcc"
    nvcc.write_text(f'#!/bin/sh\nexec {real}/bin/nvcc "$@"\n')
    nvcc.chmod(0o755)
    toolkit, reason = read_toolkit({"PATH": str(wrapper_home / "bin")})
    assert toolkit == CudaToolkit(nvcc="13.0", cuda_home=str(wrapper_home))
    assert reason is None


def test_toolkit_without_version_files_says_why(tmp_path: Path) -> None:
    home = _toolkit(tmp_path, {})
    toolkit, reason = read_toolkit({"CUDA_HOME": str(home)})
    assert toolkit == CudaToolkit(nvcc=None, cuda_home=str(home))
    assert reason == f"nvcc found under {home} but no version.json, include/cuda.h or version.txt"
