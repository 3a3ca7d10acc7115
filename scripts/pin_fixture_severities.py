#!/usr/bin/env python3
"""Write the severity each positive rule fixture fires with into the fixture (``severity:``).

Maintainer tool, for new fixtures: the rule-fixture test then asserts that severity, so a
rule whose severity changes by accident fails its own fixture. Review the diff: a pinned
severity is a claim about the rule, not a snapshot of whatever the code printed. Existing
``severity:`` lines are kept.

    python scripts/pin_fixture_severities.py
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.rules.test_rule_fixtures import RULE_FIXTURES, _fired  # noqa: E402


def main() -> None:
    changed = 0
    for path in sorted(RULE_FIXTURES.glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        lines = path.read_text().split("\n")
        positives = data.get("positive") or []
        section = None
        count = -1
        out = []
        for line in lines:
            out.append(line)
            if re.match(r"^(positive|negative):", line):
                section, count = line.split(":")[0], -1
            match = re.match(r"^(\s*)- name:", line)
            if match and section == "positive":
                count += 1
                case = positives[count]
                if "severity" in case:
                    continue
                severities = sorted({sev for rid, sev in _fired(case) if rid == path.stem})
                if len(severities) == 1:
                    out.append(f"{match.group(1)}  severity: {severities[0]}")
                    changed += 1
        path.write_text("\n".join(out))
    print(f"pinned {changed} positive fixture(s)")


if __name__ == "__main__":
    main()
