"""The line protocol between the probe's child and its parent (stdlib only).

The child writes one event per line to stdout, each prefixed with ``MARKER``:
``step-start`` and ``step-end`` as the ladder runs, ``device`` once the device is
chosen, and exactly one ``result`` at the end. Everything else on stdout (library
chatter) is ignored. The parent never trusts an event's shape: it validates it.

This module runs inside the diagnosed interpreter, so it must import nothing but
the standard library and stay Python 3.9 compatible.
"""

from __future__ import annotations

import json
from typing import Any

MARKER = "@@vlmdoctor-probe@@ "
INJECT_ENV = "VLMDOCTOR_PROBE_INJECT"  # test-only: segfault|hang|garbage|exit3|raise[@step]:message
CHILD_MODULE = "vlmdoctor.probe.child"

STEP_IMPORT = "import"
STEP_CUDA = "cuda-init"
STEP_MATMUL = "matmul"
STEP_ATTENTION = "attention"
STEP_P2P = "p2p"
STEP_TINY = "tiny-vlm"
STEP_WEIGHTS = "weights"
STEP_LOCAL = "local-model"
LADDER = (STEP_IMPORT, STEP_CUDA, STEP_MATMUL, STEP_ATTENTION, STEP_P2P, STEP_TINY)

NO_GPU = "no CUDA GPU"  # how a cuda-init step skipped for want of a GPU starts its detail
META_ONLY = "meta device only"  # how a local-model step that only ran __init__ starts
IN_MODEL_CODE = "in the model's code: "  # starts the error line quoting the model's frame
IN_TRANSFORMERS = "in transformers: "  # the innermost frame is transformers' shared code
IN_PROBE = "in the probe: "  # the innermost frame is vlmdoctor's own probe code
REMOTE_NOT_RUN = "remote code not run"  # how a rung that refused the model's code starts
TRUST_FLAG = "--trust-remote-code"
DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("bf16", "fp16", "fp32")


def encode(event: dict[str, Any]) -> str:
    """One protocol line (without the newline). Non-finite floats become null."""
    return MARKER + json.dumps(_finite(event), separators=(",", ":"))


def decode(line: str) -> dict[str, Any] | None:
    """The event on a marker line, or None when the line is not a well-formed event."""
    if not line.startswith(MARKER):
        return None
    try:
        value = json.loads(line[len(MARKER):])
    except ValueError:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("event"), str):
        return None
    return value


def _finite(value: Any) -> Any:
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
