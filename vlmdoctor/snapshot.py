"""The environment snapshot: plain data that round-trips through JSON exactly.

A section that is absent from the JSON is *unknown*; a section present as ``null``
means *known to be absent* (no driver, no torch). ``Snapshot.unknown`` keeps the
names of unknown sections so rules can tell the two apart.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from vlmdoctor.errors import InputError
from vlmdoctor.record import field, fields, record

SCHEMA_VERSION = 1
MAX_INT = 2**53  # JSON numbers beyond this are not exact in most readers
MAX_GPU_INDEX = 4095
MAX_VERSION = 256  # longer is no version (and a 5,000-digit one breaks int(), so Version())
VERSION_FIELDS = frozenset({"driver.version", "driver.cuda", "torch.version", "torch.cuda",
                            "python.version", "cuda_toolkit.nvcc"})
_CAPABILITY = re.compile(r"[0-9]{1,2}\.[0-9]{1,2}")
SECTIONS = (
    "host", "python", "driver", "gpus", "packages", "torch",
    "cuda_toolkit", "env", "network_interfaces", "unavailable", "nccl_files",
)


@record
class Host:
    os: str | None = None
    os_release: str | None = None
    distro: str | None = None
    arch: str | None = None
    libc: str | None = None


@record
class PythonInfo:
    version: str | None = None
    implementation: str | None = None
    executable: str | None = None


@record
class Driver:
    version: str | None = None
    cuda: str | None = None


@record
class Gpu:
    index: int
    name: str | None = None
    memory_total_mib: int | None = None
    memory_free_mib: int | None = None
    compute_capability: str | None = None
    # Additive: why NVML says this enumerated GPU cannot be used (lost, an NVML error on
    # the device, uncorrected ECC errors, pages or rows waiting for a reset). None: healthy.
    error: str | None = None
    # Additive: a fault the GPU contains until its next reset (a row remapping pending);
    # it stays usable, and a reset is due. None: nothing pending.
    reset_pending: str | None = None


@record
class TorchBuild:
    version: str | None = None
    cuda: str | None = None


@record
class CudaToolkit:
    nvcc: str | None = None
    cuda_home: str | None = None


@record
class NcclFile:
    """A file NCCL_TOPO_FILE or NCCL_GRAPH_FILE names: whether it exists, and the GPUs
    (count, sm values) it describes, read from its <gpu> tags."""

    exists: bool
    gpus: int | None = None
    sms: tuple[str, ...] = ()


@record
class Snapshot:
    collected_at: str | None = None
    host: Host | None = None
    python: PythonInfo | None = None
    driver: Driver | None = None
    gpus: tuple[Gpu, ...] = ()
    packages: Mapping[str, str] = field(default_factory=dict)
    torch: TorchBuild | None = None
    cuda_toolkit: CudaToolkit | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    network_interfaces: tuple[str, ...] | None = None
    unavailable: Mapping[str, str] = field(default_factory=dict)
    nccl_files: Mapping[str, NcclFile] = field(default_factory=dict)
    unknown: frozenset[str] = frozenset()
    # Additive keys (schema v1 readers ignore them); None: not collected, i.e. unknown.
    requirements: Mapping[str, tuple[str, ...]] | None = None
    extensions: Mapping[str, Mapping[str, Any]] | None = None
    # GPUs the driver enumerates but that cannot be used (each with ``error``); written into
    # the JSON ``gpus`` list with their ``error``, so ``gpus`` here holds the usable ones.
    failed_gpus: tuple[Gpu, ...] = ()
    # Per installed package that requires transformers: the transformers/torch names that
    # ``import PKG`` needs (collect/ecosystem.py).
    ecosystem: Mapping[str, Mapping[str, Any]] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "collected_at": self.collected_at}
        values: dict[str, Any] = {
            "host": _obj(self.host),
            "python": _obj(self.python),
            "driver": _obj(self.driver),
            "gpus": [_gpu_obj(g) for g in sorted((*self.gpus, *self.failed_gpus),
                                                 key=lambda g: g.index)],
            "packages": dict(sorted(self.packages.items())),
            "torch": _obj(self.torch),
            "cuda_toolkit": _obj(self.cuda_toolkit),
            "env": dict(sorted(self.env.items())),
            "network_interfaces": (
                None if self.network_interfaces is None else list(self.network_interfaces)
            ),
            "unavailable": dict(sorted(self.unavailable.items())),
            "nccl_files": {k: {"exists": f.exists, "gpus": f.gpus, "sms": list(f.sms)}
                           for k, f in sorted(self.nccl_files.items())},
        }
        for name in SECTIONS:
            if name not in self.unknown:
                out[name] = values[name]
        if self.requirements is not None:
            out["requirements"] = {k: list(v) for k, v in sorted(self.requirements.items())}
        if self.extensions is not None:
            out["extensions"] = {k: dict(v) for k, v in sorted(self.extensions.items())}
        if self.ecosystem is not None:
            out["ecosystem"] = {k: dict(v) for k, v in sorted(self.ecosystem.items())}
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "snapshot") -> Snapshot:
        if not isinstance(data, Mapping):
            raise InputError(f"{source}: the environment snapshot must be a JSON object")
        version = data.get("schema_version", SCHEMA_VERSION)
        if version != SCHEMA_VERSION:
            raise InputError(
                f"{source}: unsupported snapshot schema_version {version!r} "
                f"(this vlmdoctor reads {SCHEMA_VERSION})"
            )
        reader = _Reader(source)
        unknown = frozenset(name for name in SECTIONS if name not in data)
        gpus = [reader.gpu(g, i) for i, g in enumerate(reader.list_of(data, "gpus", dict))]
        return cls(
            collected_at=reader.opt_str(data, "collected_at"),
            host=reader.record(data, "host", Host),
            python=reader.record(data, "python", PythonInfo),
            driver=reader.record(data, "driver", Driver),
            gpus=tuple(g for g in gpus if g.error is None),
            failed_gpus=tuple(g for g in gpus if g.error is not None),
            packages=reader.str_map(data, "packages"),
            torch=reader.record(data, "torch", TorchBuild),
            cuda_toolkit=reader.record(data, "cuda_toolkit", CudaToolkit),
            env=reader.str_map(data, "env"),
            network_interfaces=(
                None if data.get("network_interfaces") is None
                else tuple(reader.list_of(data, "network_interfaces", str))
            ),
            unavailable=reader.str_map(data, "unavailable"),
            nccl_files=reader.nccl_files(data),
            unknown=unknown,
            requirements=reader.requirements(data),
            extensions=reader.extensions(data),
            ecosystem=reader.ecosystem(data),
        )


def valid_capability(value: str) -> bool:
    """A CUDA compute capability as NVML and the CUDA docs write it: MAJOR.MINOR."""
    return _CAPABILITY.fullmatch(value) is not None


def _plain_number(value: Any) -> bool:
    """A JSON number that reads back as the same short text (not 1e400, NaN or 10**400)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return -MAX_INT <= value <= MAX_INT  # false for NaN too


def _gpu_obj(gpu: Gpu) -> dict[str, Any]:
    """A GPU as JSON; ``error`` and ``reset_pending`` only where set (additive keys)."""
    out: dict[str, Any] = _obj(gpu)
    for key in ("error", "reset_pending"):
        if out[key] is None:
            del out[key]
    return out


def _obj(value: Any) -> Any:
    if value is None:
        return None
    return {k: getattr(value, k) for k in fields(value)}


class _Reader:
    """Type-checks snapshot JSON on the way in, naming the offending key."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, expected: str) -> InputError:
        return InputError(f"{self.source}: environment.{key}: expected {expected}")

    def opt_str(self, data: Mapping[str, Any], key: str, prefix: str = "") -> str | None:
        value = data.get(key)
        if value is None or isinstance(value, str):
            return value
        if _plain_number(value):
            return str(value)
        raise self.fail(prefix + key, "a string or null")

    def opt_int(self, data: Mapping[str, Any], key: str, prefix: str, low: int = 0,
                high: int = MAX_INT) -> int | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            return value
        raise self.fail(prefix + key, f"an integer from {low} to {high} or null")

    def capability(self, data: Mapping[str, Any], key: str, prefix: str) -> str | None:
        value = self.opt_str(data, key, prefix)
        if value is None or valid_capability(value):
            return value
        raise self.fail(prefix + key, "a compute capability such as '8.0' or null")

    def record(self, data: Mapping[str, Any], key: str, kind: type[Any]) -> Any:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise self.fail(key, "an object or null")
        names = fields(kind)
        out = {n: self.opt_str(value, n, f"{key}.") for n in names}
        for name, text in out.items():
            if f"{key}.{name}" in VERSION_FIELDS and text is not None and len(text) > MAX_VERSION:
                raise self.fail(f"{key}.{name}", f"a version of at most {MAX_VERSION} characters")
        return kind(**out)

    def list_of(self, data: Mapping[str, Any], key: str, item: type[Any]) -> list[Any]:
        value = data.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, item) for v in value):
            raise self.fail(key, f"a list of {'objects' if item is dict else 'strings'}")
        return value

    def str_map(self, data: Mapping[str, Any], key: str) -> dict[str, str]:
        value = data.get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(key, "an object")
        out: dict[str, str] = {}
        for k, v in value.items():
            if not isinstance(v, str) and not _plain_number(v):
                raise self.fail(f"{key}.{k}", "a string")
            if key == "packages" and len(str(v)) > MAX_VERSION:
                raise self.fail(f"{key}.{k}", f"a version of at most {MAX_VERSION} characters")
            out[str(k)] = str(v)
        return out

    def requirements(self, data: Mapping[str, Any]) -> dict[str, tuple[str, ...]] | None:
        value = data.get("requirements")
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise self.fail("requirements", "an object")
        out: dict[str, tuple[str, ...]] = {}
        for name, reqs in value.items():
            if not isinstance(reqs, list) or not all(isinstance(r, str) for r in reqs):
                raise self.fail(f"requirements.{name}", "a list of strings")
            out[str(name)] = tuple(reqs)
        return out

    def extensions(self, data: Mapping[str, Any]) -> dict[str, dict[str, Any]] | None:
        value = data.get("extensions")
        if value is None:
            return None
        if not isinstance(value, Mapping) or not all(isinstance(v, Mapping) for v in value.values()):
            raise self.fail("extensions", "an object of objects")
        out: dict[str, dict[str, Any]] = {}
        for name, entry in value.items():
            clean: dict[str, Any] = {}
            for key, item in entry.items():
                if item is None or isinstance(item, str):
                    clean[str(key)] = item
                elif isinstance(item, list) and all(isinstance(i, str) for i in item):
                    clean[str(key)] = list(item)
                elif isinstance(item, Mapping) and all(isinstance(i, str) for i in item.values()):
                    clean[str(key)] = {str(k): v for k, v in item.items()}
                else:
                    raise self.fail(f"extensions.{name}.{key}",
                                    "a string, a list of strings, an object of strings or null")
            out[str(name)] = clean
        return out

    def ecosystem(self, data: Mapping[str, Any]) -> dict[str, dict[str, Any]] | None:
        value = data.get("ecosystem")
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise self.fail("ecosystem", "an object")
        out: dict[str, dict[str, Any]] = {}
        for name, entry in value.items():
            where = f"ecosystem.{name}"
            if not isinstance(entry, Mapping) or not isinstance(entry.get("version"), str):
                raise self.fail(where, "an object with a 'version' string")
            imports = entry.get("imports")
            if not isinstance(imports, list):
                raise self.fail(f"{where}.imports", "a list")
            clean = []
            for i, site in enumerate(imports):
                if not (isinstance(site, Mapping) and isinstance(site.get("file"), str)
                        and isinstance(site.get("module"), str)
                        and isinstance(site.get("line"), int) and not isinstance(site.get("line"), bool)
                        and isinstance(site.get("names"), list)
                        and all(isinstance(n, str) for n in site["names"])):
                    raise self.fail(f"{where}.imports[{i}]",
                                    "an object with file, line, module and names")
                clean.append({"file": site["file"], "line": site["line"],
                              "module": site["module"], "names": list(site["names"])})
            files = entry.get("files")
            out[str(name)] = {"version": entry["version"], "package": str(entry.get("package", "")),
                              "files": files if isinstance(files, int) and not isinstance(files, bool) else 0,
                              "complete": entry.get("complete") is not False, "imports": clean}
        return out

    def gpu(self, raw: Mapping[str, Any], position: int) -> Gpu:
        prefix = f"gpus[{position}]."
        index = self.opt_int(raw, "index", prefix, high=MAX_GPU_INDEX)
        return Gpu(
            index=position if index is None else index,
            name=self.opt_str(raw, "name", prefix),
            memory_total_mib=self.opt_int(raw, "memory_total_mib", prefix),
            memory_free_mib=self.opt_int(raw, "memory_free_mib", prefix),
            compute_capability=self.capability(raw, "compute_capability", prefix),
            error=self.opt_str(raw, "error", prefix),
            reset_pending=self.opt_str(raw, "reset_pending", prefix),
        )

    def nccl_files(self, data: Mapping[str, Any]) -> dict[str, NcclFile]:
        value = data.get("nccl_files")
        if value is None:
            return {}
        if not isinstance(value, Mapping) or not all(isinstance(v, Mapping) for v in value.values()):
            raise self.fail("nccl_files", "an object of objects")
        out: dict[str, NcclFile] = {}
        for name, raw in value.items():
            exists = raw.get("exists")
            sms = raw.get("sms") or []
            if not isinstance(exists, bool) or not isinstance(sms, list):
                raise self.fail(f"nccl_files.{name}", "{exists: bool, gpus, sms: [...]}")
            out[str(name)] = NcclFile(exists, self.opt_int(raw, "gpus", f"nccl_files.{name}."),
                                      tuple(str(x) for x in sms))
        return out
