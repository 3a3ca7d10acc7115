"""GPUs the driver enumerates but that cannot be used, one record each (``gpus.unusable``).

The snapshot keeps them apart from the usable GPUs (``Snapshot.failed_gpus``, written as
``gpus[].error``); reports from before that field recorded a device NVML could not read as
``unavailable["gpus[N]"]``, and those count too, so replaying an old report still fails.
"""

from __future__ import annotations

import re
from typing import Any

from vlmdoctor.snapshot import Snapshot

_OLD_KEY = re.compile(r"gpus\[([0-9]{1,4})\]")


def unusable_gpus(snapshot: Snapshot) -> list[dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    for gpu in snapshot.failed_gpus:
        found[gpu.index] = _record(gpu.index, gpu.name, gpu.error or "unusable")
    for key, reason in snapshot.unavailable.items():
        match = _OLD_KEY.fullmatch(key)
        if match and int(match.group(1)) not in found:
            found[int(match.group(1))] = _record(int(match.group(1)), None, reason)
    return [found[index] for index in sorted(found)]


def reset_pending(snapshot: Snapshot) -> list[dict[str, Any]]:
    return [_record(g.index, g.name, g.reset_pending) for g in snapshot.gpus
            if g.reset_pending]


def _record(index: int, name: str | None, why: str) -> dict[str, Any]:
    return {
        "where": f"GPU {index}" + (f" ({name})" if name else ""),
        "why": why,
        "fix": f"nvidia-smi -q -i {index} -d ECC,PAGE_RETIREMENT,ROW_REMAPPER   "
               "# this GPU's memory faults and pending retirements",
    }
