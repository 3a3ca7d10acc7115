"""The committed torch index against the installed torch (2.13.0): what the index says
exists in 2.13.0 really imports, and what model code imports from it the index knows."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import pytest

from vlmdoctor.torchindex.index import load_index
from vlmdoctor.torchindex.spans import covers

torch = pytest.importorskip("torch")
VERSION = torch.__version__.split("+")[0]
INDEX = load_index()
POS = INDEX.position(VERSION)
# What model code, peft, trl, accelerate and transformers import names from.
MODULES = ("torch", "torch.nn", "torch.nn.functional", "torch.nn.init", "torch.nn.parameter",
           "torch.nn.modules.module", "torch.nn.utils", "torch.nn.utils.parametrize",
           "torch.nn.attention", "torch.nn.attention.flex_attention", "torch.utils._pytree",
           "torch.utils.checkpoint", "torch.utils.data", "torch.utils.hooks", "torch.library",
           "torch.amp", "torch.cuda.amp", "torch.cuda", "torch.autograd", "torch.fx",
           "torch.optim", "torch.optim.lr_scheduler", "torch.export", "torch.compiler",
           "torch.overrides", "torch.types", "torch.hub", "torch.serialization",
           "torch.distributed", "torch.distributed.fsdp", "torch.distributed.tensor",
           "torch.distributed.fsdp.fully_sharded_data_parallel",
           "torch.distributed.algorithms._checkpoint.checkpoint_wrapper",
           "torch.distributed.checkpoint", "torch.distributed.device_mesh")
# Names defined in a branch this build does not take (a backend it lacks, ROCm, no
# torch.distributed, an opt-in sanitizer): the index keeps every branch, so it may say a
# name exists where this build lacks it, never the other way round.
OTHER_BRANCHES = {"torch": {"_C_for_compiled_check", "csan"},
                  "torch.distributed": {"ProcessGroupMPI", "ProcessGroupNCCL",
                                        "ProcessGroupUCC", "ProcessGroupXCCL", "_Stub"},
                  "torch.cuda": {"amdsmi", "_amdsmi_cdll_hook", "Path", "ctypes"},
                  "torch.distributed.device_mesh": {"_DeviceMeshStub", "_init_device_mesh_stub",
                                                    "sys"}}
# Names model code and the packages built on torch import from these modules.
USED = {"torch": ["nn", "Tensor", "einsum", "cat", "autocast", "inf", "Size", "device", "dtype",
                  "FloatTensor", "LongTensor", "BoolTensor", "Generator", "bfloat16",
                  "float8_e4m3fn", "no_grad", "inference_mode", "compile", "_dynamo",
                  "distributed", "library", "amp", "fx", "SymInt", "is_tensor"],
        "torch.nn.functional": ["scaled_dot_product_attention", "silu", "gelu", "pad",
                                "interpolate", "softmax", "linear", "layer_norm"],
        "torch.utils._pytree": ["tree_map", "tree_flatten", "register_pytree_node"],
        "torch.utils.checkpoint": ["checkpoint", "checkpoint_sequential"],
        "torch.library": ["custom_op", "register_fake", "Library", "impl"],
        "torch.amp": ["autocast", "GradScaler", "custom_fwd"],
        "torch.distributed.fsdp": ["FullyShardedDataParallel", "fully_shard", "MixedPrecision"]}


def _importable(module: object, dotted: str, name: str) -> bool:
    if hasattr(module, name):
        return True
    try:
        importlib.import_module(f"{dotted}.{name}")
    except ImportError:
        return False
    return True


def test_the_index_places_the_installed_torch() -> None:
    assert POS is not None and INDEX.releases[POS] == VERSION


@pytest.mark.parametrize("dotted", MODULES)
def test_names_the_index_has_in_this_release_import(dotted: str) -> None:
    assert POS is not None
    module = importlib.import_module(dotted)
    claimed = [n for n in INDEX.names(dotted) if covers(INDEX.name_spans(dotted, n), POS)]
    assert len(claimed) > 3
    missing = {n for n in claimed if not _importable(module, dotted, n)}
    if dotted == "torch":  # the stubs of torch._C declare some names the binary lacks
        missing -= _stub_names()
    assert sorted(missing - OTHER_BRANCHES.get(dotted, set())) == []


def _stub_names() -> set[str]:
    from vlmdoctor.tfindex.astnames import parse, top_level_names

    root = Path(torch.__file__).parent / "_C"
    return {n for stub in ("__init__.pyi", "_VariableFunctions.pyi")
            for n in top_level_names(parse((root / stub).read_text()))}


@pytest.mark.parametrize("dotted", sorted(USED))
def test_what_model_code_imports_is_in_the_index(dotted: str) -> None:
    assert POS is not None
    module = importlib.import_module(dotted)
    for name in USED[dotted]:
        assert hasattr(module, name), name  # the list itself is real
        assert covers(INDEX.name_spans(dotted, name), POS), name


def test_every_module_of_this_release_is_a_file_of_the_installed_torch() -> None:
    assert POS is not None
    spec = importlib.util.find_spec("torch")
    assert spec is not None and spec.origin is not None
    root = Path(spec.origin).parent.parent
    here = {m for m in INDEX.modules if covers(INDEX.module_spans(m), POS)}
    assert len(here) > 1000
    def exists(m: str) -> bool:
        base = root / m.replace(".", "/")
        return any(p.exists() for p in (base.with_suffix(".py"), base / "__init__.py",
                                         base.with_suffix(".pyi"), base / "__init__.pyi"))
    assert sorted(m for m in here if not exists(m)) == []
    on_disk = {str(p.relative_to(root).with_suffix("")).replace("/", ".").removesuffix(
        ".__init__") for p in (root / "torch").rglob("*.py")}
    assert sorted(m for m in on_disk - here if m.isidentifier() or "." in m)[:5] == []


def test_names_made_at_run_time_get_no_claim() -> None:
    """torch makes some names at import time (from the compiled module, in loops): the
    index cannot see them, so the model-code check must say nothing about them."""
    from vlmdoctor.modelcode.torchcheck import present_spans

    for name in ("Storage", "int4", "_sym_sqrt"):
        assert hasattr(torch, name)
        assert INDEX.name_spans("torch", name) == []
        assert present_spans(INDEX, "torch", name) is None
