"""The committed index: it agrees with the installed transformers and with the model cards."""

from __future__ import annotations

import importlib
import importlib.util
import types

import pytest
from packaging.specifiers import SpecifierSet

from tests.conftest import make_knowledge
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
def full() -> TransformersIndex:
    return load_index()


@pytest.fixture(scope="module")
def index(full: TransformersIndex) -> TransformersIndex:
    """The index, for tests that compare it with the installed release (skipped, saying so,
    when that release is outside it: then the index needs a rebuild)."""
    index = full
    if index.position(INSTALLED) is None:
        pytest.skip(f"installed transformers {INSTALLED} is outside the index "
                    f"({index.releases[0]}..{index.newest}): rebuild it")
    return index


def _defined(module: types.ModuleType) -> set[str]:
    """Names the module itself binds (submodules set as attributes by later imports excluded)."""
    return {name for name, value in vars(module).items()
            if not name.startswith("__") and not (
                isinstance(value, types.ModuleType)
                and value.__name__ == f"{module.__name__}.{name}")}


def test_index_starts_at_4_30_and_is_ordered(full: TransformersIndex) -> None:
    assert full.releases[0] == "4.30.0"
    assert list(full.releases) == sorted(full.releases, key=lambda v: tuple(map(int, v.split("."))))


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


def test_card_windows_agree_with_the_index(full: TransformersIndex) -> None:
    """A card's error windows never allow a release that does not register its model_type."""
    disagree = []
    for card in make_knowledge().catalogue.cards:
        reqs = card.requirements
        if not card.hf_model_type or reqs.trust_remote_code or reqs.needs_repo_install:
            continue
        spans = full.model_type_spans(card.hf_model_type)
        assert spans, f"{card.id}: model_type {card.hf_model_type!r} is in no indexed release"
        specs = [SpecifierSet(r.spec) for r in reqs.for_package("transformers")
                 if r.severity == "error"]
        for pos, release in enumerate(full.releases):
            allowed = all(s.contains(release, prereleases=True) for s in specs)
            if allowed and not any(a <= pos <= b for a, b in spans):
                disagree.append(f"{card.id} allows transformers {release}, which lacks "
                                f"{card.hf_model_type!r}")
                break
    assert disagree == []
