"""The torch index's maintainer part: fake wheels in (our own stand-ins of torch's shapes),
deterministic index bytes out, read back; broken index files give one line each."""

from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path

import pytest

from vlmdoctor.errors import InputError
from vlmdoctor.torchindex.build import build_index
from vlmdoctor.torchindex.index import load_index
from vlmdoctor.torchindex.wheelscan import scan_wheel

INIT_OLD = '''
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from torch.types import TypeOnly
else:
    ElseBranch = None
_tmp = 1
del _tmp
if _rocm:
    from . import _rocm_init
    del _rocm_init
__all__.extend(["inf", "nan"])
inf = nan = 0.0
PRIVATE_OPS = ("unique_dim",)
__all__ = ["Tensor", "typename"]
from torch._tensor import Tensor
from torch._C import *
from torch import nn as nn
from .functional import *
def typename(obj): ...
from torch import _six
'''
INIT_NEW = '''
__all__ = ["Tensor"]
from torch._tensor import Tensor
from torch._C import *
from torch import nn as nn
from .functional import *
_lazy_modules = {"_dynamo", "onnx"}
def __getattr__(name):
    if name in _lazy_modules:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(name)
'''
FUNCTIONAL = '__all__ = ["einsum", "norm"]\ndef einsum(*a): ...\ndef norm(*a): ...\ndef _hidden(): ...\n'
C_STUB = "from typing import Any, TypeVar\nT = TypeVar(\"T\")\nclass FloatTensor(Tensor): ...\ndef _private() -> None: ...\nfloat32: dtype = ...\n"
VF_STUB = "def unique_dim(x): ...\ndef cat(tensors, dim=0): ...\ndef _fused_thing(x): ...\ndef __dunder__(): ...\n"
SIX = "inf = float('inf')\nstring_classes = (str, bytes)\n"


def _wheel(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in sorted(files.items()):
            zf.writestr(name, text)
    return path


def _scans(tmp_path: Path) -> dict[str, dict[str, object]]:
    common = {"torch/functional.py": FUNCTIONAL, "torch/_C/__init__.pyi": C_STUB,
              "torch/_C/_VariableFunctions.pyi": VF_STUB, "torch/nn/__init__.py": "x = 1\n",
              "torch/_tensor.py": "class Tensor: ...\n",
              "torch/_inductor/config.py": "debug = False\n",
              "torch/include/ATen/core.h": "// not python\n"}
    old = _wheel(tmp_path / "torch-2.0.0-cp311-none-macosx_11_0_arm64.whl",
                 {**common, "torch/__init__.py": INIT_OLD, "torch/_six.py": SIX})
    new = _wheel(tmp_path / "torch-2.1.0-cp311-none-macosx_11_0_arm64.whl",
                 {**common, "torch/__init__.py": INIT_NEW,
                  "torch/utils/_pytree.py": "def tree_map(f, t): ...\n"})
    return {"2.0.0": scan_wheel(old), "2.1.0": scan_wheel(new)}


def test_a_wheel_gives_modules_and_the_names_a_user_can_import(tmp_path: Path) -> None:
    scans = _scans(tmp_path)
    old, new = scans["2.0.0"], scans["2.1.0"]
    assert isinstance(old["modules"], dict) and isinstance(new["modules"], dict)
    names = set(old["modules"]["torch"])
    # own definitions and imports, __all__, star imports inside torch (functional's
    # __all__ only, _C's public names only), and _VariableFunctions' non-dunder functions
    assert {"Tensor", "typename", "nn", "_six", "einsum", "norm", "FloatTensor", "float32",
            "cat", "_fused_thing"} <= names
    assert not {"_hidden", "_private", "__dunder__", "_lazy_modules"} & names
    assert {"_dynamo", "onnx", "__getattr__"} <= set(new["modules"]["torch"])
    assert old["modules"]["torch._six"] == ["inf", "string_classes"]
    assert "torch._six" not in new["modules"]
    # internals: the module is known, its names are not kept; a header file is no module
    assert old["bare"] == ["torch._C", "torch._C._VariableFunctions", "torch._inductor.config"]
    # what never exists at run time: TYPE_CHECKING imports, deleted helpers, stub imports
    assert "TypeOnly" not in names and "_tmp" not in names and "Any" not in names
    assert "ElseBranch" in names
    assert not {"_rocm_init", "unique_dim", "T"} & names  # deleted, private op, stub TypeVar
    assert {"inf", "nan", "Tensor", "typename", "cat", "FloatTensor"} <= set(old["star"]["torch"])
    assert "_fused_thing" not in old["star"]["torch"]
    assert "torch.include.ATen.core" not in json.dumps(old)


def test_the_index_round_trips_and_answers_per_release(tmp_path: Path) -> None:
    head, names = build_index(_scans(tmp_path))
    assert (head, names) == build_index(_scans(tmp_path))  # deterministic bytes
    (tmp_path / "torch-index.json.gz").write_bytes(head)
    (tmp_path / "torch-names.json.gz").write_bytes(names)
    index = load_index(tmp_path / "torch-index.json.gz")
    assert index.releases == ("2.0.0", "2.1.0")
    assert index.module_spans("torch._six") == [(0, 0)]
    assert index.module_spans("torch.utils._pytree") == [(1, 1)]
    assert index.name_spans("torch", "typename") == [(0, 0)]
    assert index.name_spans("torch", "_dynamo") == [(1, 1)]
    assert index.name_spans("torch", "nn") == [(0, 1)]
    assert index.names_indexed("torch.nn") and not index.names_indexed("torch._inductor.config")
    assert index.span_text([(1, 1)]) == "2.1.0 and later"
    assert index.span_text([(0, 0)]) == "2.0.0"
    # local build tags are ignored; a patch release of the newest line is that line
    assert index.position("2.1.0+cu121") == 1
    assert index.position("2.1.2") == 1
    assert index.position("2.0.1+cpu") == 0
    assert index.position("2.2.0") is None and index.position("1.13.1") is None


@pytest.mark.parametrize(("damage", "says"), [
    ("missing", "the torch index is missing"),
    ("truncated", "cannot read the torch index"),
    ("format", "unknown format 99"),
    ("not-json", "cannot read the torch index"),
])
def test_a_broken_index_file_is_one_line_naming_it(tmp_path: Path, damage: str,
                                                   says: str) -> None:
    head, _ = build_index(_scans(tmp_path))
    path = tmp_path / "data" / "torch-index.json.gz"
    path.parent.mkdir()
    if damage == "truncated":
        path.write_bytes(head[: len(head) // 2])
    elif damage == "format":
        document = json.loads(gzip.decompress(head))
        path.write_bytes(gzip.compress(json.dumps({**document, "format": 99}).encode()))
    elif damage == "not-json":
        path.write_bytes(gzip.compress(b"{not json"))
    with pytest.raises(InputError) as caught:
        load_index(path)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message and says in message
    assert "scripts/build_torch_index.py" in message
