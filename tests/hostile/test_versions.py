"""A version that packaging cannot parse is unknown: no rule fires because of it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import InvalidVersion, Version

from tests.conftest import environment, make_knowledge
from vlmdoctor.evaluate.context import Context
from vlmdoctor.evaluate.derive import torch_fix
from vlmdoctor.evaluate.engine import evaluate
from vlmdoctor.snapshot import Snapshot

PLACES = {
    "packages.transformers": {"packages": {"transformers": None}},
    "packages.accelerate": {"packages": {"accelerate": None}},
    "packages.torch": {"packages": {"torch": None}},
    "torch.version": {"torch": {"version": None}},
    "torch.cuda": {"torch": {"cuda": None}},
    "driver.version": {"driver": {"version": None}},
    "driver.cuda": {"driver": {"cuda": None}},
}
MODELS = ("internvl2-8b", "minigemini-7b", "llava-1.5-7b-hf", "qwen2-vl-7b-instruct")


def _unparseable(text: str) -> bool:
    try:
        Version(text)
    except InvalidVersion:
        return True
    return False


UNPARSEABLE = (st.sampled_from(["1.0.0-custom+gitabc", "4.x", "latest", "12.1-rc", "dev",
                                "4.37.2_custom", "2.1.0+cu121+local", " ", "v"])
               | st.from_regex(r"[0-9]{1,2}(\.[0-9a-z_+-]{1,4}){0,3}", fullmatch=True)
               | st.text(max_size=10)).filter(_unparseable)


def _patched(place: str, value: str) -> dict[str, Any]:
    section, key = place.split(".")
    patch = json.loads(json.dumps(PLACES[place]))
    patch[section][key] = value
    return patch


@settings(max_examples=60, deadline=None)
@given(place=st.sampled_from(sorted(PLACES)), value=UNPARSEABLE, model=st.sampled_from(MODELS),
       base=st.sampled_from(["a100-cu124", "t4-cu121", "h100x4-cu121"]))
def test_unparseable_versions_raise_no_alarm(place: str, value: str, model: str,
                                             base: str) -> None:
    knowledge = make_knowledge()
    snap = Snapshot.from_dict(environment(base, _patched(place, value)))
    ctx = Context(snapshot=snap, tables=knowledge.tables,
                  card=knowledge.catalogue.resolve(model))
    for finding in evaluate(knowledge.rules, ctx):
        assert value not in {str(v) for v in finding.evidence.values()}, finding.id


@pytest.mark.parametrize("gpus", [None, []])
def test_unknown_gpus_keep_minor_compat_builds(gpus: list[Any] | None) -> None:
    """Driver 470 (CUDA 11.4) runs cu118 builds (minor-version compatibility)."""
    env = environment("a100-cu124", {"driver": {"version": "470.82.01", "cuda": "11.4"},
                                     "torch": {"version": "2.1.0+cu121", "cuda": "12.1"},
                                     "packages": {"torch": "2.1.0+cu121"}})
    if gpus is None:
        env.pop("gpus")
    else:
        env["gpus"] = gpus
    fix = torch_fix(Snapshot.from_dict(env), make_knowledge().tables)
    assert fix is not None and fix.startswith("pip install 'torch==2.1.")
    assert fix.endswith("--index-url https://download.pytorch.org/whl/cu118")


def test_no_build_message_names_gpus_only_when_known() -> None:
    env = environment("a100-cu124", {"driver": {"version": "390.1", "cuda": "9.1"}})
    env["gpus"] = []
    fix = torch_fix(Snapshot.from_dict(env), make_knowledge().tables)
    assert fix == ("# no published torch build runs on this driver (CUDA 9.1) (whatever the "
                   "GPUs): upgrade the NVIDIA driver first, then install a build for your GPU")
