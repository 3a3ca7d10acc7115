"""The system CUDA toolkit, found the way torch.utils.cpp_extension finds it.

Order: $CUDA_HOME / $CUDA_PATH, then the directory above the ``nvcc`` on PATH,
then /usr/local/cuda. The version comes from files (version.json, the
``CUDA_VERSION`` macro in include/cuda.h, version.txt): no subprocess.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Mapping

from vlmdoctor.snapshot import CudaToolkit

_CUDA_H = re.compile(r"#define\s+CUDA_VERSION\s+(\d+)")
_VERSION_TXT = re.compile(r"CUDA Version\s+(\d+)\.(\d+)")
_WRAPPED = re.compile(r"(/[^\s\"']+)/bin/nvcc\b")


def find_cuda_home(environ: Mapping[str, str]) -> Path | None:
    for var in ("CUDA_HOME", "CUDA_PATH"):
        value = environ.get(var)
        if value:
            return Path(value)
    nvcc = _which("nvcc", environ.get("PATH", os.defpath))
    if nvcc:
        return Path(nvcc).resolve().parent.parent
    default = Path("/usr/local/cuda")
    return default if default.exists() else None


def _which(name: str, search: str) -> str | None:
    """``shutil.which`` for one POSIX name (shutil costs the gate milliseconds to import)."""
    if os.name == "nt":
        import shutil

        return shutil.which(name, path=search)
    for folder in search.split(os.pathsep):
        candidate = os.path.join(folder or ".", name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _search_head(path: Path, pattern: re.Pattern[str], head: int = 65536) -> re.Match[str] | None:
    """``pattern`` in the file, looking at its first ``head`` bytes first: cuda.h is over a
    megabyte and defines CUDA_VERSION near its top (a few hundred lines in)."""
    with open(path, "rb") as handle:
        text = handle.read(head).decode("utf-8", "replace")
        found = pattern.search(text)
        if found is None:
            text += handle.read().decode("utf-8", "replace")
            found = pattern.search(text)
    return found


def toolkit_version(home: Path) -> str | None:
    try:
        data = json.loads((home / "version.json").read_text(encoding="utf-8"))
        full = str(data["cuda"]["version"])
        major, minor = full.split(".")[:2]
        return f"{int(major)}.{int(minor)}"
    except (OSError, ValueError, KeyError, TypeError):
        pass
    try:
        match = _search_head(home / "include" / "cuda.h", _CUDA_H)
        if match:
            number = int(match.group(1))
            return f"{number // 1000}.{(number % 1000) // 10}"
    except OSError:
        pass
    try:
        txt = _VERSION_TXT.search((home / "version.txt").read_text(errors="replace"))
        if txt:
            return f"{int(txt.group(1))}.{int(txt.group(2))}"
    except OSError:
        pass
    return None


def read_toolkit(environ: Mapping[str, str]) -> tuple[CudaToolkit | None, str | None]:
    home = find_cuda_home(environ)
    if home is None:
        return None, None
    has_nvcc = (home / "bin" / "nvcc").exists() or (home / "bin" / "nvcc.exe").exists()
    version = toolkit_version(home) if has_nvcc else None
    if has_nvcc and version is None:
        real = _wrapped_home(home / "bin" / "nvcc")
        version = toolkit_version(real) if real is not None else None
    reason = None
    if not has_nvcc:
        reason = f"no nvcc under {home}/bin"
    elif version is None:
        reason = f"nvcc found under {home} but no version.json, include/cuda.h or version.txt"
    return CudaToolkit(nvcc=version, cuda_home=str(home)), reason


def _wrapped_home(nvcc: Path) -> Path | None:
    """``nvcc`` is sometimes a small shell wrapper (``exec /usr/local/cuda-13.0/bin/nvcc``)."""
    try:
        with nvcc.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return None
    if not head.startswith(b"#!"):
        return None
    match = _WRAPPED.search(head.decode("utf-8", "replace"))
    return Path(match.group(1)) if match else None
