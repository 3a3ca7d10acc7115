"""run_probe against failing children: injected failures and stand-in child scripts.

None of these import torch: injected failures fire before the first rung does its work.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

from vlmdoctor.errors import InputError
from vlmdoctor.probe import ProbeRequest, probe_findings, run_probe, torch_importable
from vlmdoctor.probe.protocol import INJECT_ENV
from vlmdoctor.probe.runner import GRACE_SECONDS

FakeChild = Callable[[str], "list[str]"]
ROOT = str(Path(__file__).resolve().parents[2])

# The children sleep 60 s: a bound well under that proves the kill, with room for process
# start-up on a loaded 2-core runner (issue 19: generous budgets, not tight timings).
SLACK = 15.0


def injected(spec: str, timeout: float = 30.0, **kwargs: object):  # type: ignore[no-untyped-def]
    env = {**os.environ, INJECT_ENV: spec}
    return run_probe(ProbeRequest(timeout=timeout, **kwargs), env=env)  # type: ignore[arg-type]


def ids(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [f.id for f in probe_findings(result)]


def test_segfault_is_a_crash_finding() -> None:
    result = injected("segfault")
    assert (result.status, result.error and result.error.kind) == ("failed", "crashed")
    assert result.error is not None
    assert result.error.message == "the child died with signal SIGSEGV"
    assert [(s.name, s.status) for s in result.steps] == [("import", "failed")]
    assert ids(result) == ["probe-crashed"]
    assert "Segmentation fault" in result.evidence["stderr_tail"]  # faulthandler's report
    finding = probe_findings(result)[0]
    assert finding.message.startswith(
        "Probe step 'import' failed: the child died with signal SIGSEGV. The child died")


def test_non_zero_exit_is_a_crash_finding() -> None:
    result = injected("exit3")
    assert result.error is not None
    assert result.error.message == "the child exited with status 3"
    assert ids(result) == ["probe-crashed"]
    assert probe_findings(result)[0].evidence["probe.stderr_tail"] == (
        "child: giving up with status 3")


def test_garbage_is_bad_output() -> None:
    result = injected("garbage")
    assert result.error is not None
    assert result.error.message == (
        "the child exited with status 0 but no result line (2 other lines on stdout; "
        "unexpected output: 'this is not a probe result')")
    assert ids(result) == ["probe-bad-output"]


def test_hang_is_killed_at_the_timeout_and_returns_promptly() -> None:
    started = time.monotonic()
    result = injected("hang", timeout=2.0)
    elapsed = time.monotonic() - started
    assert 2.0 <= elapsed < 2.0 + GRACE_SECONDS + SLACK
    assert result.status == "timeout"
    assert result.error is not None
    assert result.error.message == "no result within 2 s; the child was killed"
    assert [(s.name, s.status) for s in result.steps] == [("import", "timeout")]
    assert ids(result) == ["probe-timeout"]


@pytest.mark.parametrize(("message", "finding"), [
    ("CUDA error: no kernel image is available for execution on the device",
     "probe-no-kernel-image"),
    ("The NVIDIA driver on your system is too old (found version 11040).",
     "probe-driver-too-old"),
    ("CUDA out of memory. Tried to allocate 20.00 MiB", "probe-cuda-oom"),
    ("Expected all tensors to be on the same device, but found at least two devices, "
     "cuda:0 and cuda:1!", "probe-device-mismatch"),
    ("Cannot copy out of meta tensor; no data!", "probe-meta-tensor"),
    ("dtype bf16 is not supported natively on cuda:0 (sm_70)", "probe-dtype-unsupported"),
    ("libGL.so.1: cannot open shared object file: No such file or directory",
     "probe-missing-library"),
    ("libcudnn.so.9: cannot open shared object file: No such file or directory",
     "probe-missing-library"),
    ("flash_attn_2_cuda.so: undefined symbol: _ZN3c104cuda9SetDeviceEi", "probe-extension-abi"),
    ("ImportError: No module named 'transformers'", "probe-import-error"),
    ("FlashAttention only supports Ampere GPUs or newer.", "probe-flash-attn-unsupported-gpu"),
    ("CUDA is not available: this torch is a CPU-only build", "probe-no-cuda"),
    ("forward() got an unexpected keyword argument 'cache_position'", "probe-api-mismatch"),
    ("CUDA error: an illegal memory access was encountered", "probe-cuda-error"),
    ("something new", "probe-failed"),
])
def test_each_raised_error_is_classified(message: str, finding: str) -> None:
    result = injected(f"raise:{message}")
    assert result.status == "failed"
    assert result.error is not None
    assert result.error.message == f"RuntimeError: {message}"
    assert [(s.name, s.status) for s in result.steps] == [("import", "failed")]
    assert ids(result) == [finding]
    assert probe_findings(result)[0].message.startswith(
        f"Probe step 'import' failed: RuntimeError: {message.rstrip('.')}. ")


def test_child_ignoring_sigterm_is_killed(fake_child: FakeChild) -> None:
    command = fake_child("""
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print('@@vlmdoctor-probe@@ {"event": "step-start", "name": "cuda-init"}', flush=True)
        time.sleep(60)
    """)
    started = time.monotonic()
    result = run_probe(ProbeRequest(timeout=1.0), command=command)
    assert time.monotonic() - started < 1.0 + 2 * GRACE_SECONDS + SLACK
    assert result.status == "timeout"
    assert [(s.name, s.status) for s in result.steps] == [("cuda-init", "timeout")]


def test_grandchild_holding_the_pipes_is_killed_too(fake_child: FakeChild) -> None:
    command = fake_child("""
        import subprocess, sys, time
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        time.sleep(60)
    """)
    started = time.monotonic()
    result = run_probe(ProbeRequest(timeout=1.0), command=command)
    assert time.monotonic() - started < 1.0 + 2 * GRACE_SECONDS + SLACK
    assert ids(result) == ["probe-timeout"]
    assert result.error is not None
    assert result.error.message == "no result within 1 s; the child was killed before its first step"


def test_flood_of_output_is_bounded(fake_child: FakeChild) -> None:
    command = fake_child("""
        import sys
        line = "x" * 1023 + "\\n"
        for _ in range(8 * 1024):
            sys.stdout.write(line)
    """)
    result = run_probe(ProbeRequest(timeout=30), command=command)
    assert result.error is not None
    assert result.error.message.startswith(
        "the child exited with status 0 but its output exceeded the size limit before its first step")
    assert ids(result) == ["probe-bad-output"]


@pytest.mark.parametrize(("line", "why"), [
    ('@@vlmdoctor-probe@@ {"event": "result", "device": "gpu"', "no result line"),
    ('@@vlmdoctor-probe@@ {"event": "result", "device": "tpu", "generated_tokens": -1, '
     '"peak_memory_bytes": [], "error": null}',
     "malformed result (device, generated_tokens, peak_memory_bytes)"),
])
def test_malformed_result_is_bad_output(fake_child: FakeChild, line: str, why: str) -> None:
    result = run_probe(ProbeRequest(timeout=30), command=fake_child(f"print({line!r})"))
    assert result.error is not None
    assert result.error.message == (
        f"the child exited with status 0 but {why} before its first step (0 other lines on stdout)"
        if why != "no result line" else
        "the child exited with status 0 but no result line before its first step "
        f"(1 other lines on stdout; unexpected output: {line!r})")
    assert ids(result) == ["probe-bad-output"]


def test_interpreter_that_cannot_start() -> None:
    result = run_probe(ProbeRequest(python="/nonexistent/python3", timeout=5))
    assert (result.status, ids(result)) == ("failed", ["probe-launch-failed"])
    assert result.error is not None
    assert result.error.message.startswith("could not start /nonexistent/python3: FileNotFoundError")


def test_missing_weights_directory_is_bad_input(tmp_path: object) -> None:
    with pytest.raises(InputError) as err:
        run_probe(ProbeRequest(weights="/nonexistent/weights"))
    assert str(err.value) == "probe: --weights /nonexistent/weights: not a directory"


def test_torch_importable() -> None:
    import importlib.util

    assert torch_importable() is (importlib.util.find_spec("torch") is not None)
    assert torch_importable("/nonexistent/python3") is False
    assert torch_importable(os.path.realpath(sys.executable) + "-not-there") is False


@pytest.mark.parametrize(("raises", "finding"), [
    ("ImportError('libcudnn.so.9: cannot open shared object file: No such file or directory')",
     "probe-missing-library"),
    ("ImportError('/x/torch/lib/libtorch_cuda.so: undefined symbol: ncclCommRegister')",
     "probe-extension-abi"),
    ("ModuleNotFoundError(\"No module named 'torch._C'\")", "probe-import-error"),
])
def test_a_broken_torch_fails_the_import_step(tmp_path: Path, raises: str, finding: str) -> None:
    fake = tmp_path / "site" / "torch"
    fake.mkdir(parents=True)
    # Library chatter on stdout, even without a newline, must not corrupt the protocol.
    (fake / "__init__.py").write_text(f"print('noise', end='')\nraise {raises}\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    result = run_probe(ProbeRequest(timeout=30), env=env)
    assert [(s.name, s.status) for s in result.steps] == [("import", "failed")]
    assert ids(result) == [finding]
    assert result.evidence["stderr_tail"] == "noise"


def test_the_child_imports_only_the_standard_library_and_vlmdoctor() -> None:
    code = ("import sys; before = set(sys.modules); import vlmdoctor.probe.child; "
            "print(' '.join(sorted({m.split('.')[0] for m in set(sys.modules) - before})))")
    done = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {ROOT!r}); {code}"],
                          capture_output=True, text=True, timeout=30, check=True)
    third_party = set(done.stdout.split()) - set(sys.stdlib_module_names) - {"vlmdoctor"}
    assert third_party == set()
