"""The golden files' manifest (tests/render/golden_manifest.json): per golden, its sha256 and
the sha256 of every file that renders it, so that a clean checkout with no git history can tell
a golden that was rewritten without a matching change in its code.

A golden's render sources are:
- its renderer module (the entry's "renderer") and every vlmdoctor module that imports,
  transitively (imports inside functions included), with their packages' __init__.py: the
  renderers, report, snapshot, ...;
- the entry's hand-declared "inputs": the test that builds the scenario, its fixture, and any
  other file whose change was accepted as the reason the golden moved.

A golden whose output changed because of code outside that set (a rule, the evaluator, the
fix planner) fails until that file is named in "inputs", so the manifest's diff says why the
golden moved; a golden rewritten to whatever the code now prints, with nothing it depends on
changed, fails with the golden and its modules named. ``UPDATE_GOLDEN=1`` records new hashes
only for goldens whose render sources really changed.
"""

from __future__ import annotations

import ast
import hashlib
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"
MANIFEST = ROOT / "tests" / "render" / "golden_manifest.json"
REFRESH = "UPDATE_GOLDEN=1 python -m pytest tests/render"


def digest(path: Path) -> str:
    """sha256 of the file's bytes with CRLF read as LF (a Windows checkout hashes the same)."""
    return hashlib.sha256(path.read_bytes().replace(b"\r\n", b"\n")).hexdigest()


def module_file(name: str) -> Path | None:
    base = ROOT / Path(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def imported_modules(path: Path) -> set[str]:
    """The vlmdoctor modules a file imports, at any depth of its syntax tree."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "vlmdoctor")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] != "vlmdoctor":
                continue
            found.add(node.module)
            # `from vlmdoctor.render import text` imports a module, not a name
            found.update(f"{node.module}.{a.name}" for a in node.names
                         if module_file(f"{node.module}.{a.name}") is not None)
    return found


def render_sources(renderer: str) -> list[str]:
    """Repository paths of the renderer module and every vlmdoctor module it imports,
    transitively."""
    seen: set[str] = set()
    todo = [renderer]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = module_file(name)
        if path is None:
            raise LookupError(f"tests/render/golden_manifest.json: no module {name!r} in vlmdoctor")
        todo.extend(imported_modules(path))
    # importing a.b.c runs a/__init__.py and a/b/__init__.py first
    parents = {".".join(n.split(".")[:i]) for n in seen for i in range(1, n.count(".") + 1)}
    paths = {module_file(n) for n in seen | parents}
    return sorted(p.relative_to(ROOT).as_posix() for p in paths if p is not None)


def load() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(MANIFEST.read_text())
    return data


def save(data: dict[str, Any]) -> None:
    MANIFEST.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def goldens() -> list[str]:
    return sorted(p.name for p in GOLDEN.iterdir() if p.is_file())


def sources_of(entry: dict[str, Any]) -> list[str]:
    return sorted({*render_sources(entry["renderer"]), *entry.get("inputs", [])})


def current_hashes(entry: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in sources_of(entry):
        path = ROOT / name
        if not path.is_file():
            raise LookupError(f"tests/render/golden_manifest.json names {name}, which does "
                              "not exist")
        out[name] = digest(path)
    return out


def changed_sources(entry: dict[str, Any], now: dict[str, str]) -> list[str]:
    """Render sources whose hash differs from the recorded one (added or dropped ones too)."""
    recorded: dict[str, str] = entry.get("sources", {})
    return sorted(n for n in set(now) | set(recorded) if now.get(n) != recorded.get(n))


def golden_moved_alone(name: str, entry: dict[str, Any]) -> str | None:
    """The complaint when the golden changed but nothing that renders it did, else None."""
    if "sha256" not in entry or digest(GOLDEN / name) == entry["sha256"]:
        return None
    now = current_hashes(entry)
    if changed_sources(entry, now):
        return None
    return (f"tests/golden/{name} changed, but none of the files that render it did "
            f"({', '.join(sorted(now))}): a golden may only change with its code. If other "
            f"code changed this output on purpose, add that file to the golden's \"inputs\" in "
            f"tests/render/golden_manifest.json and run {REFRESH}; otherwise the golden now "
            f"records a bug: restore it (git checkout tests/golden/{name}).")


def staleness(name: str, entry: dict[str, Any]) -> str | None:
    """What the manifest has not recorded yet for this golden, else None."""
    now = current_hashes(entry)
    moved = changed_sources(entry, now)
    golden = entry.get("sha256") != digest(GOLDEN / name)
    if not moved and not golden:
        return None
    if not moved:  # recording would not help: golden_moved_alone says what to do
        return (f"tests/golden/{name} differs from its hash in tests/render/golden_manifest.json "
                "while none of the files that render it changed: restore the golden, or name "
                "the file that changed it in the entry's \"inputs\"")
    what = ([f"tests/golden/{name}"] if golden else []) + moved
    return (f"tests/render/golden_manifest.json is stale for {name}: {', '.join(what)} changed "
            f"since it was recorded. Record it with: {REFRESH}")


def record(name: str) -> str | None:
    """Record the golden's and its sources' hashes, unless the golden moved alone (then
    the manifest is left as it is and the complaint is returned)."""
    data = load()
    entry = data["goldens"].get(name)
    if entry is None:
        return (f"tests/golden/{name} has no entry in tests/render/golden_manifest.json: add "
                f"{{\"renderer\": \"vlmdoctor.render....\", \"inputs\": [...]}} for it")
    complaint = golden_moved_alone(name, entry)
    if complaint is not None:
        return complaint
    now = current_hashes(entry)
    entry["sha256"], entry["sources"] = digest(GOLDEN / name), now
    save(data)
    return None
