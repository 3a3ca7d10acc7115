"""Which CUDA library bitsandbytes will load, and whether its wheel ships it.

Selection, per release (bitsandbytes/cextension.py, get_cuda_bnb_library_path):
- ``libbitsandbytes_cuda{XY}`` for torch's CUDA X.Y; ``BNB_CUDA_VERSION=XY`` replaces XY;
- before 0.45, GPUs below compute capability 7.5 (no cuBLASLt int8) load the
  ``_nocublaslt`` variant;
- from 0.50 on (PR #1980), with no override, a missing X.Y falls back to another
  library of the same CUDA major; never across majors.
The libraries shipped are the ``libbitsandbytes_*`` entries of the wheel's RECORD.
"""

from __future__ import annotations

import re
from typing import Any

from packaging.version import InvalidVersion, Version

from vlmdoctor.snapshot import Snapshot

_CUDA_LIB = re.compile(r"^libbitsandbytes_cuda(\d+)(_nocublaslt)?$")


def _stems(libraries: Any) -> set[str]:
    if not isinstance(libraries, list):
        return set()
    return {str(name).split(".", 1)[0] for name in libraries}


def expected_library(snapshot: Snapshot) -> dict[str, Any] | None:
    """A record when the library bitsandbytes will look for is not in its wheel."""
    found = snapshot.packages.get("bitsandbytes")
    record = (snapshot.extensions or {}).get("bitsandbytes") or {}
    shipped = _stems(record.get("libraries"))
    torch = snapshot.torch
    if not found or not shipped or torch is None or not torch.cuda:
        return None
    try:
        release, cuda = Version(found), Version(torch.cuda)
    except InvalidVersion:
        return None
    override = snapshot.env.get("BNB_CUDA_VERSION")
    wanted = f"libbitsandbytes_cuda{override or f'{cuda.major}{cuda.minor}'}"
    old_gpu = any(g.compute_capability and Version(g.compute_capability) < Version("7.5")
                  for g in snapshot.gpus)
    if release < Version("0.45") and old_gpu:
        wanted += "_nocublaslt"
    if wanted in shipped:
        return None
    cuda_tags = sorted({m.group(1) for m in map(_CUDA_LIB.match, shipped) if m},
                       key=lambda t: (len(t), t))
    if release >= Version("0.50") and not override and any(
            _major(tag) == cuda.major for tag in cuda_tags):
        return None
    if override:
        why = (f"BNB_CUDA_VERSION={override} makes bitsandbytes {found} load {wanted}, which "
               "its wheel does not ship")
        fix = "unset BNB_CUDA_VERSION   # or set it to one of the shipped CUDA versions"
    else:
        why = (f"bitsandbytes {found} looks for {wanted} (torch's CUDA {torch.cuda}), which "
               "its wheel does not ship")
        fix = "pip install --upgrade bitsandbytes   # newer releases ship more CUDA versions"
    return {"package": "bitsandbytes", "found": found, "spec": wanted, "why": why,
            "built_for": ", ".join(f"CUDA {t[:-1]}.{t[-1]}" for t in cuda_tags) or "no CUDA",
            "fix": fix, "severity": "warning"}


def _major(tag: str) -> int:
    return int(tag[:-1])
