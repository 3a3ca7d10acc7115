"""The probe's view of torch (its real CUDA version and arch list) against the tables.

The table of wheel arch lists (rules/data/cuda.yaml) is knowledge about official builds;
the imported torch is the truth. When both exist and differ, the truth wins: the finding
says which GPUs the real arch list supports and which the table-based checks got wrong.
"""

from __future__ import annotations

from typing import Any, Mapping

from vlmdoctor.evaluate.derive import current_arch_build, gpu_label
from vlmdoctor.knowledge.tables import ArchBuild, CudaTables
from vlmdoctor.report import Finding
from vlmdoctor.snapshot import Snapshot

FINDING_ID = "torch-build-differs-from-table"
REFERENCES = ("https://pytorch.org/docs/stable/generated/torch.cuda.get_arch_list.html",
              "https://github.com/pytorch/pytorch/blob/main/RELEASE.md#pytorch-cuda-support-matrix")


def real_build(real: Mapping[str, Any], tag: str, torch: str) -> ArchBuild | None:
    names = real.get("arch_list")
    if not isinstance(names, list):
        return None
    archs: list[str] = []
    ptx: list[str] = []
    for name in map(str, names):
        kind, _, digits = name.partition("_")
        if not digits.isdigit() or len(digits) < 2:
            continue
        cc = f"{digits[:-1]}.{digits[-1]}"
        if kind == "sm":
            archs.append(cc)
        elif kind == "compute":
            ptx.append(cc)
    return ArchBuild(tag, torch, tuple(archs), tuple(ptx)) if archs or ptx else None


def compare(snapshot: Snapshot, tables: CudaTables, real: Mapping[str, Any]) -> Finding | None:
    table = current_arch_build(snapshot, tables)
    torch = snapshot.torch
    if table is None or torch is None:
        return None
    truth = real_build(real, table.tag, table.torch)
    differences = []
    real_cuda = real.get("cuda")
    if isinstance(real_cuda, str) and real_cuda != torch.cuda:
        differences.append(f"CUDA {real_cuda} (the installed files say {torch.cuda})")
    if truth is not None and set(truth.sm_list()) != set(table.sm_list()):
        differences.append(f"arch list {' '.join(truth.sm_list())} (the table for "
                           f"{table.tag}, torch {table.torch}: {' '.join(table.sm_list())})")
    if not differences:
        return None
    changed = []
    for gpu in snapshot.gpus if truth is not None else ():
        cc = gpu.compute_capability
        if cc and truth is not None and truth.runs_on(cc) != table.runs_on(cc):
            verdict = "runs" if truth.runs_on(cc) else "does NOT run"
            changed.append(f"{gpu_label(gpu)} {verdict} this build")
    withdraws = []
    if truth is not None and snapshot.gpus and all(
            truth.runs_on(g.compute_capability) for g in snapshot.gpus if g.compute_capability):
        withdraws = ["torch-arch-missing"]
    consequence = ("; by the real list " + "; ".join(changed) + ", so table-based findings "
                   "about these GPUs (torch-arch-missing) are wrong here" if changed else "")
    broken = truth is not None and any(g.compute_capability and not truth.runs_on(
        g.compute_capability) for g in snapshot.gpus)
    return Finding(
        id=FINDING_ID, severity="error" if broken else "warning" if changed else "info",
        title=f"torch {torch.version} reports a different build than vlmdoctor's table",
        message=("The imported torch reports " + "; ".join(differences) + ". The real build "
                 "wins" + consequence + ". Please report this so the table can be corrected."),
        fix=("python -c \"import torch; print(torch.__version__, torch.version.cuda, "
             "torch.cuda.get_arch_list())\"",),
        references=REFERENCES,
        evidence={"probe.torch_cuda": real_cuda, "probe.arch_list": real.get("arch_list"),
                  "compat.torch_archs": table.sm_list(),
                  **({"withdraws": withdraws} if withdraws and changed else {})})
