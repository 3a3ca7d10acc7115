"""Regression tests for the audit corrections of issue 15 section 4, each with its source."""

from __future__ import annotations

from typing import Any

import pytest
from packaging.version import Version

from tests.conftest import make_knowledge, snapshot
from vlmdoctor.evaluate.context import Context
from vlmdoctor.evaluate.engine import evaluate
from vlmdoctor.evaluate.extensions import default_abi, installed_torch

KNOWLEDGE = make_knowledge()
TABLES = KNOWLEDGE.tables


def findings(base: str, patch: dict[str, Any] | None = None, text: str | None = None) -> Any:
    ctx = Context(snapshot=snapshot(base, patch), tables=TABLES, text=text)
    return evaluate(KNOWLEDGE.rules, ctx)


def test_minicpm_v_26_tested_pin_is_4400_from_the_authors_requirements() -> None:
    # https://github.com/OpenBMB/MiniCPM-V/blob/main/requirements.txt: transformers==4.40.0
    card = KNOWLEDGE.catalogue.resolve("minicpm-v-2.6")
    pins = [r for r in card.requirements.for_package("transformers") if r.spec.startswith("==")]
    assert [r.spec for r in pins] == ["==4.40.0"]
    assert "https://github.com/OpenBMB/MiniCPM-V/blob/main/requirements.txt" in pins[0].references
    assert "pip install 'transformers==4.40.0'" in pins[0].fix[0]


@pytest.mark.parametrize(("torch", "abi"), [
    ("2.5.1+cu124", "0"), ("2.2.0+cu118", "0"),           # every pip build before 2.6: old ABI
    ("2.6.0+cu118", "0"), ("2.6.0+cu124", "0"), ("2.6.0+cpu", "0"),
    ("2.6.0", "0"),                                        # the PyPI 2.6.0 wheel is the cu124 build
    ("2.6.0+cu126", "1"),                                  # only 2.6's cu126 builds switched
    ("2.7.1+cu118", "1"), ("2.7.1+cu128", "1"), ("2.7.0+cpu", "1"), ("2.9.1", "1"),
    ("2.5.0a0+872d972e41", None),                          # NGC/source builds: unknown
])
def test_torch_cxx11_abi_assumed_per_build(torch: str, abi: str | None) -> None:
    # pytorch PR #141565: 2.6 switched the cu126 builds; 2.7 switched all of them.
    assert default_abi(Version(torch)) == abi


def test_abi_evidence_on_disk_wins_over_the_assumption() -> None:
    snap = snapshot("a100-cu124", {"extensions": {"torch": {"cxx11_abi": "1"}}})
    installed = installed_torch(snap)
    assert installed is not None and installed.cxx11_abi == "1"  # 2.5.1 built from source with it


@pytest.mark.parametrize(("torch", "exists"), [
    ("2.8.0", True), ("2.9.1", False), ("2.10.0", False), ("2.11.0", True),
    ("2.12.0", True), ("2.13.0", True), ("2.14.0", False)])
def test_cu129_wheels_exist_for_28_and_211_to_213(torch: str, exists: bool) -> None:
    # pytorch #182250, #187834
    assert (TABLES.arch_build(torch, "cu129") is not None) is exists
    release = next((r for r in TABLES.releases if r.torch == torch), None)
    if release is not None:
        assert ("cu129" in release.tags) is exists


@pytest.mark.parametrize(("torch", "sm70"), [
    ("2.7.1", False), ("2.8.0", True), ("2.9.1", True), ("2.10.0", True), ("2.11.0", False)])
def test_cu128_keeps_sm70_only_for_28_to_210(torch: str, sm70: bool) -> None:
    build = TABLES.arch_build(torch, "cu128")
    assert build is not None and build.runs_on("7.0") is sm70


@pytest.mark.parametrize("torch", ["2.12.0", "2.13.0", "2.14.0"])
def test_cu128_has_no_builds_from_212(torch: str) -> None:
    assert TABLES.arch_build(torch, "cu128") is None
    release = next(r for r in TABLES.releases if r.torch == torch)
    assert "cu128" not in release.tags


@pytest.mark.parametrize("torch", ["2.9.1", "2.10.0", "2.11.0", "2.13.0"])
def test_cu130_wheels_ship_no_ptx_the_artefact_wins(torch: str) -> None:
    build = TABLES.arch_build(torch, "cu130")
    assert build is not None and build.ptx == ()
    assert not build.runs_on("13.0")  # nothing to JIT for a newer major
    assert any("182250" in s and "PTX" in s for s in TABLES.arch_sources)


def test_v100_fix_for_a_211_torch_is_cu126_not_cu128() -> None:
    patch = {"packages": {"torch": "2.11.0+cu130"}, "torch": {"version": "2.11.0+cu130", "cuda": "13.0"},
             "driver": {"version": "580.65.06", "cuda": "13.0"},
             "gpus": [{"index": 0, "name": "Tesla V100-SXM2-32GB", "memory_total_mib": 32768,
                       "memory_free_mib": 32000, "compute_capability": "7.0"}]}
    found = {f.id: f for f in findings("a100-cu124", patch)}
    assert "torch-arch-missing" in found
    assert found["torch-arch-missing"].fix == (
        "pip install 'torch==2.11.0' 'torchvision==0.26.0' --index-url https://download.pytorch.org/whl/cu126",)


def test_no_kernel_image_advice_limits_cu128_to_28_to_210() -> None:
    assert KNOWLEDGE.failures is not None
    row = next(r for r in KNOWLEDGE.failures.failures if r.id == "no-kernel-image")
    assert row.probe is not None
    cu128 = [line for line in row.probe.fix if "cu128" in line]
    assert cu128 and all("<2.11" in line for line in cu128)
    assert any("cu126" in line and "sm_50 to sm_90" in line for line in row.probe.fix)


def test_libgl1_mesa_glx_removed_in_debian_13_not_12() -> None:
    text = "ImportError: libGL.so.1: cannot open shared object file: No such file or directory"
    found = {f.id: f for f in findings("a100-cu124", text=text)}
    message = found["symptom-libgl-missing"].message
    assert "Debian 13 (trixie)" in message and "Debian 12 still has it" in message
    assert "Debian 12+" not in message


def test_minor_compat_does_not_warn_on_torch_271_cu128_with_driver_550() -> None:
    # CUDA minor-version compatibility runs 12.8 builds on a 12.4 driver; the A100 has cubins.
    patch = {"packages": {"torch": "2.7.1+cu128"}, "torch": {"version": "2.7.1+cu128", "cuda": "12.8"},
             "driver": {"version": "550.54.15", "cuda": "12.4"}}
    found = findings("a100-cu124", patch)
    assert [f.id for f in found if f.severity in ("warning", "error")] == []


def test_minor_compat_warns_where_a_gpu_needs_ptx_jit() -> None:
    patch = {"packages": {"torch": "2.7.1+cu128"}, "torch": {"version": "2.7.1+cu128", "cuda": "12.8"},
             "driver": {"version": "550.54.15", "cuda": "12.4"},
             "gpus": [{"index": 0, "name": "Future GPU", "memory_total_mib": 1000,
                       "memory_free_mib": 900, "compute_capability": "13.0"}]}
    found = {f.id: f for f in findings("a100-cu124", patch)}
    rule = found["cuda-driver-minor-compat"]
    assert rule.severity == "warning"
    assert "CUDA_ERROR_UNSUPPORTED_PTX_VERSION" in rule.message
    assert "GPU 0: Future GPU (sm_130)" in rule.title
