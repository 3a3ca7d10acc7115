"""The files NCCL_TOPO_FILE and NCCL_GRAPH_FILE name, read as text and never executed.

Only the <gpu ...> tags are looked at (``dev`` and ``sm`` attributes), with bounded
patterns over at most MAX_BYTES; anything but a regular file counts as missing, so a
FIFO or device node can never block the gate.
"""

from __future__ import annotations

import os
import re
import stat
from typing import Mapping

from vlmdoctor.snapshot import NcclFile

VARS = ("NCCL_TOPO_FILE", "NCCL_GRAPH_FILE")
MAX_BYTES = 4 << 20
_GPU_TAG = re.compile(r"<gpu\b([^<>]{0,400})>")
_ATTR = re.compile(r"\b(dev|sm)=\"(\d{1,6})\"")


def read_nccl_files(environ: Mapping[str, str]) -> dict[str, NcclFile]:
    return {name: describe(environ[name], graph=name == "NCCL_GRAPH_FILE")
            for name in VARS if environ.get(name)}


def describe(path: str, graph: bool) -> NcclFile:
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return NcclFile(exists=False)
        with open(path, "rb") as handle:
            text = handle.read(MAX_BYTES).decode("utf-8", "replace")
    except FileNotFoundError:
        return NcclFile(exists=False)
    except OSError:  # there, but unreadable: nothing to compare
        return NcclFile(exists=True)
    tags = [dict(_ATTR.findall(m.group(1))) for m in _GPU_TAG.finditer(text)]
    if not tags:
        return NcclFile(exists=True)
    devs = {t["dev"] for t in tags if "dev" in t}
    count = len(devs) if graph else len(tags)  # a graph file names each GPU once per channel
    sms = tuple(sorted({t["sm"] for t in tags if "sm" in t}))
    return NcclFile(exists=True, gpus=count, sms=sms)
