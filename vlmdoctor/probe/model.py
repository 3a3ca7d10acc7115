"""The probe's data at the seams: what the caller asks for and what comes back."""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vlmdoctor.errors import InputError
from vlmdoctor.probe.protocol import DEVICES, DTYPES

STATUSES = ("passed", "failed", "timeout", "skipped")
STEP_STATUSES = ("passed", "failed", "skipped", "timeout")


@dataclass(frozen=True)
class ProbeRequest:
    """What to probe. Bad values raise ``InputError`` (exit 2), nothing else does."""

    python: str = field(default_factory=lambda: sys.executable)
    family: str | None = None
    hf_model_type: str | None = None
    device: str = "auto"
    dtype: str | None = None
    weights: str | None = None
    timeout: float = 120.0
    max_new_tokens: int = 8
    device_map: Mapping[str, int | str] | None = None
    trust_remote_code: bool = False
    model_path: str | None = None  # a local model directory: the probe builds its own code

    def __post_init__(self) -> None:
        if self.device not in DEVICES:
            raise InputError(f"probe: --device must be one of {', '.join(DEVICES)}, "
                             f"not {self.device!r}")
        if self.dtype is not None and self.dtype not in DTYPES:
            raise InputError(f"probe: --dtype must be one of {', '.join(DTYPES)}, "
                             f"not {self.dtype!r}")
        if not (isinstance(self.timeout, (int, float)) and math.isfinite(self.timeout)
                and self.timeout > 0):
            raise InputError(f"probe: --timeout must be a positive number of seconds, "
                             f"not {self.timeout!r}")
        if isinstance(self.max_new_tokens, bool) or not 1 <= self.max_new_tokens <= 256:
            raise InputError(f"probe: max_new_tokens must be between 1 and 256, "
                             f"not {self.max_new_tokens!r}")
        for key, value in (self.device_map or {}).items():
            ok = (isinstance(value, int) and not isinstance(value, bool) and value >= 0) or (
                value in ("cpu", "disk"))
            if not isinstance(key, str) or not ok:
                raise InputError(f"probe: device_map entry {key!r}: {value!r} must map a "
                                 "module name to a GPU index, 'cpu' or 'disk'")


@dataclass(frozen=True)
class ProbeStep:
    name: str
    status: str
    seconds: float
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "seconds": self.seconds,
                "detail": self.detail}


@dataclass(frozen=True)
class ProbeError:
    kind: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message}


@dataclass(frozen=True)
class ProbeResult:
    """The report's ``probe`` section. ``evidence`` (stderr tail, exit status, the step
    that failed, the device asked for) feeds findings and stays out of ``to_dict``."""

    status: str
    device: str | None
    steps: tuple[ProbeStep, ...] = ()
    generated_tokens: int = 0
    tokens_per_second: float | None = None
    peak_memory_bytes: Mapping[int, int] = field(default_factory=dict)
    error: ProbeError | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def skipped(cls, reason: str) -> ProbeResult:
        return cls(status="skipped", device=None, error=None,
                   evidence={"reason": reason})

    @property
    def failed_step(self) -> str | None:
        bad = [s.name for s in self.steps if s.status in ("failed", "timeout")]
        return bad[-1] if bad else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "device": self.device,
            "steps": [s.to_dict() for s in self.steps],
            "generated_tokens": self.generated_tokens,
            "tokens_per_second": self.tokens_per_second,
            "peak_memory_bytes": {str(k): v for k, v in sorted(self.peak_memory_bytes.items())},
            "error": None if self.error is None else self.error.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProbeResult:
        """Read a ``probe`` section back (``--from-report``); raises ``InputError``."""
        try:
            status = data["status"]
            if status not in STATUSES:
                raise ValueError(f"status {status!r}")
            steps = tuple(ProbeStep(name=str(s["name"]), status=str(s["status"]),
                                    seconds=float(s["seconds"]), detail=str(s["detail"]))
                          for s in data.get("steps") or [])
            err = data.get("error")
            tps = data.get("tokens_per_second")
            return cls(
                status=status, device=data.get("device"), steps=steps,
                generated_tokens=int(data.get("generated_tokens") or 0),
                tokens_per_second=None if tps is None else float(tps),
                peak_memory_bytes={int(k): int(v) for k, v in
                                   (data.get("peak_memory_bytes") or {}).items()},
                error=None if err is None else ProbeError(str(err["kind"]), str(err["message"])),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"probe section is malformed: {exc}") from None
