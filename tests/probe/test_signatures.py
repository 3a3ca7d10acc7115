from __future__ import annotations

import pytest

from vlmdoctor.probe.signatures import KINDS, OUTCOMES, SIGNATURES, classify, signature_for

# Real error texts (from the issues cited in signatures.py) and the kind each must get.
CASES = [
    ("ImportError: /usr/lib/python3.11/site-packages/flash_attn_2_cuda.cpython-311-x86_64-linux-gnu.so: "
     "undefined symbol: _ZN3c104cuda9SetDeviceEi", "extension-abi"),
    ("ImportError: libGL.so.1: cannot open shared object file: No such file or directory",
     "missing-library"),
    ("OSError: libcudnn.so.9: cannot open shared object file: No such file or directory",
     "missing-library"),
    ("ImportError: libxyz.so: cannot open shared object file", "missing-library"),
    ("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.77 GiB "
     "total capacity)", "cuda-oom"),
    ("RuntimeError: CUDA error: no kernel image is available for execution on the device",
     "no-kernel-image"),
    ("RuntimeError: CUDA is not available: torch (CUDA 13.0) sees no usable GPU\n"
     "CUDA initialization: The NVIDIA driver on your system is too old (found version 12080).",
     "driver-too-old"),
    ("RuntimeError: Expected all tensors to be on the same device, but found at least two "
     "devices, cuda:0 and cuda:1!", "device-mismatch"),
    ("NotImplementedError: Cannot copy out of meta tensor; no data!", "meta-tensor"),
    ("RuntimeError: FlashAttention only supports Ampere GPUs or newer.",
     "flash-attn-unsupported-gpu"),
    ("RuntimeError: dtype bf16 is not supported natively on cuda:0 (sm_75); bf16 needs compute "
     "capability 8.0+", "dtype-unsupported"),
    ("RuntimeError: \"addmm_impl_cpu_\" not implemented for 'Half'", "dtype-unsupported"),
    ("RuntimeError: CUDA is not available: this torch is a CPU-only build", "no-cuda"),
    ("AssertionError: Torch not compiled with CUDA enabled", "no-cuda"),
    ("TypeError: LlavaForConditionalGeneration.__init__() got an unexpected keyword argument "
     "'dtype'", "api-mismatch"),
    ("ModuleNotFoundError: No module named 'transformers'", "import-error"),
    ("CheckFailed: generate returned 3 new tokens, expected 8", "wrong-output"),
    ("RuntimeError: CUDA error: an illegal memory access was encountered", "cuda-error"),
    ("ValueError: something nobody has seen before", "failed"),
]


@pytest.mark.parametrize(("text", "kind"), CASES, ids=[k for _, k in CASES])
def test_classify(text: str, kind: str) -> None:
    assert classify(text).kind == kind


def test_missing_library_variant_follows_the_library() -> None:
    assert signature_for("missing-library", "libGL.so.1: cannot open shared object file").fix[1] == (
        "pip install opencv-python-headless")
    assert signature_for("missing-library", "libcudnn.so.9: cannot open shared object file"
                         ).title == "A CUDA library torch needs cannot be loaded"
    assert signature_for("timeout").title == "The probe did not finish in time"
    assert signature_for("no-such-kind").kind == "failed"


def test_every_kind_is_kebab_case_and_sourced() -> None:
    assert KINDS == (  # finding ids are probe-<kind>: an API, never renamed
        "extension-abi", "missing-library", "cuda-oom", "no-kernel-image", "driver-too-old",
        "device-mismatch", "meta-tensor", "flash-attn-unsupported-gpu", "dtype-unsupported",
        "no-cuda", "api-mismatch", "import-error", "wrong-output", "cuda-error", "failed",
        "timeout", "crashed", "bad-output", "launch-failed", "model-code",
        "transformers-code", "probe-fault", "meta-only", "remote-code-not-run", "skipped", "cpu-only")
    for sig in (*SIGNATURES, *OUTCOMES.values()):
        assert sig.kind.replace("-", "").isalpha() and sig.kind.islower()
        # the one warning: the model's own code was not run (a pass says less than it seems)
        assert sig.severity in ("error", "info") or (sig.kind, sig.severity) in (
            ("remote-code-not-run", "warning"), ("probe-fault", "warning"))
        assert sig.kind == "failed" or sig.references, sig.kind
        assert all(r.startswith("https://") for r in sig.references)
