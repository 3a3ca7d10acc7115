"""The probe: run a real ladder of GPU checks in a child process with a hard timeout.

The only part of vlmdoctor that touches torch, transformers or CUDA, and it does so only
in the child (``vlmdoctor.probe.child``), in the interpreter being diagnosed. Everything
imported here is standard library: the child imports this package too.
"""

from __future__ import annotations

from vlmdoctor.probe.findings import probe_findings, probe_summary_lines
from vlmdoctor.probe.model import ProbeError, ProbeRequest, ProbeResult, ProbeStep
from vlmdoctor.probe.runner import run_probe, torch_importable

__all__ = [
    "ProbeError",
    "ProbeRequest",
    "ProbeResult",
    "ProbeStep",
    "probe_findings",
    "probe_summary_lines",
    "run_probe",
    "torch_importable",
]
