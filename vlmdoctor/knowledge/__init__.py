"""The knowledge layer: rule files, model cards and CUDA tables, validated as they load.

A rules directory has ``checks/`` (rules), ``models/`` (model cards),
``data/cuda.yaml`` (tables) and ``failures.yaml`` (the failure table: probe signatures
and explain rules). The shipped one lives inside the package
(``vlmdoctor/rules`` in the wheel) or at the repository root in a checkout.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from vlmdoctor.errors import InputError, RuleError
from vlmdoctor.record import record

if TYPE_CHECKING:  # submodules import the fact registry, which imports tables from here
    from vlmdoctor.knowledge.catalogue import Catalogue
    from vlmdoctor.knowledge.failures import FailureTable
    from vlmdoctor.knowledge.rules import Rule
    from vlmdoctor.knowledge.tables import CudaTables


@record
class Knowledge:
    rules: tuple[Rule, ...]
    catalogue: Catalogue
    tables: CudaTables
    root: Path
    failures: FailureTable | None = None

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)


def default_rules_dir() -> Path:
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "rules", package.parent / "rules"):
        if (candidate / "checks").is_dir():
            return candidate
    raise InputError(f"the rule base is missing (looked in {package / 'rules'} "
                     f"and {package.parent / 'rules'}); reinstall vlmdoctor")


def load_knowledge(rules_dir: Path | str | None = None, gate: bool = False) -> Knowledge:
    """The rule base. ``gate=True`` leaves out the failure table (rules/failures.yaml:
    explain's symptom rules and the probe's classification) and reads model cards only when
    a name they declare is looked up: that is the pre-job gate's load (`check` gives no error
    text, so those rules cannot fire there; compiling their patterns and validating every
    card cost the gate ~60 ms)."""
    from vlmdoctor.knowledge.catalogue import Catalogue, load_catalogue
    from vlmdoctor.knowledge.failures import load_failures
    from vlmdoctor.knowledge.rules import load_rules
    from vlmdoctor.knowledge.schema import SchemaError
    from vlmdoctor.knowledge.tables import parse_tables
    from vlmdoctor.yamlio import load_yaml

    root = Path(rules_dir) if rules_dir is not None else default_rules_dir()
    if not (root / "checks").is_dir():
        raise InputError(f"{root}: not a rules directory (expected {root / 'checks'}/)")
    base = root.parent
    tables_path = root / "data" / "cuda.yaml"
    shown = _show(tables_path, base)
    try:
        tables = parse_tables(load_yaml(tables_path, shown))
    except SchemaError as exc:
        raise RuleError(shown, exc.path, exc.problem) from None
    models = root / "models"
    rules = load_rules(root / "checks", base)
    failures_path = root / "failures.yaml"
    table = None
    if not gate and failures_path.is_file():
        table = load_failures(failures_path, _show(failures_path, base))
        ids = {r.id for r in rules}
        clash = next((r.id for r in table.explain_rules() if r.id in ids), None)
        if clash:
            raise RuleError(_show(failures_path, base), f"rule {clash}",
                            "duplicate rule id (also in checks/)")
        rules += table.explain_rules()
    return Knowledge(
        rules=rules,
        catalogue=load_catalogue(models, base, lazy=gate) if models.is_dir()
        else Catalogue(()),
        tables=tables,
        root=root,
        failures=table,
    )


def _show(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)
