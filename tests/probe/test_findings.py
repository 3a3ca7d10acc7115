from __future__ import annotations

from vlmdoctor.probe import ProbeError, ProbeResult, ProbeStep, probe_findings, probe_summary_lines

FAILED = ProbeResult(
    status="failed", device="cuda",
    steps=(ProbeStep("import", "passed", 2.5, "torch 2.0.1+cu117 (CUDA 11.7), transformers 4.36.2"),
           ProbeStep("cuda-init", "passed", 0.31, "cuda:0 NVIDIA H100 80GB HBM3 sm_90 79 GiB"),
           ProbeStep("matmul", "failed", 0.02,
                     "RuntimeError: CUDA error: no kernel image is available for execution on "
                     "the device")),
    error=ProbeError("no-kernel-image", "RuntimeError: CUDA error: no kernel image is available "
                                        "for execution on the device\nCUDA kernel errors …"),
    evidence={"requested_device": "auto", "returncode": 0, "stderr_tail": "",
              "device_reason": ""})


def test_failure_becomes_one_exact_finding() -> None:
    (finding,) = probe_findings(FAILED)
    assert finding.to_dict() == {
        "id": "probe-no-kernel-image",
        "severity": "error",
        "title": "This torch build has no kernels for the GPU's architecture",
        "message": "Probe step 'matmul' failed: RuntimeError: CUDA error: no kernel image is "
                   "available for execution on the device. Each torch CUDA wheel is compiled "
                   "for a fixed list of sm_XY architectures; a GPU whose sm_XY (or a compatible "
                   "PTX) is missing from the list fails at its first kernel (e.g. H100 sm_90 "
                   "with torch 2.0.1+cu117, RTX 5090 sm_120 before cu128, V100 sm_70 with "
                   "cu130 or with cu128 from 2.11). The same error from an extension means that extension was built "
                   "without the GPU's sm_XY.",
        "fix": [
            "python -c \"import torch; print(torch.__version__, torch.version.cuda, "
            "torch.cuda.get_arch_list(), torch.cuda.get_device_capability())\"",
            "pip install --force-reinstall 'torch>=2.8,<2.11' --index-url "
            "https://download.pytorch.org/whl/cu128   # only the cu128 builds of 2.8-2.10 cover "
            "sm_70 to sm_120 (2.11 cu128 starts at sm_75; no cu128 from 2.12)",
            "pip install --force-reinstall torch --index-url "
            "https://download.pytorch.org/whl/cu126   # cu126 covers sm_50 to sm_90 (Maxwell to "
            "Hopper, V100 included) up to 2.14",
        ],
        "references": ["https://pytorch.org/get-started/previous-versions/",
                       "https://github.com/pytorch/pytorch/issues/31285"],
        "evidence": {"probe.status": "failed", "probe.step": "matmul",
                     "probe.error": FAILED.error.message if FAILED.error else "",
                     "probe.returncode": 0},
    }


def test_summary_lines() -> None:
    assert probe_summary_lines(FAILED) == [
        "probe: failed on cuda",
        "  step       status    seconds  detail",
        "  import     passed       2.50  torch 2.0.1+cu117 (CUDA 11.7), transformers 4.36.2",
        "  cuda-init  passed       0.31  cuda:0 NVIDIA H100 80GB HBM3 sm_90 79 GiB",
        "  matmul     failed       0.02  RuntimeError: CUDA error: no kernel image is available "
        "for execution on the device",
        "  error (no-kernel-image): RuntimeError: CUDA error: no kernel image is available for "
        "execution on the device",
    ]


def test_passed_gpu_probe_has_no_findings_and_reports_memory() -> None:
    passed = ProbeResult(status="passed", device="cuda",
                         steps=(ProbeStep("tiny-vlm", "passed", 1.2, "ok"),),
                         generated_tokens=8, tokens_per_second=95.04,
                         peak_memory_bytes={1: 3 * 2**20, 0: 12_582_912},
                         evidence={"requested_device": "auto"})
    assert probe_findings(passed) == ()
    assert probe_summary_lines(passed)[-2:] == [
        "  generated 8 tokens at 95.0 tokens/s",
        "  peak GPU memory: cuda:0 12.0 MiB, cuda:1 3.0 MiB",
    ]


def test_skipped_is_an_info_finding() -> None:
    skipped = ProbeResult.skipped("torch is not importable in /usr/bin/python3")
    (finding,) = probe_findings(skipped)
    assert (finding.id, finding.severity, finding.message) == (
        "probe-skipped", "info",
        "The probe did not run: torch is not importable in /usr/bin/python3. Nothing was "
        "checked on the GPU.")
    assert probe_summary_lines(skipped) == [
        "probe: skipped (torch is not importable in /usr/bin/python3)"]


def test_cpu_fallback_adds_the_cpu_only_info_next_to_a_failure() -> None:
    result = ProbeResult(status="failed", device="cpu",
                         steps=(ProbeStep("cuda-init", "skipped", 0.0, "no CUDA GPU: this torch "
                                          "is a CPU-only build; running the ladder on CPU"),
                                ProbeStep("tiny-vlm", "failed", 0.5, "boom")),
                         error=ProbeError("meta-tensor", "NotImplementedError: Cannot copy out "
                                                         "of meta tensor; no data!"),
                         )
    findings = probe_findings(result)
    assert [f.id for f in findings] == ["probe-meta-tensor", "probe-cpu-only"]
    assert findings[1].message.startswith(
        "The probe ran on CPU (no CUDA GPU: this torch is a CPU-only build). ")
