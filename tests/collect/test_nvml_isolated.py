"""NVML out of process, proven against a fake libnvidia-ml.so.1 in every fault mode, and
the adapter against a fake pynvml raising real ``pynvml.NVMLError`` codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.conftest import ROOT
from vlmdoctor.collect import nvml_isolated
from vlmdoctor.collect.nvml import PynvmlApi, read_inventory
from vlmdoctor.collect.nvml_isolated import interpret, library_present
from vlmdoctor.snapshot import Driver, Gpu

SOURCE = Path(__file__).resolve().parent / "fake_nvml" / "fake_nvml.c"
A100 = {"index": 0, "name": "NVIDIA A100-SXM4-80GB", "memory_total_mib": 81920,
        "memory_free_mib": 60000, "compute_capability": "8.0"}


@pytest.fixture(scope="session")
def fake_nvml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None or not sys.platform.startswith("linux"):
        pytest.skip("needs gcc on Linux to build the fake libnvidia-ml.so.1")
    out = tmp_path_factory.mktemp("fake-nvml")
    subprocess.run([gcc, "-shared", "-fPIC", "-O1", "-o", str(out / "libnvidia-ml.so.1"),
                    str(SOURCE)], check=True, capture_output=True, timeout=120)
    return out


def _run(fake: Path, mode: str, *args: str) -> tuple[int, dict[str, Any], str]:
    tag = uuid.uuid4().hex
    env = dict(os.environ, LD_LIBRARY_PATH=str(fake), FAKE_NVML_MODE=mode, FAKE_NVML_TAG=tag,
               VLMDOCTOR_NVML_TIMEOUT="3", PYTHONPATH=str(ROOT), VLMDOCTOR_NO_CACHE="1")
    done = subprocess.run([sys.executable, "-m", "vlmdoctor", *args, "--format", "json"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert _tagged(tag) == [], "an NVML reader outlived vlmdoctor"
    return done.returncode, json.loads(done.stdout) if done.stdout else {}, done.stderr


def _tagged(tag: str) -> list[int]:
    """Live processes started with FAKE_NVML_TAG=tag (zombies have ended)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if f"FAKE_NVML_TAG={tag}".encode() in environ and state not in ("Z", "X"):
            found.append(int(entry.name))
    return found


def test_normal(fake_nvml: Path) -> None:
    code, env, err = _run(fake_nvml, "normal", "env")
    assert code == 0, err
    assert env["driver"] == {"version": "535.104.05", "cuda": "12.2"}
    assert env["gpus"] == [A100, {**A100, "index": 1}]
    assert "driver" not in env["unavailable"] and "gpus" not in env["unavailable"]


def test_memory_not_supported_is_unknown_and_not_planned(fake_nvml: Path) -> None:
    code, env, err = _run(fake_nvml, "nomem", "env")
    assert code == 0, err
    assert env["gpus"][0] == {**A100, "memory_total_mib": None, "memory_free_mib": None}
    code, report, err = _run(fake_nvml, "nomem", "check", "--no-probe", "-m", "internvl2-8b")
    assert code in (0, 1), err
    ids = {f["id"] for f in report["findings"]}
    assert "plan-no-gpu-memory" in ids and "plan-does-not-fit" not in ids


def test_odd_capability_is_dropped(fake_nvml: Path) -> None:
    code, env, err = _run(fake_nvml, "oddcc", "env")
    assert code == 0, err
    assert [g["compute_capability"] for g in env["gpus"]] == [None, None]


@pytest.mark.parametrize(("mode", "driver", "reason"), [
    ("segfault", {"version": "535.104.05", "cuda": "12.2"},
     "the NVIDIA driver library crashed (SIGSEGV) during gpus[0]"),
    ("abort", None, "the NVIDIA driver library crashed (SIGABRT) during init"),
    ("hang", None, "NVML did not answer within 3 s (init): driver hung or GPU in a bad state"),
])
def test_driver_faults_become_findings_and_the_check_goes_on(fake_nvml: Path, mode: str,
                                                             driver: Any, reason: str) -> None:
    code, report, err = _run(fake_nvml, mode, "check", "--no-probe", "-m", "qwen2-vl-7b-instruct")
    assert code == 1, err
    env = report["environment"]
    assert env.get("driver") == driver and "gpus" not in env  # unknown, not "none"
    assert env["unavailable"]["gpus"] == reason
    failed = [f for f in report["findings"] if f["id"] == "nvml-failed"]
    assert len(failed) == 1 and reason in failed[0]["message"]
    assert env["packages"] and "torch" in env and "host" in env  # the rest was collected
    assert report["summary"]["errors"] >= 1 and report["target"]["model"]


def test_terminal_escapes_from_nvml_never_reach_the_terminal(fake_nvml: Path) -> None:
    env = dict(os.environ, LD_LIBRARY_PATH=str(fake_nvml), FAKE_NVML_MODE="escape",
               PYTHONPATH=str(ROOT), VLMDOCTOR_NO_CACHE="1")
    done = subprocess.run([sys.executable, "-m", "vlmdoctor", "env"], capture_output=True,
                          text=True, env=env, timeout=120)
    assert "\x1b" not in done.stdout
    assert "NVIDIA \\x1b[2J\\nVerdict: PASS" in done.stdout
    assert not any(line.startswith("Verdict") for line in done.stdout.splitlines())


def test_library_is_found_without_loading_it(fake_nvml: Path) -> None:
    assert library_present({"LD_LIBRARY_PATH": str(fake_nvml)})


def test_no_library_no_child(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_child(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("no child may start when there is no NVML library")

    monkeypatch.setattr(nvml_isolated, "library_present", lambda: False)
    import subprocess  # the module imports it only when it starts a child

    monkeypatch.setattr(subprocess, "Popen", no_child)
    inv = nvml_isolated.read_inventory_isolated()
    assert inv.driver is None and inv.unavailable == {"driver": nvml_isolated.NOT_FOUND}


def test_interpret_keeps_what_was_read_before_a_crash() -> None:
    lines = "\n".join(json.dumps(e) for e in [
        {"step": "init"}, {"value": "init", "data": None},
        {"step": "driver_version"}, {"value": "driver_version", "data": "550.54.14"},
        {"step": "cuda_driver_version"}, {"value": "cuda_driver_version", "data": 12040},
        {"step": "device_count"}, {"value": "device_count", "data": 8}, {"step": "gpus[3]"}])
    inv = interpret(lines + "\n{not json", -11, False, 10)
    assert inv.driver == Driver(version="550.54.14", cuda="12.4")
    assert inv.gpus == () and inv.unknown == frozenset({"gpus"})
    assert inv.unavailable == {"gpus": "the NVIDIA driver library crashed (SIGSEGV) during gpus[3]"}


class FakePynvml:
    """pynvml's surface, raising the real pynvml.NVMLError for chosen calls."""

    def __init__(self, errors: dict[str, int], health: dict[str, Any] | None = None) -> None:
        import pynvml

        self.errors = {name: pynvml.NVMLError(code) for name, code in errors.items()}
        self.health = health or {}

    def _maybe(self, name: str) -> None:
        if name in self.errors:
            raise self.errors[name]

    def __getattr__(self, name: str) -> Any:
        values = {
            "nvmlInit": None, "nvmlShutdown": None,
            "nvmlSystemGetDriverVersion": "550.54.14", "nvmlSystemGetCudaDriverVersion_v2": 12040,
            "nvmlDeviceGetCount": 2, "nvmlDeviceGetName": b"NVIDIA H100 80GB HBM3",
            "nvmlDeviceGetMemoryInfo": SimpleNamespace(total=81559 << 20, free=80000 << 20),
            "nvmlDeviceGetCudaComputeCapability": (9, 0),
        }

        def call(*args: Any) -> Any:
            self._maybe(name)
            if name == "nvmlDeviceGetHandleByIndex":
                self._maybe(f"{name}:{args[0]}")
                return args[0]
            if name in self.health:
                return self.health[name]
            if name not in values:  # a call these bindings lack
                raise AttributeError(name)
            return values[name]
        return call


@pytest.mark.parametrize(("errors", "expected"), [
    ({"nvmlInit": 12}, {"driver": "NVML library not found (libnvidia-ml.so.1): no NVIDIA "
                                   "driver installed or not visible"}),
    ({"nvmlInit": 9}, {"driver": "NVIDIA driver not loaded (is the kernel module installed and "
                                 "loaded?)"}),
    ({"nvmlInit": 4}, {"driver": "no permission to access the NVIDIA device files"}),
    ({"nvmlSystemGetCudaDriverVersion_v2": 3, "nvmlSystemGetCudaDriverVersion": 3},
     {"driver.cuda": "NVML error: Not Supported"}),
])
def test_adapter_maps_real_nvml_errors(errors: dict[str, int], expected: dict[str, str]) -> None:
    inv = read_inventory(PynvmlApi(FakePynvml(errors)))
    assert inv.unavailable == expected


@pytest.mark.parametrize(("errors", "error"), [
    ({"nvmlDeviceGetHandleByIndex:1": 15}, "NVML error: GPU is lost"),
    ({"nvmlDeviceGetHandleByIndex:1": 999}, "NVML error: Unknown Error"),
])
def test_adapter_an_unreadable_device_is_kept_with_its_error(errors: dict[str, int],
                                                             error: str) -> None:
    inv = read_inventory(PynvmlApi(FakePynvml(errors)))
    assert inv.unavailable == {}
    assert [(g.index, g.error) for g in inv.gpus] == [(0, None), (1, error)]
    assert inv.gpus[1].name is None


@pytest.mark.parametrize(("errors", "error"), [
    ({"nvmlDeviceGetMemoryInfo": 15}, "memory: NVML error: GPU is lost"),
    ({"nvmlDeviceGetCudaComputeCapability": 999}, "compute capability: NVML error: Unknown Error"),
    ({"nvmlDeviceGetTotalEccErrors": 15}, "ECC error count: NVML error: GPU is lost"),
])
def test_adapter_a_failing_query_marks_the_gpu(errors: dict[str, int], error: str) -> None:
    inv = read_inventory(PynvmlApi(FakePynvml(errors)))
    assert [(g.name, g.error) for g in inv.gpus] == [("NVIDIA H100 80GB HBM3", error)] * 2


@pytest.mark.parametrize(("health", "error"), [
    ({}, None),
    ({"nvmlDeviceGetTotalEccErrors": 2}, "2 uncorrected ECC error(s) since the driver was loaded"),
    ({"nvmlDeviceGetRetiredPagesPendingStatus": 1},
     "memory pages are pending retirement (the GPU needs a reset)"),
    ({"nvmlDeviceGetRemappedRows": (0, 1, 1, 1)},
     "row remapping failed (the GPU's memory cannot be repaired)"),
    ({"nvmlDeviceGetRetiredPagesPendingStatus": 0, "nvmlDeviceGetTotalEccErrors": 0,
      "nvmlDeviceGetRemappedRows": (5, 0, 0, 0)}, None),
])
def test_adapter_memory_faults_mark_the_gpu(health: dict[str, Any], error: str | None) -> None:
    inv = read_inventory(PynvmlApi(FakePynvml({}, health)))
    assert [g.error for g in inv.gpus] == [error, error]


def test_adapter_health_queries_the_gpu_lacks_say_nothing() -> None:
    """Not Supported (no ECC), Function Not Found (an older driver): a healthy GPU."""
    inv = read_inventory(PynvmlApi(FakePynvml({"nvmlDeviceGetTotalEccErrors": 3,
                                               "nvmlDeviceGetRetiredPagesPendingStatus": 13,
                                               "nvmlDeviceGetRemappedRows": 3})))
    assert [g.error for g in inv.gpus] == [None, None]


def test_adapter_memory_not_supported_is_unknown() -> None:
    inv = read_inventory(PynvmlApi(FakePynvml({"nvmlDeviceGetMemoryInfo": 3})))
    assert inv.gpus[0] == Gpu(index=0, name="NVIDIA H100 80GB HBM3", memory_total_mib=None,
                              memory_free_mib=None, compute_capability="9.0")
    assert inv.unavailable == {}


@pytest.mark.parametrize(("mode", "gpu", "error"), [
    ("lost-handle", {"index": 1}, "NVML error: GPU is lost"),
    ("lost-name", {"index": 1}, "NVML error: GPU is lost"),
    ("unknown", {"index": 1}, "NVML error: Unknown Error"),
    ("lost-memory", {**A100, "index": 1, "memory_total_mib": None, "memory_free_mib": None},
     "memory: NVML error: GPU is lost"),
    ("ecc", A100, "3 uncorrected ECC error(s) since the driver was loaded"),
    ("retired", {**A100, "index": 1}, "memory pages are pending retirement (the GPU needs a reset)"),
])
def test_a_lost_or_failing_gpu_fails_the_gate_and_replays(fake_nvml: Path, tmp_path: Path,
                                                         mode: str, gpu: dict[str, Any],
                                                         error: str) -> None:
    """The count says 2; one GPU cannot be used. It stays in the report with its error, the
    gate fails naming it, and --from-report replays the same finding."""
    code, report, err = _run(fake_nvml, mode, "check", "--no-probe", "-m", "qwen2-vl-7b-instruct")
    assert code == 1, err
    env = report["environment"]
    bad = {"name": None, "memory_total_mib": None, "memory_free_mib": None,
           "compute_capability": None, **gpu, "error": error}
    healthy = {**A100, "index": 1 - bad["index"]}
    assert sorted(env["gpus"], key=lambda g: g["index"]) == sorted(
        [bad, healthy], key=lambda g: g["index"])
    assert not any(k.startswith("gpus") for k in env["unavailable"])
    where = f"GPU {bad['index']}" + (f" ({bad['name']})" if bad["name"] else "")
    found = [f for f in report["findings"] if f["id"] == "gpu-unusable"]
    assert [(f["severity"], f["title"]) for f in found] == [
        ("error", f"{where} cannot be used: {error}")]
    assert "This node has 1 usable GPU(s) of 2 installed" in found[0]["message"]
    assert found[0]["fix"][0].startswith(f"nvidia-smi -q -i {bad['index']} ")
    assert report["summary"]["verdict"] == "fail"
    saved = tmp_path / "report.json"
    saved.write_text(json.dumps(report))
    done = subprocess.run([sys.executable, "-m", "vlmdoctor", "check", "--from-report",
                           str(saved), "--format", "json"], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=120)
    assert done.returncode == 1, done.stderr
    replayed = json.loads(done.stdout)
    assert [f["title"] for f in replayed["findings"] if f["id"] == "gpu-unusable"] == [
        found[0]["title"]]
    assert replayed["environment"]["gpus"] == env["gpus"]


def test_a_healthy_node_has_no_unusable_gpu(fake_nvml: Path) -> None:
    _, report, err = _run(fake_nvml, "normal", "check", "--no-probe")
    assert "gpu-unusable" not in {f["id"] for f in report["findings"]}, err
    assert all("error" not in g for g in report["environment"]["gpus"])


def test_adapter_a_pending_row_remapping_keeps_the_gpu_usable() -> None:
    inv = read_inventory(PynvmlApi(FakePynvml({}, {"nvmlDeviceGetRemappedRows": (0, 1, 1, 0)})))
    assert [(g.error, g.reset_pending) for g in inv.gpus] == [
        (None, "a row remapping is pending (it takes effect at the next GPU reset)")] * 2


def test_a_pending_row_remapping_warns_and_the_gpu_stays_usable(fake_nvml: Path) -> None:
    code, report, err = _run(fake_nvml, "remap", "check", "--no-probe")
    assert code in (0, 1), err
    pending = "a row remapping is pending (it takes effect at the next GPU reset)"
    assert report["environment"]["gpus"] == [{**A100, "reset_pending": pending},
                                             {**A100, "index": 1}], err
    found = [(f["id"], f["severity"], f["title"]) for f in report["findings"]
             if f["id"].startswith("gpu-")]
    assert found == [("gpu-reset-pending", "warning",
                      f"GPU 0 (NVIDIA A100-SXM4-80GB) needs a reset: {pending}")]


@pytest.mark.parametrize(("returncode", "how"), [
    (0, "stopped the reader (exit status 0)"),   # a clean exit is never a signal
    (3, "stopped the reader (exit status 3)"),
    (-11, "crashed (SIGSEGV)"),
    (-6, "crashed (SIGABRT)"),
])
def test_how_the_reader_ended_is_said_right(returncode: int, how: str) -> None:
    from vlmdoctor.collect.nvml_isolated import interpret

    text = '{"step": "reading gpus"}\n{"value": "driver_version", "data": "550.54.14"}\n'
    inventory = interpret(text, returncode, False, 10.0)
    assert inventory.unavailable == {
        "gpus": f"the NVIDIA driver library {how} during reading gpus"}
