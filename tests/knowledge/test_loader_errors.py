"""Malformed knowledge files fail at load time with one line naming the file and key path."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from vlmdoctor.errors import InputError
from vlmdoctor.knowledge import load_knowledge

ROOT = Path(__file__).resolve().parents[2]
GOOD_RULE = """schema_version: 1
rules:
  - id: demo-rule
    severity: warning
    title: demo
    when:
      all:
        - present: driver.version
        - {when_item}
    message: demo
    references: [https://example.org/source]
"""


def rules_dir(tmp_path: Path, checks: str, models: str | None = None) -> Path:
    root = tmp_path / "rules"
    (root / "checks").mkdir(parents=True)
    (root / "data").mkdir()
    shutil.copy(ROOT / "rules" / "data" / "cuda.yaml", root / "data" / "cuda.yaml")
    (root / "checks" / "demo.yaml").write_text(checks)
    if models is not None:
        (root / "models").mkdir()
        (root / "models" / "demo.yaml").write_text(models)
    return root


def load_error(tmp_path: Path, checks: str, models: str | None = None) -> str:
    with pytest.raises(InputError) as info:
        load_knowledge(rules_dir(tmp_path, checks, models))
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(("when_item", "expected"), [
    ("present: driver.cuda_version",
     "rules/checks/demo.yaml: rule demo-rule: when.all[1].present: "
     "unknown fact 'driver.cuda_version' (did you mean 'driver.cuda'?)"),
    ("equal: {fact: driver.cuda, value: x}",
     "rules/checks/demo.yaml: rule demo-rule: when.all[1].equal: "
     "unknown operator 'equal' (did you mean 'equals'?)"),
    ("version: {fact: driver.cuda, spec: '>>12'}",
     "rules/checks/demo.yaml: rule demo-rule: when.all[1].version.spec: "
     "unparsable version specifier '>>12'"),
    ("compare: {fact: driver.version, op: '<', value: 'five-three-five'}",
     "rules/checks/demo.yaml: rule demo-rule: when.all[1].compare.value: "
     "unparsable version 'five-three-five'"),
    ("version: {fact: host.os, spec: '>1'}",
     "rules/checks/demo.yaml: rule demo-rule: when.all[1].version.fact: "
     "'version' needs a version fact; 'host.os' is str"),
    ("matches: {fact: host.os, regex: '('}",
     "rules/checks/demo.yaml: rule demo-rule: when.all[1].matches.regex: "
     "invalid regular expression: missing ), unterminated subpattern at position 0"),
])
def test_condition_errors(tmp_path: Path, when_item: str, expected: str) -> None:
    assert load_error(tmp_path, GOOD_RULE.replace("{when_item}", when_item)) == expected


def test_unknown_rule_key(tmp_path: Path) -> None:
    text = GOOD_RULE.replace("{when_item}", "present: torch.cuda").replace(
        "message: demo", "mesage: demo\n    message: demo")
    assert load_error(tmp_path, text) == (
        "rules/checks/demo.yaml: rule demo-rule: mesage: unknown key 'mesage' "
        "(did you mean 'message'?)")


def test_unknown_placeholder(tmp_path: Path) -> None:
    text = GOOD_RULE.replace("{when_item}", "present: torch.cuda").replace(
        "title: demo", "title: 'driver {driver.versoin}'")
    assert load_error(tmp_path, text) == (
        "rules/checks/demo.yaml: rule demo-rule: title: unknown fact 'driver.versoin' in "
        "placeholder (did you mean 'driver.version'?)")


def test_malformed_yaml(tmp_path: Path) -> None:
    assert load_error(tmp_path, "rules: [\n  - id: x\n") == (
        "rules/checks/demo.yaml: malformed YAML: line 2, column 3: "
        "did not find expected node content")


def test_duplicate_rule_id(tmp_path: Path) -> None:
    one = GOOD_RULE.replace("{when_item}", "present: torch.cuda")
    body = one.split("rules:\n", 1)[1]
    assert load_error(tmp_path, one + body) == (
        "rules/checks/demo.yaml: rule demo-rule: duplicate rule id (also in rules/checks/demo.yaml)")


def test_model_card_unknown_key(tmp_path: Path) -> None:
    checks = GOOD_RULE.replace("{when_item}", "present: torch.cuda")
    models = ("schema_version: 1\nfamily: {id: demo, name: Demo}\nmodels:\n"
              "  - {id: demo-7b, name: Demo-7B, sources: [x], native_dtyp: bf16}\n")
    assert load_error(tmp_path, checks, models) == (
        "rules/models/demo.yaml: models[0].native_dtyp: unknown key 'native_dtyp' "
        "(did you mean 'native_dtype'?)")


def test_model_card_bad_specifier(tmp_path: Path) -> None:
    checks = GOOD_RULE.replace("{when_item}", "present: torch.cuda")
    models = ("schema_version: 1\nfamily: {id: demo, name: Demo}\nmodels:\n"
              "  - id: demo-7b\n    name: Demo-7B\n    sources: [x]\n    requirements:\n"
              "      packages:\n        transformers: {spec: '=4.37', why: w, references: [r]}\n")
    assert load_error(tmp_path, checks, models) == (
        "rules/models/demo.yaml: models[0].requirements.packages.transformers.spec: "
        "unparsable version specifier '=4.37'")


def test_not_a_rules_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load_knowledge(tmp_path)
    assert str(info.value) == f"{tmp_path}: not a rules directory (expected {tmp_path / 'checks'}/)"


def test_shipped_knowledge_loads() -> None:
    knowledge = load_knowledge()
    assert len(knowledge.rules) >= 20
    assert knowledge.catalogue.resolve("YanweiLi/MGM-7B").id == "minigemini-7b"
