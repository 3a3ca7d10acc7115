"""Which torch a compiled extension was built for, against the installed torch.

Evidence, all read from files (see collect/extensions.py): the version's local label
(flash-attn, mamba-ssm and causal-conv1d release wheels: ``2.5.8+cu122torch2.3cxx11abiFALSE``;
vLLM and xFormers CUDA variants: ``+cu118``), else the same label in the file name of the wheel it was
installed from (``direct_url.json``, PEP 610: flash-attn renames its release wheels after
building, so the label is in the file name and not in the installed version),
DeepSpeed's recorded ``torch_info`` for prebuilt ops, and torch's C++ ABI from its CMake
config (pip wheels switched to the CXX11 ABI in two steps: the cu126 builds of 2.6, then
every build of 2.7).
"""

from __future__ import annotations

import re
from typing import Any

from packaging.version import InvalidVersion, Version

from vlmdoctor.record import record
from vlmdoctor.shell import arg, one_line
from vlmdoctor.snapshot import Snapshot

_FLASH = re.compile(r"cu(\d{2,3})torch(\d{1,3})\.(\d{1,3})(?:cxx11abi(TRUE|FALSE))?", re.I)
_CUDA_LABEL = re.compile(r"^cu(\d{2,3})$")
CUDA_LABELLED = ("vllm", "xformers")
# Release wheels labelled +cu<CUDA>torch<X.Y>cxx11abi<TRUE|FALSE>: flash-attn, and mamba-ssm
# and causal-conv1d, whose setup.py picks its prebuilt wheel by the same name scheme.
TORCH_LABELLED = ("flash-attn", "mamba-ssm", "causal-conv1d")


@record
class Build:
    package: str
    found: str
    torch: str | None = None  # major.minor
    cuda_major: int | None = None
    cxx11_abi: str | None = None  # "0" or "1"
    prebuilt: str | None = None  # what was compiled ahead of time, when not everything
    wheel: str | None = None  # the wheel file the label was read from, when not the version


@record
class Installed:
    torch: str | None  # major.minor
    cuda_major: int | None
    cxx11_abi: str | None


def installed_torch(snapshot: Snapshot) -> Installed | None:
    torch = snapshot.torch
    if torch is None or not torch.version:
        return None
    try:
        version = Version(torch.version)
    except InvalidVersion:
        return None
    cuda = _major(torch.cuda)
    abi = ((snapshot.extensions or {}).get("torch") or {}).get("cxx11_abi")
    if abi is None:
        abi = default_abi(version)
    return Installed(f"{version.major}.{version.minor}", cuda, abi if abi in ("0", "1") else None)


def default_abi(version: Version) -> str | None:
    """The C++ ABI of an official pip wheel when nothing on disk says: every build before
    2.6 and the 2.6 cu118/cu124/CPU builds use the old ABI ("0"); the 2.6 cu126 builds and
    every build from 2.7 use the CXX11 ABI ("1") (pytorch PR #141565, issue #123649).
    Unknown (None) for other builds (NGC, conda, source), whose ABI varies."""
    local = version.local
    if local is not None and not local.startswith(("cu", "cpu")):
        return None
    if version.release >= (2, 7):
        return "1"
    if version.release >= (2, 6):
        # A bare 2.6 version is the PyPI wheel, built with CUDA 12.4.
        return "1" if local == "cu126" else "0"
    return "0"


def _major(text: str | None) -> int | None:
    try:
        return Version(text).major if text else None
    except InvalidVersion:
        return None


def _labelled(snapshot: Snapshot, name: str) -> tuple[str, str | None] | None:
    """The version text that carries the build label, and the wheel it came from (None:
    the installed version itself); None when the package is not installed."""
    version = snapshot.packages.get(name)
    if not version:
        return None
    if "+" in version:
        return version, None
    wheel = ((snapshot.extensions or {}).get(name) or {}).get("wheel")
    if not isinstance(wheel, str):
        return version, None
    parts = wheel.split("-")
    if len(parts) >= 3 and "+" in parts[1] and parts[1].partition("+")[0] == version:
        return parts[1][:200], wheel[:300]
    return version, None


def builds(snapshot: Snapshot) -> list[Build]:
    out: list[Build] = []
    packages = snapshot.packages
    for name in TORCH_LABELLED:
        found = _labelled(snapshot, name)
        match = _FLASH.search(found[0].partition("+")[2]) if found else None
        if found and match:
            abi = {"TRUE": "1", "FALSE": "0"}.get((match.group(4) or "").upper())
            out.append(Build(name, found[0], f"{match.group(2)}.{match.group(3)}",
                             _cuda_major(match.group(1)), abi, wheel=found[1]))
    for name in CUDA_LABELLED:
        found = _labelled(snapshot, name)
        label = _CUDA_LABEL.match(found[0].partition("+")[2]) if found else None
        if found and label:
            out.append(Build(name, found[0], cuda_major=_cuda_major(label.group(1)),
                             wheel=found[1]))
    deepspeed = ((snapshot.extensions or {}).get("deepspeed") or {}).get("build")
    if isinstance(deepspeed, dict) and deepspeed.get("ops_prebuilt") and "deepspeed" in packages:
        out.append(Build("deepspeed", packages["deepspeed"], deepspeed.get("version"),
                         _major(deepspeed.get("cuda_version")) or None,
                         prebuilt=deepspeed.get("ops_prebuilt")))
    return out


def _cuda_major(digits: str) -> int:
    """cu118 and cu122 carry major and minor; flash-attn's cu11/cu12 the major only."""
    if len(digits) == 3 or (len(digits) == 2 and digits[0] != "1"):
        return int(digits[:-1])
    return int(digits)


def mismatches(build: Build, torch: Installed) -> list[str]:
    out = []
    if build.torch and torch.torch and build.torch != torch.torch:
        out.append(f"torch {build.torch} (installed: {torch.torch})")
    if build.cuda_major and torch.cuda_major and build.cuda_major != torch.cuda_major:
        out.append(f"CUDA {build.cuda_major}.x (torch has CUDA {torch.cuda_major}.x)")
    if build.cxx11_abi and torch.cxx11_abi and build.cxx11_abi != torch.cxx11_abi:
        out.append(f"C++ ABI cxx11abi{_abi(build.cxx11_abi)} (torch: cxx11abi{_abi(torch.cxx11_abi)})")
    return out


def _at_least(major_minor: str | None, floor: tuple[int, int]) -> bool:
    try:
        return Version(major_minor or "0").release >= floor
    except InvalidVersion:
        return False


def _abi(flag: str) -> str:
    return "TRUE" if flag == "1" else "FALSE"


def fix(build: Build, torch: Installed) -> str:
    base = build.found.partition("+")[0]
    if build.package in TORCH_LABELLED:
        label = _FLASH.search(build.found)
        cuda = (label.group(1) if label and build.cuda_major == torch.cuda_major
                else str(torch.cuda_major or 12))
        abi = torch.cxx11_abi or ("1" if _at_least(torch.torch, (2, 7)) else "0")
        module = build.package.replace("-", "_")
        wheel = f"{module}-{base}+cu{cuda}torch{torch.torch}cxx11abi{_abi(abi)}"
        return (f"pip install --no-cache-dir --force-reinstall --no-deps --no-build-isolation "
                f"{arg(f'{build.package}=={base}')}   # builds for this torch; or the release wheel "
                f"{one_line(wheel)}-*.whl")
    if build.package == "deepspeed":
        return (f"DS_BUILD_OPS=0 pip install --no-cache-dir --force-reinstall --no-deps "
                f"{arg(f'deepspeed=={base}')}   # ops then build just in time for this torch")
    return (f"pip install --force-reinstall --no-deps {arg(f'{build.package}=={base}')}"
            "   # the default CUDA build")


def records(snapshot: Snapshot) -> list[dict[str, Any]] | None:
    torch = installed_torch(snapshot)
    if torch is None:
        return None
    out = []
    for build in builds(snapshot):
        wrong = mismatches(build, torch)
        if wrong:
            found = build.found if build.wheel is None else \
                f"{build.found.partition('+')[0]} (installed from {build.wheel})"
            out.append({"package": build.package, "found": found,
                        "built_for": "; ".join(wrong), "severity": "error",
                        "fix": fix(build, torch)})
    return out
