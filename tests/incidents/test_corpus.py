"""The incident corpus: every real incident is diagnosed by check --from-report and explain."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import ROOT, make_knowledge
from tests.incidents.corpus import CASES, CLASSES, IncidentError, load_corpus, load_incident
from tests.incidents.docs import DOC, incidents_markdown
from tests.incidents.runner import diagnose

KNOWLEDGE = make_knowledge()
IDS = frozenset(r.id for r in KNOWLEDGE.rules)
FILES = sorted(CASES.glob("*.yaml"))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_incident_is_diagnosed(path: Path, tmp_path: Path) -> None:
    outcome = diagnose(load_incident(path, IDS), KNOWLEDGE, tmp_path)
    assert outcome.misses == (), (
        f"{path.name}: check fired {outcome.check_ids}; explain fired {outcome.explain_ids}")


def test_corpus_is_broad() -> None:
    corpus = load_corpus(IDS)
    assert len(corpus) >= 80  # the corpus only grows
    counts = Counter(i.klass for i in corpus)
    too_big = {k: n for k, n in counts.items() if n > len(corpus) // 10}
    assert too_big == {}, f"classes above 10 % of {len(corpus)} incidents"
    assert len({i.source for i in corpus}) == len(corpus), "one incident per thread"
    assert set(counts) <= set(CLASSES)


def test_incidents_doc_is_current() -> None:
    assert DOC.read_text() == incidents_markdown(load_corpus()), "run: python -m tests.incidents.docs"


def test_the_tool_never_reads_the_corpus() -> None:
    for path in (ROOT / "vlmdoctor").rglob("*.py"):
        assert "incidents" not in path.read_text(), path


GOOD = """\
id: {name}
title: t
source: https://github.com/pytorch/pytorch/issues/1
confirmed_by: maintainer
class: driver-cuda
environment: {{python: "3.10", driver: "535.104.05", gpus: [A10], torch: "2.7.1+cu128"}}
error: "RuntimeError: The NVIDIA driver on your system is too old"
diagnosis: {{findings: [symptom-driver-too-old], fix_tokens: [], environment_shows: false}}
"""


def _load_bad(tmp_path: Path, old: str, new: str, name: str = "bad-incident") -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(GOOD.format(name="bad-incident").replace(old, new))
    with pytest.raises(IncidentError) as info:
        load_incident(path, IDS)
    return str(info.value)


def test_a_good_incident_loads_and_builds_its_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "good-one.yaml"
    path.write_text(GOOD.format(name="good-one"))
    inc = load_incident(path, IDS)
    assert inc.snapshot["driver"] == {"version": "535.104.05", "cuda": "12.2"}
    assert inc.snapshot["torch"] == {"version": "2.7.1+cu128", "cuda": "12.8"}
    assert inc.snapshot["gpus"][0]["compute_capability"] == "8.6"
    assert inc.snapshot["packages"]["torch"] == "2.7.1+cu128"
    assert diagnose(inc, KNOWLEDGE, tmp_path).misses == ()


@pytest.mark.parametrize(("old", "new", "message"), [
    ("source: https://github.com/pytorch/pytorch/issues/1", "source: https://example.com/x",
     "bad-incident.yaml: source: a GitHub issue, pull request or discussion URL"),
    ("class: driver-cuda", "class: misc",
     "bad-incident.yaml: class: unknown class 'misc'"),
    ("gpus: [A10]", "gpus: [K80]", "bad-incident.yaml: environment.gpus[0]: unknown GPU 'K80'"),
    ("symptom-driver-too-old]", "symptom-nope]",
     "bad-incident.yaml: diagnosis.findings[0]: no rule or failure row has id 'symptom-nope'"),
    ("environment_shows: false", "environment_shows: maybe",
     "bad-incident.yaml: diagnosis.environment_shows: required, true or false"),
    ("environment_shows: false", "environment_shows: true",
     "bad-incident.yaml: diagnosis.environment_shows: true needs a finding that is not a symptom-*"),
    ("confirmed_by: maintainer", "confirmed_by: me",
     "bad-incident.yaml: confirmed_by: 'reporter' or 'maintainer'"),
    ("torch: \"2.7.1+cu128\"", "torch: \"2.12.0\"",
     "bad-incident.yaml: environment.torch_cuda: required for torch 2.12.0 (no +cuXYZ label)"),
    ("python: \"3.10\"", "python: \"2.7\"", "bad-incident.yaml: environment.python: a Python 3"),
    ("title: t", "titel: t", "bad-incident.yaml: titel: unknown key"),
    ("error: \"RuntimeError: The NVIDIA driver on your system is too old\"\n", "",
     "bad-incident.yaml: error: required when diagnosis.environment_shows is false"),
    ("driver: \"535.104.05\"", "driver: \"535.104.05\", nccl: x",
     "bad-incident.yaml: environment.nccl: unknown key"),
    ("id: bad-incident", "id: other-name", "bad-incident.yaml: id: must be kebab-case"),
])
def test_an_invalid_incident_names_its_file_and_field(tmp_path: Path, old: str, new: str,
                                                      message: str) -> None:
    assert _load_bad(tmp_path, old, new).startswith(message)


def test_malformed_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("id: [unclosed\n")
    with pytest.raises(IncidentError, match=r"^broken\.yaml: \(file\): malformed YAML"):
        load_incident(path, IDS)


def test_a_miss_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "miss-one.yaml"
    path.write_text(GOOD.format(name="miss-one").replace("fix_tokens: []", "fix_tokens: [zzz-never]"))
    outcome = diagnose(load_incident(path, IDS), KNOWLEDGE, tmp_path)
    assert outcome.misses == ("fix: no 'zzz-never'",)
