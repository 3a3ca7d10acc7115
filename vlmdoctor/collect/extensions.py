"""Build facts of compiled torch extensions, from their files only (never imported).

For each installed extension package the snapshot keeps the raw evidence of what it was
built against: the wheel file name it was installed from (``direct_url.json``, PEP 610),
the CUDA libraries it ships (``RECORD``), and DeepSpeed's recorded build info. For torch
it keeps the C++ ABI flag that its CMake config exports. Interpretation is evaluate's job.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Mapping

from vlmdoctor.collect.packages import Distribution

EXTENSIONS = ("flash-attn", "xformers", "bitsandbytes", "vllm", "deepspeed", "apex",
              "mamba-ssm", "causal-conv1d")
_LIBRARY = re.compile(r"(?:^|/)(libbitsandbytes_[A-Za-z0-9_]+\.(?:so|dll|dylib))[,/]", re.M)
_ABI = re.compile(rb"_GLIBCXX_USE_CXX11_ABI=([01])")
_MAX_BYTES = 4 << 20


def read_extensions(dists: Mapping[str, Distribution]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name in EXTENSIONS:
        dist = dists.get(name)
        if dist is None:
            continue
        record: dict[str, Any] = {"wheel": _wheel_name(dist.path)}
        if name == "bitsandbytes":
            record["libraries"] = _libraries(dist.path)
        if name == "deepspeed":
            record["build"] = _deepspeed_build(os.path.dirname(dist.path))
        out[name] = record
    torch = dists.get("torch")
    if out and torch is not None:
        out["torch"] = {"cxx11_abi": _torch_abi(os.path.dirname(torch.path))}
    return out


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read(_MAX_BYTES)
    except OSError:
        return None


def _wheel_name(dist_path: str) -> str | None:
    raw = _read(os.path.join(dist_path, "direct_url.json"))
    try:
        url = json.loads(raw).get("url") if raw else None
    except (ValueError, AttributeError):
        return None
    if not isinstance(url, str):
        return None
    base = url.split("#", 1)[0].split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return base if base.endswith(".whl") else None


def _libraries(dist_path: str) -> list[str]:
    raw = _read(os.path.join(dist_path, "RECORD"))
    text = raw.decode("utf-8", "replace") if raw else ""
    return sorted(set(_LIBRARY.findall(text)))


def _deepspeed_build(site: str) -> dict[str, str] | None:
    raw = _read(os.path.join(site, "deepspeed", "git_version_info_installed.py"))
    if raw is None:
        return None
    import ast  # only where DeepSpeed is installed

    try:
        tree = ast.parse(raw.decode("utf-8", "replace"))
    except SyntaxError:
        return None
    values: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    info = values.get("torch_info")
    ops = values.get("installed_ops")
    out = {k: str(v) for k, v in info.items()} if isinstance(info, dict) else {}
    if isinstance(ops, dict):
        out["ops_prebuilt"] = ",".join(sorted(str(k) for k, v in ops.items() if v is True))
    return out or None


def _torch_abi(site: str) -> str | None:
    raw = _read(os.path.join(site, "torch", "share", "cmake", "Torch", "TorchConfig.cmake"))
    match = _ABI.search(raw) if raw else None
    return match.group(1).decode() if match else None
