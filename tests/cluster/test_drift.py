"""Drift analysis over node snapshots: majority and golden references, ties, order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from vlmdoctor.cluster.drift import NodeView, analyse, clock_entry
from vlmdoctor.cluster.findings import drift_findings
from vlmdoctor.cluster.section import digest, node_view
from vlmdoctor.knowledge.drift_table import load_drift_table

ROOT = Path(__file__).resolve().parents[2]
TABLE = load_drift_table(ROOT / "rules")
BASE = json.loads((ROOT / "fixtures" / "environments" / "a100-cu124.json").read_text())


def env(**changes: Any) -> dict[str, Any]:
    out = json.loads(json.dumps(BASE.get("environment", BASE)))
    for path, value in changes.items():
        section, _, name = path.partition("__")
        if name:
            out.setdefault(section, {})
            if value is None:
                out[section].pop(name.replace("_", "-"), None)
            else:
                out[section][name.replace("_", "-")] = value
        else:
            out[section] = value
    return out


def nodes(*environments: dict[str, Any]) -> list[NodeView]:
    return [NodeView(f"n{i}", e) for i, e in enumerate(environments)]


def test_identical_nodes_have_no_drift_and_equal_digests() -> None:
    views = nodes(env(), env(), env())
    assert analyse(views, TABLE) == ()
    assert len({digest(v.environment) for v in views}) == 1


def test_majority_names_the_odd_node_and_the_fix() -> None:
    views = nodes(env(packages__transformers="4.45.2"), env(packages__transformers="4.45.2"),
                  env(packages__transformers="4.44.0"))
    (entry,) = analyse(views, TABLE)
    assert (entry.key, entry.id, entry.severity, entry.reference, entry.basis, entry.outliers) \
        == ("packages.transformers", "cluster-drift-package", "error", "4.45.2", "majority",
            ("n2",))
    (finding,) = drift_findings((entry,), TABLE)
    assert finding.title == ("packages.transformers is 4.44.0 on n2, not 4.45.2 as on the "
                             "majority")
    assert finding.fix == ("# on n2:", "pip install 'transformers==4.45.2'")


def test_a_tie_has_no_reference() -> None:
    views = nodes(env(packages__tokenizers="0.19.1"), env(packages__tokenizers="0.20.0"))
    (entry,) = analyse(views, TABLE)
    assert (entry.reference, entry.basis, entry.outliers) == (None, "none", ("n0", "n1"))
    (finding,) = drift_findings((entry,), TABLE)
    assert finding.title == ("packages.tokenizers differs with no majority: 0.19.1 on n0 vs "
                             "0.20.0 on n1")


def test_golden_wins_over_the_majority() -> None:
    views = nodes(env(packages__transformers="4.44.0"), env(packages__transformers="4.44.0"),
                  env(packages__transformers="4.45.2"))
    golden = NodeView("golden", env(packages__transformers="4.45.2"))
    (entry,) = analyse(views, TABLE, golden)
    assert (entry.reference, entry.basis, entry.outliers) == ("4.45.2", "golden", ("n0", "n1"))


def test_missing_package_and_unset_variable_are_values() -> None:
    views = nodes(env(packages__flash_attn="2.6.3", env={"NCCL_IB_DISABLE": "1"}),
                  env(packages__flash_attn="2.6.3", env={"NCCL_IB_DISABLE": "1"}),
                  env(packages__flash_attn=None, env={}))
    entries = {e.key: e for e in analyse(views, TABLE)}
    assert entries["packages.flash-attn"].values["n2"] == "(not installed)"
    assert entries["env.NCCL_IB_DISABLE"].values["n2"] == "(unset)"
    fixes = {f.evidence["key"]: f.fix for f in drift_findings(tuple(entries.values()), TABLE)}
    assert fixes["env.NCCL_IB_DISABLE"] == ("# on n2:", "export NCCL_IB_DISABLE=1")


def test_unknown_sections_take_no_part() -> None:
    unknown = env()
    del unknown["packages"]
    views = nodes(env(), env(), unknown)
    assert analyse(views, TABLE) == ()


def test_model_packages_raise_severity() -> None:
    views = nodes(env(packages__accelerate="0.34.0"), env(packages__accelerate="0.34.0"),
                  env(packages__accelerate="0.33.0"))
    assert analyse(views, TABLE)[0].severity == "warning"
    assert analyse(views, TABLE, model_packages=frozenset({"accelerate"}))[0].severity == "error"


def test_gpu_capabilities_and_clock() -> None:
    v100 = env(gpus=[{"index": 0, "name": "Tesla V100-SXM2-32GB", "memory_total_mib": 32768,
                      "memory_free_mib": 32000, "compute_capability": "7.0"}])
    views = [NodeView("a", env(), clock_offset=0.0), NodeView("b", env(), clock_offset=0.4),
             NodeView("c", v100, clock_offset=-7.5)]
    ids = {(e.key, e.id, e.severity, e.outliers) for e in analyse(views, TABLE)}
    assert ("gpus.capabilities", "cluster-drift-gpu", "error", ("c",)) in ids
    clock = clock_entry(views, TABLE.clock)
    assert clock is not None and (clock.id, clock.outliers) == ("cluster-clock-skew", ("c",))


def test_secret_variables_in_an_edited_report_never_reach_the_drift() -> None:
    leaky = env(env={"NCCL_DEBUG": "INFO", "NCCL_API_TOKEN": "hunter2"})
    view = node_view("x", {"environment": leaky})
    assert "NCCL_API_TOKEN" not in view.environment["env"]
    entries = analyse([view, NodeView("y", env(env={}))], TABLE)
    assert "hunter2" not in json.dumps([e.to_dict() for e in entries])


versions = st.sampled_from(["4.44.0", "4.45.2", "4.46.1"])
pixels = st.sampled_from([None, "602112", "1003520"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(versions, pixels), min_size=1, max_size=6), st.randoms())
def test_node_order_never_matters(spec: list[tuple[str, str | None]], rnd: Any) -> None:
    views = [NodeView(f"node{i}", env(packages__transformers=v,
                                      env={} if p is None else {"MAX_PIXELS": p}))
             for i, (v, p) in enumerate(spec)]
    shuffled = list(views)
    rnd.shuffle(shuffled)
    first = [e.to_dict() for e in analyse(views, TABLE)]
    assert first == [e.to_dict() for e in analyse(shuffled, TABLE)]
    for entry in analyse(views, TABLE):  # outliers are exactly the nodes off the reference
        assert set(entry.outliers) == {n for n, v in entry.values.items()
                                       if v != entry.reference}
