"""The incident corpus: real failures from public issue threads, read and validated.

Each file under tests/incidents/cases/ is one incident (YAML). The tool never reads these
files; only the tests and the docs generator do. ``load_incident`` validates a file and
raises ``IncidentError("<file>: <field>: <problem>")`` on the first defect.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases"

# The classes of failure the corpus covers, with what each means (docs/incidents.md).
CLASSES: dict[str, str] = {
    "new-gpu-arch": "A GPU newer (Blackwell sm_100/sm_120/sm_121, Hopper) than the kernels of torch or an extension",
    "old-gpu-arch": "A GPU older (Pascal, Volta, Turing) than a build, a dtype or a kernel supports",
    "driver-cuda": "The NVIDIA driver against the CUDA runtime of torch or an engine",
    "torch-load": "torch behaviour changes that break loading (weights_only from 2.6)",
    "engine-vs-transformers": "Serving engines (vLLM, SGLang, LMDeploy) against the transformers release",
    "trainer-vs-stack": "Trainers (trl, peft, LLaMA-Factory, ms-swift, DeepSpeed, accelerate) against transformers and each other",
    "model-vs-transformers": "Model code (remote code or in-library) against the transformers release",
    "tokenizer-stack": "tokenizers, protobuf, sentencepiece and tiktoken",
    "vision-deps": "Vision and video dependencies: timm, decord, av, torchvision, qwen-vl-utils, OpenCV",
    "quantisation": "AWQ, GPTQ, bitsandbytes and FP8 against the GPU, the kernel packages and tensor parallelism",
    "extension-abi": "Compiled extensions (flash-attn, xformers, vLLM, DeepSpeed ops) built for another torch, CUDA or ABI",
    "attention-kernels": "flash-attn and SDPA against the GPU and dtype",
    "multi-gpu": "Multi-GPU and multi-node: NCCL, P2P, InfiniBand, /dev/shm, CUDA_VISIBLE_DEVICES",
    "memory": "Memory: image and video token budgets, context length against the KV cache, truncation",
    "numerics": "dtype and numerics: bf16 on old GPUs, fp16 overflow",
    "system-libs": "System libraries: libGL, CUDA libraries, glibc, Python versions",
    "container-runtime": "Containers and the NVIDIA runtime: the Container Toolkit, the image's CUDA requirement, compat libraries, device cgroups",
}

KNOWN_KEYS = {"id", "title", "source", "confirmed_by", "class", "environment", "model",
              "dtype", "error", "diagnosis", "notes"}
ENV_KEYS = {"python", "driver", "driver_cuda", "gpus", "torch", "torch_cuda", "packages",
            "nvcc", "env", "distro", "network_interfaces", "requirements", "assumed"}
DIAG_KEYS = {"findings", "fix_tokens", "environment_shows"}
SOURCE = re.compile(r"^https://github\.com/[\w.-]+/[\w.-]+/(issues|pull|discussions)/\d+(#[\w-]+)?$")
ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,80}$")

# GPU names as NVML reports them, compute capability and memory (MiB).
GPUS: dict[str, tuple[str, str, int]] = {
    "P100": ("Tesla P100-PCIE-16GB", "6.0", 16384),
    "P40": ("Tesla P40", "6.1", 24576),
    "GTX 1080 Ti": ("NVIDIA GeForce GTX 1080 Ti", "6.1", 11264),
    "GTX 1080": ("NVIDIA GeForce GTX 1080", "6.1", 8192),
    "GTX 1060": ("NVIDIA GeForce GTX 1060 6GB", "6.1", 6144),
    "V100": ("Tesla V100-SXM2-32GB", "7.0", 32768),
    "V100-16GB": ("Tesla V100-PCIE-16GB", "7.0", 16384),
    "T4": ("Tesla T4", "7.5", 15360),
    "RTX 2080 Ti": ("NVIDIA GeForce RTX 2080 Ti", "7.5", 11264),
    "Quadro RTX 5000": ("Quadro RTX 5000", "7.5", 16384),
    "A100-40GB": ("NVIDIA A100-SXM4-40GB", "8.0", 40960),
    "A100-80GB": ("NVIDIA A100-SXM4-80GB", "8.0", 81920),
    "A800": ("NVIDIA A800-SXM4-80GB", "8.0", 81920),
    "A10": ("NVIDIA A10", "8.6", 23028),
    "A10G": ("NVIDIA A10G", "8.6", 23028),
    "A6000": ("NVIDIA RTX A6000", "8.6", 49140),
    "RTX 3060": ("NVIDIA GeForce RTX 3060", "8.6", 12288),
    "RTX 3090": ("NVIDIA GeForce RTX 3090", "8.6", 24576),
    "RTX 4090": ("NVIDIA GeForce RTX 4090", "8.9", 24564),
    "L4": ("NVIDIA L4", "8.9", 23034),
    "L40S": ("NVIDIA L40S", "8.9", 46068),
    "H20": ("NVIDIA H20", "9.0", 97871),
    "H100": ("NVIDIA H100 80GB HBM3", "9.0", 81559),
    "H200": ("NVIDIA H200", "9.0", 143771),
    "B200": ("NVIDIA B200", "10.0", 183359),
    "GB200": ("NVIDIA GB200", "10.0", 189471),
    "RTX 5060 Ti": ("NVIDIA GeForce RTX 5060 Ti", "12.0", 16311),
    "RTX 5070 Ti": ("NVIDIA GeForce RTX 5070 Ti", "12.0", 16303),
    "RTX 5080": ("NVIDIA GeForce RTX 5080", "12.0", 16303),
    "RTX 5090": ("NVIDIA GeForce RTX 5090", "12.0", 32607),
    "RTX PRO 6000": ("NVIDIA RTX PRO 6000 Blackwell Workstation Edition", "12.0", 97887),
    "GB10": ("NVIDIA GB10", "12.1", 124546),
}

# Linux driver branch -> the newest CUDA it supports (nvidia-smi's "CUDA Version").
DRIVER_CUDA = {450: "11.0", 460: "11.2", 470: "11.4", 510: "11.6", 515: "11.7", 520: "11.8",
               525: "12.0", 530: "12.1", 535: "12.2", 545: "12.3", 550: "12.4", 555: "12.5",
               560: "12.6", 565: "12.7", 570: "12.8", 575: "12.9", 580: "13.0", 590: "13.1"}
# The CUDA of the default PyPI torch wheel (no +cuXYZ label) per release.
PYPI_TORCH_CUDA = {"2.0": "11.7", "2.1": "12.1", "2.2": "12.1", "2.3": "12.1", "2.4": "12.1",
                   "2.5": "12.4", "2.6": "12.4", "2.7": "12.6", "2.8": "12.8", "2.9": "12.8"}


class IncidentError(Exception):
    """A corpus file that does not validate: the message names the file and field."""


@dataclass(frozen=True)
class Incident:
    path: Path
    id: str
    title: str
    source: str
    confirmed_by: str
    klass: str
    snapshot: dict[str, Any]
    assumed: tuple[str, ...]
    model: str | None
    dtype: str | None
    error: str | None
    findings: tuple[str, ...]
    fix_tokens: tuple[str, ...]
    environment_shows: bool


def _fail(path: Path, field: str, problem: str) -> IncidentError:
    return IncidentError(f"{path.name}: {field}: {problem}")


def _str(path: Path, data: dict[str, Any], key: str, field: str, required: bool = True) -> str | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, field, "required, a non-empty string" if required else "a non-empty string")
    return value


def _str_list(path: Path, value: Any, field: str, allow_empty: bool = False) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _fail(path, field, "a list of non-empty strings")
    if not value and not allow_empty:
        raise _fail(path, field, "must not be empty")
    return tuple(value)


def _str_map(path: Path, value: Any, field: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, (str, int, float))
                                              for k, v in value.items()):
        raise _fail(path, field, "a mapping of names to strings")
    return {k: str(v) for k, v in value.items()}


def _gpus(path: Path, value: Any) -> list[dict[str, Any]]:
    names = _str_list(path, value, "environment.gpus", allow_empty=True)
    out = []
    for i, name in enumerate(names):
        count = 1
        match = re.match(r"^(\d+)\s*x\s*(.+)$", name)
        if match:
            count, name = int(match.group(1)), match.group(2)
        if name not in GPUS:
            raise _fail(path, f"environment.gpus[{i}]", f"unknown GPU {name!r} (known: {', '.join(GPUS)})")
        full, cc, mem = GPUS[name]
        for _ in range(count):
            out.append({"index": len(out), "name": full, "memory_total_mib": mem,
                        "memory_free_mib": mem - 500, "compute_capability": cc})
    return out


def _torch(path: Path, env: dict[str, Any]) -> dict[str, Any] | None:
    version = env.get("torch")
    if version is None:
        return None
    if not isinstance(version, str) or not re.match(r"^\d+\.\d+(\.\d+)?", version):
        raise _fail(path, "environment.torch", "a torch version such as '2.7.1+cu128'")
    cuda = env.get("torch_cuda")
    label = version.partition("+")[2]
    if cuda is None:
        if label == "cpu":
            cuda = None
        elif label.startswith("cu") and label[2:].isdigit():
            cuda = f"{label[2:-1]}.{label[-1]}"
        else:
            minor = ".".join(version.split("+")[0].split(".")[:2])
            if minor not in PYPI_TORCH_CUDA:
                raise _fail(path, "environment.torch_cuda",
                            f"required for torch {version} (no +cuXYZ label)")
            cuda = PYPI_TORCH_CUDA[minor]
    return {"version": version, "cuda": cuda}


def _driver(path: Path, env: dict[str, Any]) -> dict[str, Any] | None:
    version = env.get("driver")
    if version is None:
        return None
    if not isinstance(version, str) or not re.match(r"^\d{3}\.\d+", version):
        raise _fail(path, "environment.driver", "a driver version such as '550.54.15'")
    cuda = env.get("driver_cuda")
    if cuda is None:
        branch = int(version.split(".")[0])
        known = [b for b in DRIVER_CUDA if b <= branch]
        if not known:
            raise _fail(path, "environment.driver_cuda", f"required for driver {version}")
        cuda = DRIVER_CUDA[max(known)]
    return {"version": version, "cuda": str(cuda)}


def build_snapshot(path: Path, env: Any) -> dict[str, Any]:
    """The snapshot JSON (schema 1) of an incident's environment."""
    if not isinstance(env, dict):
        raise _fail(path, "environment", "required, a mapping")
    for key in env:
        if key not in ENV_KEYS:
            raise _fail(path, f"environment.{key}", f"unknown key (known: {', '.join(sorted(ENV_KEYS))})")
    packages = _str_map(path, env.get("packages", {}), "environment.packages")
    torch = _torch(path, env)
    if torch is not None:
        packages.setdefault("torch", torch["version"])
    python = _str(path, env, "python", "environment.python")
    if not re.match(r"^3\.\d+(\.\d+)?$", python or ""):
        raise _fail(path, "environment.python", "a Python 3 version such as '3.10'")
    driver = _driver(path, env)
    gpus = _gpus(path, env.get("gpus", []))
    snap: dict[str, Any] = {
        "schema_version": 1,
        "collected_at": "2026-01-01T00:00:00+00:00",
        "host": {"os": "Linux", "os_release": "5.15.0-91-generic",
                 "distro": str(env.get("distro", "Ubuntu 22.04.4 LTS")), "arch": "x86_64",
                 "libc": "glibc 2.35"},
        "python": {"version": python if python.count(".") == 2 else f"{python}.12",
                   "implementation": "CPython", "executable": "/usr/bin/python3"},
        "driver": driver,
        "gpus": gpus,
        "packages": {k.lower().replace("_", "-"): v for k, v in packages.items()},
        "torch": torch,
        "cuda_toolkit": {"nvcc": str(env["nvcc"]), "cuda_home": "/usr/local/cuda"} if env.get("nvcc") else None,
        "env": _str_map(path, env.get("env", {}), "environment.env"),
        "network_interfaces": list(_str_list(path, env.get("network_interfaces", ["eth0", "lo"]),
                                             "environment.network_interfaces")),
        "unavailable": {} if driver else {"driver": "NVML library not found (libnvidia-ml.so.1)"},
    }
    if "requirements" in env:
        reqs = env["requirements"]
        if not isinstance(reqs, dict):
            raise _fail(path, "environment.requirements", "a mapping of package to requirement list")
        snap["requirements"] = {k: list(_str_list(path, v, f"environment.requirements.{k}"))
                                for k, v in reqs.items()}
    return snap


def load_incident(path: Path, finding_ids: frozenset[str] | None = None) -> Incident:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise IncidentError(f"{path.name}: (file): malformed YAML: {exc}") from None
    if not isinstance(data, dict):
        raise IncidentError(f"{path.name}: (file): expected a mapping")
    for key in data:
        if key not in KNOWN_KEYS:
            raise _fail(path, str(key), f"unknown key (known: {', '.join(sorted(KNOWN_KEYS))})")
    ident = _str(path, data, "id", "id")
    assert ident is not None
    if not ID.match(ident) or ident != path.stem:
        raise _fail(path, "id", f"must be kebab-case and equal the file name ({path.stem!r})")
    source = _str(path, data, "source", "source")
    if not SOURCE.match(source or ""):
        raise _fail(path, "source", "a GitHub issue, pull request or discussion URL")
    confirmed = _str(path, data, "confirmed_by", "confirmed_by")
    if confirmed not in ("reporter", "maintainer"):
        raise _fail(path, "confirmed_by", "'reporter' or 'maintainer'")
    klass = _str(path, data, "class", "class")
    if klass not in CLASSES:
        raise _fail(path, "class", f"unknown class {klass!r} (known: {', '.join(CLASSES)})")
    env = data.get("environment")
    snap = build_snapshot(path, env)
    assumed = _str_list(path, env.get("assumed", []), "environment.assumed", allow_empty=True)
    for i, name in enumerate(assumed):
        if name not in ENV_KEYS and not name.startswith(("packages.", "env.")):
            raise _fail(path, f"environment.assumed[{i}]", f"{name!r} is not an environment field")
    diag = data.get("diagnosis")
    if not isinstance(diag, dict):
        raise _fail(path, "diagnosis", "required, a mapping")
    for key in diag:
        if key not in DIAG_KEYS:
            raise _fail(path, f"diagnosis.{key}", f"unknown key (known: {', '.join(sorted(DIAG_KEYS))})")
    findings = _str_list(path, diag.get("findings"), "diagnosis.findings")
    if finding_ids is not None:
        for i, fid in enumerate(findings):
            if fid not in finding_ids:
                raise _fail(path, f"diagnosis.findings[{i}]", f"no rule or failure row has id {fid!r}")
    tokens = _str_list(path, diag.get("fix_tokens", []), "diagnosis.fix_tokens", allow_empty=True)
    shows = diag.get("environment_shows")
    if not isinstance(shows, bool):
        raise _fail(path, "diagnosis.environment_shows", "required, true or false")
    error = _str(path, data, "error", "error", required=False)
    if error is None and not shows:
        raise _fail(path, "error", "required when diagnosis.environment_shows is false")
    if shows and all(f.startswith("symptom-") for f in findings):
        raise _fail(path, "diagnosis.environment_shows",
                    "true needs a finding that is not a symptom-* (explain-only) id")
    model = _str(path, data, "model", "model", required=False)
    dtype = _str(path, data, "dtype", "dtype", required=False)
    title = _str(path, data, "title", "title")
    assert title is not None and source is not None and confirmed is not None
    return Incident(path=path, id=ident, title=title, source=source, confirmed_by=confirmed,
                    klass=klass, snapshot=snap, assumed=assumed, model=model, dtype=dtype,
                    error=error, findings=findings, fix_tokens=tokens, environment_shows=shows)


def load_corpus(finding_ids: frozenset[str] | None = None,
                root: Path = CASES) -> list[Incident]:
    return [load_incident(p, finding_ids) for p in sorted(root.glob("*.yaml"))]
