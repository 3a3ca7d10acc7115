"""The committed index against the installed transformers, which the test extra pins to an
indexed release (pyproject.toml): the result never depends on PyPI's newest release."""

from __future__ import annotations

import importlib
import importlib.util
import types

import pytest

from vlmdoctor.tfindex.index import TransformersIndex, load_index

transformers = pytest.importorskip("transformers")
INSTALLED = transformers.__version__
MODULES = ("transformers.cache_utils", "transformers.modeling_utils",
           "transformers.generation.utils", "transformers.pytorch_utils",
           "transformers.modeling_outputs", "transformers.activations",
           "transformers.configuration_utils", "transformers.processing_utils",
           "transformers.image_processing_utils", "transformers.utils",
           "transformers.models.llama.modeling_llama",
           "transformers.models.qwen2_vl.modeling_qwen2_vl")


@pytest.fixture(scope="module")
def index() -> TransformersIndex:
    """The committed index; the installed transformers must be one of its releases (the test
    extra pins one), else these tests fail, saying how to fix it: they never skip."""
    index = load_index()
    if INSTALLED not in index.releases:
        pytest.fail(f"installed transformers {INSTALLED} is not an indexed release "
                    f"({index.releases[0]}..{index.newest}): install the pinned one "
                    "(pip install -e '.[test]') or rebuild the index")
    return index


def _defined(module: types.ModuleType) -> set[str]:
    """Names the module itself binds (submodules set as attributes by later imports excluded)."""
    return {name for name, value in vars(module).items()
            if not name.startswith("__") and not (
                isinstance(value, types.ModuleType)
                and value.__name__ == f"{module.__name__}.{name}")}


@pytest.mark.parametrize("name", MODULES)
def test_every_name_the_installed_module_has_is_indexed_present(index: TransformersIndex,
                                                                 name: str) -> None:
    module = importlib.import_module(name)
    absent = sorted(n for n in _defined(module) if index.has_name(name, n, INSTALLED) is not True)
    assert absent == []


def _top_level_objects() -> set[str]:
    """The lazy top level's object names: not its submodule keys (``models.x.y``, ``cli``,
    legacy module aliases), nor what only this environment's dummy-object modules add."""
    lazy_from = getattr(transformers, "_class_to_module", {})
    return {n for n in transformers.__all__ if "." not in n
            and importlib.util.find_spec(f"transformers.{n}") is None
            and not str(lazy_from.get(n, "")).startswith("utils.dummy_")}


def test_top_level_names_are_indexed_present(index: TransformersIndex) -> None:
    names = _top_level_objects()
    assert len(names) > 1000
    absent = sorted(n for n in names if not (index.has_name("transformers", n, INSTALLED)
                                            or index.has_module(f"transformers.{n}", INSTALLED)))
    assert absent == []


def test_registered_model_types_are_indexed_present(index: TransformersIndex) -> None:
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

    pos = index.position(INSTALLED)
    absent = sorted(t for t in CONFIG_MAPPING_NAMES
                    if not any(a <= pos <= b for a, b in index.model_type_spans(t)))  # type: ignore[operator]
    assert absent == []
