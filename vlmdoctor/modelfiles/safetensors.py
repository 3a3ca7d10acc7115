"""Tensor names, dtypes and shapes from safetensors headers: never the tensors.

A safetensors file starts with an 8-byte little-endian header length N and N bytes of
JSON: ``{name: {"dtype", "shape", "data_offsets"}, "__metadata__": {...}}``
(https://github.com/huggingface/safetensors#format). Only those bytes are read.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

from vlmdoctor.errors import InputError
from vlmdoctor.jsonfile import check_value, parse_json

MAX_HEADER = 100 * 1024 * 1024  # the format's own limit on the header size
MAX_DIMS = 64
ITEM_BYTES = {
    "F64": 8, "I64": 8, "U64": 8, "F32": 4, "I32": 4, "U32": 4, "F16": 2, "BF16": 2,
    "I16": 2, "U16": 2, "I8": 1, "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1,
    "F8_E8M0": 1, "F4": 0.5, "F6_E2M3": 0.75, "F6_E3M2": 0.75,
}


@dataclass(frozen=True)
class TensorInfo:
    name: str
    dtype: str
    count: int  # elements stored

    @property
    def nbytes(self) -> int:
        return int(self.count * ITEM_BYTES.get(self.dtype, 0))


def read_header(path: Path, shown: str) -> tuple[TensorInfo, ...]:
    """The tensors a safetensors file holds; a malformed header is an input error."""
    try:
        with path.open("rb") as fh:
            size = path.stat().st_size
            head = fh.read(8)
            if len(head) < 8:
                raise InputError(f"{shown}: not a safetensors file (shorter than 8 bytes)")
            (length,) = struct.unpack("<Q", head)
            if length > MAX_HEADER or length > size - 8:
                raise InputError(f"{shown}: not a safetensors file (header length {length} "
                                 f"exceeds the file size {size} or the format's 100 MiB limit)")
            raw = fh.read(length)
    except OSError as exc:
        raise InputError(f"{shown}: cannot read: {exc.strerror or exc}") from None
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InputError(f"{shown}: not a safetensors file (its header is not JSON)") from None
    except (ValueError, RecursionError):  # out-of-range numbers, deep nesting
        header = parse_json(raw, shown, "safetensors header")  # raises, naming the problem
    problem = check_value(header)
    if problem:
        raise InputError(f"{shown}: safetensors header: {problem}")
    if not isinstance(header, dict):
        raise InputError(f"{shown}: not a safetensors file (its header is not a JSON object)")
    return tuple(_tensor(name, entry, shown) for name, entry in header.items()
                 if name != "__metadata__")


def _name(name: str) -> str:
    return repr(name[:80] + ("..." if len(name) > 80 else ""))


def _tensor(name: str, entry: object, shown: str) -> TensorInfo:
    if not isinstance(entry, dict):
        raise InputError(f"{shown}: tensor {_name(name)}: expected an object in the header")
    dtype, shape = entry.get("dtype"), entry.get("shape")
    if not isinstance(dtype, str) or not isinstance(shape, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise InputError(f"{shown}: tensor {_name(name)}: expected a dtype string and a shape "
                         "of non-negative integers")
    if len(shape) > MAX_DIMS:
        raise InputError(f"{shown}: tensor {_name(name)}: {len(shape)} dimensions is not a real "
                         "tensor")
    count = 1
    for dim in shape:
        count *= dim
        if count >= 2 ** 53:  # checked per step: the product never grows past this
            raise InputError(f"{shown}: tensor {_name(name)}: shape {str(shape)[:80]} is not "
                             "a real tensor")
    return TensorInfo(name=name, dtype=dtype, count=count)
