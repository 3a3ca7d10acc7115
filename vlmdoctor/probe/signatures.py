"""What each probe failure means and how to fix it: the signature table, as data.

``classify`` tries ``SIGNATURES`` in order (most specific first) against the child's
error text; the first whose pattern matches names the kind. ``OUTCOMES`` holds the
kinds that come from how the child ended, not from its text. Finding ids are
``probe-<kind>`` and are API: never rename one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Signature:
    kind: str
    severity: str
    title: str
    why: str
    fix: tuple[str, ...]
    references: tuple[str, ...]
    patterns: tuple[str, ...] = ()

    def matches(self, text: str) -> bool:
        return any(re.search(p, text, re.MULTILINE) for p in self.patterns)


_TORCH_ARCH = "python -c \"import torch; print(torch.__version__, torch.version.cuda, torch.cuda.get_arch_list(), torch.cuda.get_device_capability())\""
_PREV = "https://pytorch.org/get-started/previous-versions/"
_CUDA_NOTES = "https://pytorch.org/docs/stable/notes/cuda.html"
_BIG = "https://huggingface.co/docs/accelerate/concept_guides/big_model_inference"
_FA = "https://github.com/Dao-AILab/flash-attention#installation-and-features"
_OPENCV = "https://github.com/opencv/opencv-python#installation-and-usage"
_V5 = "https://github.com/huggingface/transformers/blob/main/MIGRATION_GUIDE_V5.md"
_CUSTOM = "https://huggingface.co/docs/transformers/custom_models"
_RERUN = "python -X faulthandler -m vlmdoctor.probe.child --device auto   # run the probe's child by hand to see everything it prints"

SIGNATURES: tuple[Signature, ...] = (
    Signature("extension-abi", "error", "A compiled extension does not match the installed torch",
              "An extension's binary (flash-attn, bitsandbytes, xformers …) was built against a different torch version or C++ ABI, so importing it fails with an undefined symbol; any model that uses it fails the same way.",
              ("pip uninstall -y flash-attn && pip install flash-attn --no-build-isolation   # rebuild against the installed torch",
               "or install the prebuilt wheel whose name matches this torch X.Y, CUDA major and cxx11abi flag"),
              ("https://github.com/Dao-AILab/flash-attention/issues/853", "https://github.com/Dao-AILab/flash-attention/issues/1832", _FA),
              (r"undefined symbol",)),
    Signature("missing-library", "error", "A system library is missing: libGL (OpenCV's GUI build)",
              "The GUI build of OpenCV (opencv-python) links against the system libGL, which server and container images lack; several OpenCV wheels also fight over the same cv2 directory.",
              ("pip uninstall -y opencv-python opencv-contrib-python opencv-python-headless opencv-contrib-python-headless",
               "pip install opencv-python-headless",
               "apt-get install -y libgl1   # only if you really need the GUI build"),
              (_OPENCV, "https://github.com/opencv/opencv-python/issues/370"),
              (r"libGL\.so[.\d]*: cannot open shared object file",)),
    Signature("missing-library", "error", "A CUDA library torch needs cannot be loaded",
              "PyTorch's pip wheels bring their own CUDA runtime, cuBLAS and cuDNN (only the driver comes from the system); a missing one means a broken install or an LD_LIBRARY_PATH that points at other copies.",
              ("echo $LD_LIBRARY_PATH   # system CUDA directories here can shadow the libraries torch ships",
               "pip install --force-reinstall torch --index-url https://download.pytorch.org/whl/cu126   # keep the cuXY you use"),
              ("https://pytorch.org/get-started/locally/", _PREV),
              (r"lib(cudnn|cublas|cudart|nccl|cusparse|cufft|curand|cusolver|nvrtc|nvJitLink)\S*\.so[.\d]*: cannot open shared object file",)),
    Signature("missing-library", "error", "A shared library cannot be loaded",
              "A package's compiled part needs a system library that is not installed or not on the loader's path.",
              ("ldd \"$(python -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), \"lib\", \"libtorch_python.so\"))')\" | grep 'not found'",),
              ("https://man7.org/linux/man-pages/man8/ld.so.8.html",),
              (r"\S+\.so[.\d]*: cannot open shared object file",)),
    Signature("cuda-oom", "error", "A GPU ran out of memory",
              "The allocation failed on the GPU named in the message. For the tiny model this means the GPU is already nearly full (other processes); with real weights the model does not fit the placement.",
              ("nvidia-smi --query-compute-apps=pid,process_name,used_memory --format=csv   # what else holds GPU memory",
               "export PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True   # when reserved memory is much larger than allocated",
               "spread the model over more GPUs (device_map) or load it in a smaller dtype"),
              (_CUDA_NOTES + "#optimizing-memory-usage-with-pytorch-cuda-alloc-conf", _BIG),
              (r"CUDA out of memory|OutOfMemoryError|CUDA error: out of memory|CUBLAS_STATUS_ALLOC_FAILED",)),
    Signature("no-kernel-image", "error", "This torch build has no kernels for the GPU's architecture",
              "Each torch CUDA wheel is compiled for a fixed list of sm_XY architectures; a GPU whose sm_XY (or a compatible PTX) is missing from the list fails at its first kernel (e.g. H100 sm_90 with torch 2.0.1+cu117, RTX 5090 sm_120 before cu128, V100 sm_70 with cu130). The same error from an extension means that extension was built without the GPU's sm_XY.",
              (_TORCH_ARCH,
               "pip install --force-reinstall torch --index-url https://download.pytorch.org/whl/cu128   # cu128 (torch >= 2.8) covers sm_70 to sm_120; cu126 covers sm_50 to sm_90"),
              (_PREV, "https://github.com/pytorch/pytorch/issues/31285"),
              (r"no kernel image is available", r"is not compatible with the current PyTorch installation")),
    Signature("driver-too-old", "error", "The NVIDIA driver is too old for this torch build's CUDA",
              "The CUDA runtime torch was built with needs a newer driver than the one installed; torch then reports no usable GPU. A newer driver runs older CUDA builds, never the other way round.",
              ("nvidia-smi   # the 'CUDA Version' in its header is the newest CUDA runtime this driver can host",
               "pip install --force-reinstall torch --index-url https://download.pytorch.org/whl/cu126   # a cuXY no newer than that, or upgrade the driver"),
              ("https://docs.nvidia.com/deploy/cuda-compatibility/", "https://github.com/pytorch/pytorch/pull/162531", _PREV),
              (r"driver on your system is too old", r"CUDA driver version is insufficient")),
    Signature("device-mismatch", "error", "Tensors ended up on different devices",
              "With the model split over devices, one module's output met a tensor on another device. Multi-GPU VLM loaders avoid this by keeping the vision tower, projector, embeddings, rotary embedding and output head together on GPU 0 (InternVL's split_model) instead of device_map='auto'.",
              ("pass an explicit device_map that pins the vision tower, projector, embed_tokens, rotary_emb, norm and lm_head to GPU 0",
               "python -c \"import json, transformers; print(transformers.__version__)\"   # then compare with the version the model's loader was written for"),
              ("https://github.com/open-compass/VLMEvalKit/issues/723", "https://github.com/OpenGVLab/InternVL/issues/229", _BIG),
              (r"Expected all tensors to be on the same device",)),
    Signature("meta-tensor", "error", "Some weights were never loaded (meta tensors)",
              "Modules that no device_map entry covers, tied weights split across devices, or a .to()/.cuda() call on a model dispatched with a device_map leave weights on the 'meta' device, which holds no data.",
              ("give from_pretrained a device_map that covers every module, and do not call .to()/.cuda() on a model loaded with device_map",
               "pip install -U accelerate"),
              ("https://github.com/huggingface/transformers/issues/26971", "https://github.com/huggingface/accelerate/issues/2082", _BIG),
              (r"Cannot copy out of meta tensor",)),
    Signature("flash-attn-unsupported-gpu", "error", "FlashAttention-2 does not run on this GPU",
              "flash-attn 2 supports Ampere, Ada and Hopper GPUs (sm_80+) with fp16/bf16 only; Turing (T4) and Volta (V100) must use SDPA or eager attention.",
              ("load with attn_implementation='sdpa' (or 'eager'), and fp16",),
              (_FA, "https://github.com/Dao-AILab/flash-attention/issues/762"),
              (r"FlashAttention only supports Ampere GPUs or newer",)),
    Signature("dtype-unsupported", "error", "The requested dtype is not supported here",
              "bf16 is native only from compute capability 8.0 (Ampere); V100 and T4 must run fp16. Older CPU builds also lack some half-precision kernels.",
              ("vlmdoctor probe --dtype fp16   # on GPUs below sm_80",
               "load the model with dtype=torch.float16 (torch_dtype= on transformers < 4.56)"),
              (_FA, "https://github.com/vllm-project/vllm/issues/1157"),
              (r"bf16 is not supported natively", r"Bfloat16 is only supported", r"not implemented for '(BFloat16|Half)'")),
    Signature("no-cuda", "error", "torch cannot use a GPU",
              "A GPU run was requested but torch sees none: a CPU-only torch build, no NVIDIA driver, or CUDA_VISIBLE_DEVICES hiding every GPU.",
              ("python -c \"import torch; print(torch.__version__, torch.version.cuda, torch.cuda.is_available())\"",
               "nvidia-smi",
               "echo \"CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES\"   # an empty value hides every GPU",
               "pip install --force-reinstall torch --index-url https://download.pytorch.org/whl/cu128   # when torch.version.cuda is None"),
              ("https://pytorch.org/get-started/locally/", "https://docs.nvidia.com/cuda/cuda-c-programming-guide/index.html#env-vars"),
              (r"CUDA is not available", r"Torch not compiled with CUDA enabled", r"Found no NVIDIA driver")),
    Signature("api-mismatch", "error", "The installed transformers API differs from what the code expects",
              "A keyword, attribute or model type the loading code relies on is missing or renamed in the installed transformers (v5 renamed torch_dtype to dtype, moved VLM submodules and removed load_in_8bit/load_in_4bit).",
              ("python -c \"import transformers; print(transformers.__version__)\"   # compare with the version the model card names",),
              (_V5,),
              (r"got an unexpected keyword argument", r"object has no attribute", r"Unrecognized configuration class", r"does not recognize this architecture")),
    Signature("import-error", "error", "A package the probe needs cannot be imported",
              "torch, transformers or one of their dependencies is not installed in this interpreter, or fails while importing.",
              ("python -c \"import torch, transformers, accelerate\"   # in the environment being diagnosed",
               "python -m pip install transformers accelerate safetensors"),
              ("https://huggingface.co/docs/transformers/installation",),
              (r"ModuleNotFoundError", r"ImportError", r"No module named")),
    Signature("wrong-output", "error", "The model ran but its output is wrong",
              "generate did not return the requested number of tokens, produced NaN/inf logits, or a matmul gave wrong numbers: the numerics of this GPU/dtype/library combination are broken.",
              ("vlmdoctor probe --dtype fp32   # does full precision work?", _RERUN),
              (_CUDA_NOTES,),
              (r"^CheckFailed: ",)),
    Signature("cuda-error", "error", "A CUDA error stopped the probe",
              "A CUDA call failed. CUDA errors are reported asynchronously, so the line that raised may not be the one that caused it.",
              ("CUDA_LAUNCH_BLOCKING=1 " + _RERUN, "nvidia-smi -q -d ECC,PAGE_RETIREMENT   # hardware errors"),
              (_CUDA_NOTES,),
              (r"CUDA error", r"CUDA_ERROR", r"CUBLAS_STATUS", r"CUDNN_STATUS", r"cuDNN error")),
)

_OUTCOMES: tuple[Signature, ...] = (
    Signature("failed", "error", "The probe failed", "The error is not one vlmdoctor knows yet; its text is in the evidence.",
              (_RERUN,), ()),
    Signature("timeout", "error", "The probe did not finish in time",
              "The child was killed at the timeout. A hang at CUDA init or a peer copy points at the driver, a GPU in a bad state or a broken P2P path; a slow first import at a cold disk.",
              ("vlmdoctor probe --timeout 600   # does it finish with more time?", "nvidia-smi   # a GPU stuck at 100% with no process, or an Xid error, needs a reset"),
              ("https://docs.nvidia.com/deploy/xid-errors/index.html",)),
    Signature("crashed", "error", "The probe's child process crashed",
              "The child died without reporting (a segfault or abort in native code, or an unexpected exit). Native crashes usually come from an extension built for another torch/CUDA, or from the driver.",
              (_RERUN,), ("https://docs.python.org/3/library/faulthandler.html",)),
    Signature("bad-output", "error", "The probe's child printed no result",
              "The child exited normally without writing its result line, so nothing it did can be trusted.",
              (_RERUN,), ("https://docs.python.org/3/library/subprocess.html",)),
    Signature("launch-failed", "error", "The probe could not start its child process",
              "The interpreter given for the probe could not be started.",
              ("ls -l \"$(command -v python)\"",), ("https://docs.python.org/3/library/subprocess.html",)),
    Signature("skipped", "info", "The probe was skipped",
              "torch is not importable in this interpreter, so nothing was run on the GPU.",
              ("python -m pip install torch transformers accelerate   # to enable the probe",), ("https://pytorch.org/get-started/locally/",)),
    Signature("model-code", "error", "The model's own code failed",
              "The exception was raised in the model's code (its remote code, or transformers' implementation of its architecture) while the probe built it from its config.json at toy size, loaded it or generated; the last frame in that code is quoted. The same code runs at full size.",
              ("python -X faulthandler -m vlmdoctor.probe.child --device auto --model-path DIR   # the whole traceback",
               "python -c \"import json; print(json.load(open('DIR/config.json')).get('transformers_version'))\"   # the transformers release the model was saved with; compare with the installed one"),
              (_CUSTOM,)),
    Signature("meta-only", "info", "The probe ran the model's __init__ only (meta device)",
              "The model's config could not be shrunk to a buildable toy size, so its class was built at full size on the meta device (no memory): the constructor ran, but no weights were loaded and no forward or generate ran.",
              ("vlmdoctor probe --weights DIR --timeout 600   # load and run the real weights instead",),
              (_BIG,)),
    Signature("cpu-only", "info", "The probe ran on CPU: no usable GPU",
              "The whole pipeline (imports, matmul, attention, tiny VLM load and generate) was exercised on CPU; nothing GPU-specific was checked.",
              (), ("https://pytorch.org/get-started/locally/",)),
)
OUTCOMES: dict[str, Signature] = {s.kind: s for s in _OUTCOMES}
KINDS: tuple[str, ...] = tuple(dict.fromkeys([s.kind for s in SIGNATURES] + list(OUTCOMES)))


def classify(text: str) -> Signature:
    """The first signature whose pattern occurs in ``text``, else the unclassified one."""
    return next((s for s in SIGNATURES if s.matches(text)), OUTCOMES["failed"])


def signature_for(kind: str, text: str = "") -> Signature:
    """The signature for a kind; for a classified kind, the variant that matches ``text``."""
    variants = [s for s in SIGNATURES if s.kind == kind]
    return next((s for s in variants if s.matches(text)), variants[0] if variants else
                OUTCOMES.get(kind, OUTCOMES["failed"]))
