"""The bounded JSON reader's limits at their edges, as a user of ``check -m DIR`` sees them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.hostile.test_reports import run
from tests.modelfiles.tiny import QWEN_CONFIG, QWEN_PREPROCESSOR, QWEN_TENSORS, write_model


def _check_with(tmp_path: Path, extra: str) -> tuple[Path, int, str]:
    root = write_model(tmp_path / "ckpt", config=dict(QWEN_CONFIG), tensors=QWEN_TENSORS,
                       preprocessor=QWEN_PREPROCESSOR)
    text = json.dumps(QWEN_CONFIG)
    (root / "config.json").write_text(text[:-1] + ', "x": ' + extra + "}")
    code, _, err = run("check", "--no-probe", "-m", str(root))
    return root, code, err


def _nested(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("levels", [63, 64])
def test_a_config_nested_to_the_limit_is_read(tmp_path: Path, levels: int) -> None:
    # the config object is level 0, "x" level 1: 64 levels in all at most
    _, code, err = _check_with(tmp_path, _nested(levels))
    assert code in (0, 1), err


@pytest.mark.parametrize("levels", [65, 80])
def test_a_config_nested_past_the_limit_exits_2(tmp_path: Path, levels: int) -> None:
    root, code, err = _check_with(tmp_path, _nested(levels))
    assert code == 2, err
    assert err.startswith(f"vlmdoctor: error: {root}/config.json: x[0]"), err
    assert err.endswith(": nested more than 64 levels\n"), err


@pytest.mark.parametrize("sign", ["", "-"])
def test_an_integer_of_64_digits_is_read_whatever_its_sign(tmp_path: Path, sign: str) -> None:
    _, code, err = _check_with(tmp_path, sign + "9" * 64)
    assert code in (0, 1), err


@pytest.mark.parametrize("sign", ["", "-"])
def test_an_integer_of_65_digits_exits_2(tmp_path: Path, sign: str) -> None:
    root, code, err = _check_with(tmp_path, sign + "9" * 65)
    assert (code, err) == (2, f"vlmdoctor: error: {root}/config.json: malformed JSON: an "
                              "integer of 65 digits (at most 64 are read)\n")
