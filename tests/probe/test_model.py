from __future__ import annotations

import json

import pytest

from vlmdoctor.errors import InputError
from vlmdoctor.probe import ProbeError, ProbeRequest, ProbeResult, ProbeStep


def test_request_defaults() -> None:
    import sys

    r = ProbeRequest()
    assert (r.python, r.device, r.dtype, r.timeout, r.max_new_tokens) == (
        sys.executable, "auto", None, 120.0, 8)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"device": "gpu"}, "probe: --device must be one of auto, cpu, cuda, not 'gpu'"),
    ({"dtype": "int8"}, "probe: --dtype must be one of bf16, fp16, fp32, not 'int8'"),
    ({"timeout": 0}, "probe: --timeout must be a positive number of seconds, not 0"),
    ({"timeout": float("nan")}, "probe: --timeout must be a positive number of seconds, not nan"),
    ({"max_new_tokens": 0}, "probe: max_new_tokens must be between 1 and 256, not 0"),
    ({"device_map": {"lm_head": "gpu1"}},
     "probe: device_map entry 'lm_head': 'gpu1' must map a module name to a GPU index, 'cpu' or 'disk'"),
])
def test_request_rejects_bad_input(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InputError) as err:
        ProbeRequest(**kwargs)  # type: ignore[arg-type]
    assert str(err.value) == message


RESULT = ProbeResult(
    status="failed", device="cuda",
    steps=(ProbeStep("import", "passed", 2.5, "torch 2.4.0"),
           ProbeStep("cuda-init", "passed", 0.3, "cuda:0 …"),
           ProbeStep("matmul", "failed", 0.1, "RuntimeError: CUDA error: no kernel image")),
    generated_tokens=0, tokens_per_second=None, peak_memory_bytes={1: 20, 0: 10},
    error=ProbeError("no-kernel-image", "RuntimeError: CUDA error: no kernel image"),
    evidence={"returncode": 0})


def test_to_dict_is_exactly_the_documented_shape() -> None:
    data = RESULT.to_dict()
    assert list(data) == ["status", "device", "steps", "generated_tokens", "tokens_per_second",
                          "peak_memory_bytes", "error"]
    assert data["steps"][2] == {"name": "matmul", "status": "failed", "seconds": 0.1,
                                "detail": "RuntimeError: CUDA error: no kernel image"}
    assert data["peak_memory_bytes"] == {"0": 10, "1": 20}
    assert list(data["peak_memory_bytes"]) == ["0", "1"]
    assert data["error"] == {"kind": "no-kernel-image",
                             "message": "RuntimeError: CUDA error: no kernel image"}
    assert RESULT.failed_step == "matmul"


def test_round_trips_through_json() -> None:
    again = ProbeResult.from_dict(json.loads(json.dumps(RESULT.to_dict())))
    assert again == RESULT  # evidence is not part of equality


def test_skipped() -> None:
    result = ProbeResult.skipped("torch is not importable")
    assert result.to_dict() == {"status": "skipped", "device": None, "steps": [],
                                "generated_tokens": 0, "tokens_per_second": None,
                                "peak_memory_bytes": {}, "error": None}
    assert result.evidence == {"reason": "torch is not importable"}


def test_from_dict_rejects_garbage() -> None:
    with pytest.raises(InputError) as err:
        ProbeResult.from_dict({"status": "exploded"})
    assert str(err.value) == "probe section is malformed: status 'exploded'"
