"""``ModelFacts``: what the model's own files say, as plain data that round-trips JSON.

The report keeps these under ``target.model_facts`` so ``--from-report`` evaluates the same
facts without the files. To add a field: give it a default and a kind in ``_KINDS``; older
reports without it read back as the default, newer keys an older reader does not know are
ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Mapping, Union

from vlmdoctor.errors import InputError

Scalar = Union[str, int, float, bool, None]


@dataclass(frozen=True)
class ModelFacts:
    name_or_path: str | None = None          # config.json `_name_or_path`
    repo_id: str | None = None               # org/name when read from the HF cache
    model_type: str | None = None
    model_types: tuple[str, ...] = ()        # the model's and its nested configs', in order
    architectures: tuple[str, ...] = ()
    auto_map: Mapping[str, str] = field(default_factory=dict)  # remote code classes
    dtype: str | None = None                 # torch_dtype / dtype as saved (bfloat16, ...)
    transformers_version: str | None = None  # the release the checkpoint was saved with
    params: Mapping[str, int] = field(default_factory=dict)    # component -> count, + total
    storage_dtypes: Mapping[str, str] = field(default_factory=dict)  # component -> F16, BF16
    weight_bytes: int | None = None          # sum of tensor bytes in the safetensors files
    weight_files: tuple[str, ...] = ()
    missing_files: tuple[str, ...] = ()      # shards the index names that are not there
    geometry: Mapping[str, Scalar] = field(default_factory=dict)  # Architecture field names
    images: Mapping[str, Scalar] = field(default_factory=dict)    # preprocessor budget
    quantization: Mapping[str, Scalar] = field(default_factory=dict)  # quant_method, bits, ...
    files: tuple[str, ...] = ()              # remote-code *.py, relative to the model dir
    # Values config.json leaves out, filled from the config class's defaults in this
    # transformers release (modelfiles.defaults): dotted config key -> value.
    defaults_release: str | None = None
    config_defaults: Mapping[str, Scalar] = field(default_factory=dict)
    # Bytes of the stored tensors per component (packed, as the headers give them).
    storage_bytes: Mapping[str, int] = field(default_factory=dict)

    @property
    def trust_remote_code(self) -> bool:
        return bool(self.auto_map)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else (
                dict(value) if isinstance(value, Mapping) else value)
        return out

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "model_facts") -> ModelFacts:
        if not isinstance(data, Mapping):
            raise InputError(f"{source}: expected an object")
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name in data and data[f.name] is not None:
                values[f.name] = _check(data[f.name], _KINDS[f.name], f"{source}.{f.name}")
        return cls(**values)


_KINDS: dict[str, str] = {
    "name_or_path": "str", "repo_id": "str", "model_type": "str", "model_types": "strs",
    "architectures": "strs", "auto_map": "strmap", "dtype": "str",
    "transformers_version": "str", "params": "intmap", "storage_dtypes": "strmap",
    "weight_bytes": "int", "weight_files": "strs", "missing_files": "strs",
    "geometry": "scalarmap", "images": "scalarmap", "quantization": "scalarmap",
    "files": "strs", "defaults_release": "str", "config_defaults": "scalarmap",
    "storage_bytes": "intmap",
}


def _check(value: Any, kind: str, where: str) -> Any:
    def bad(what: str) -> InputError:
        return InputError(f"{where}: expected {what}")

    if kind == "str":
        if not isinstance(value, str):
            raise bad("a string")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < LIMIT:
            raise bad("a non-negative integer")
        return value
    if kind == "strs":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad("a list of strings")
        return tuple(value)
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise bad("an object")
    if not all(_value_ok(v, kind) for v in value.values()):
        raise bad({"strmap": "string values", "intmap": "integer values",
                   "scalarmap": "plain values"}[kind])
    return dict(value)


LIMIT = 2 ** 53  # counts and sizes beyond this are not a model (and overflow float maths)


def plain(value: Any) -> bool:
    """A value a ``scalarmap`` holds: None, str, bool, or a finite number of sane size."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return -LIMIT < value < LIMIT  # also rejects inf and nan
    return value is None or isinstance(value, (str, bool))


def _value_ok(value: Any, kind: str) -> bool:
    if kind == "strmap":
        return isinstance(value, str)
    if kind == "intmap":
        return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < LIMIT
    return plain(value)
