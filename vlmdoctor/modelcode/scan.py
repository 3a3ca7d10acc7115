"""List every import in a model's Python code with ``ast`` (never importing it).

Input: the remote-code ``*.py`` files of a model directory, or the files of an installed
model package (``llava``, ``mgm``, ...). Output: a frozen :class:`CodeScan` that goes into
the report, so ``--from-report`` re-evaluates it without the files.

Each :class:`ImportSite` says where it is (file, line), what it imports (relative imports
resolved against the scanned root), and whether it is guarded: inside a ``try`` block, or
under ``if is_..._available():``. Those are the two shapes transformers' own
``get_imports`` skips before ``check_imports`` refuses a file for missing packages.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from vlmdoctor.errors import InputError
from vlmdoctor.jsonfile import read_bounded
from vlmdoctor.modelcode.classes import ClassUse, classes_of

MAX_FILE_BYTES = 4_000_000  # a generated or vendored monster is skipped, not parsed
MAX_FILES = 2000
MAX_TOTAL_BYTES = 64_000_000  # all files of one scan together
REMOTE_CODE = "remote code"
# Parts of an installed model package that inference never imports.
NOT_INFERENCE = frozenset({"train", "training", "serve", "eval", "evaluation", "scripts",
                           "tests", "test", "demo", "gradio_demo"})


@dataclass(frozen=True)
class ImportSite:
    file: str  # path relative to the scanned root, with "/"
    line: int
    module: str  # absolute dotted module; relative imports resolved ("" if unresolvable)
    names: tuple[str, ...]  # for "from m import a, b"; () for "import m"
    local: bool  # the module is part of the scanned code itself
    guard: str  # "" | "try" | the availability function of an enclosing if
    # For ``from m import *``: the names the file reads but never binds (what it may take
    # from the star import); () otherwise.
    star_uses: tuple[str, ...] = ()

    @property
    def top(self) -> str:
        return self.module.split(".")[0]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.file, "line": self.line, "module": self.module,
                               "names": list(self.names), "local": self.local,
                               "guard": self.guard}
        if self.star_uses:
            out["star_uses"] = list(self.star_uses)
        return out

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> ImportSite:
        return ImportSite(file=str(data["file"]), line=int(data["line"]),
                          module=str(data["module"]), names=tuple(str(n) for n in data["names"]),
                          local=bool(data["local"]), guard=str(data.get("guard", "")),
                          star_uses=tuple(str(n) for n in data.get("star_uses", ())))


@dataclass(frozen=True)
class CodeScan:
    origin: str  # what was scanned: "remote code" or "package llava"
    files: tuple[str, ...]
    imports: tuple[ImportSite, ...]
    unreadable: tuple[str, ...] = ()  # files that could not be read or parsed, with why
    classes: tuple[ClassUse, ...] = ()  # what each class uses of its transformers bases
    # what transformers' check_imports lists, per era (see checkimports); None: not recorded
    check_imports: Mapping[str, tuple[tuple[str, str, tuple[str, ...]], ...]] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"origin": self.origin, "files": list(self.files),
                               "imports": [i.to_dict() for i in self.imports],
                               "unreadable": list(self.unreadable),
                               "classes": [c.to_dict() for c in self.classes]}
        if self.check_imports is not None:
            out["check_imports"] = {era: [[t, w, list(c)] for t, w, c in rows]
                                    for era, rows in self.check_imports.items()}
        return out

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> CodeScan:
        table = data.get("check_imports")
        return CodeScan(origin=str(data["origin"]), files=tuple(str(f) for f in data["files"]),
                        imports=tuple(ImportSite.from_dict(i) for i in data["imports"]),
                        unreadable=tuple(str(u) for u in data.get("unreadable", ())),
                        classes=tuple(ClassUse.from_dict(c) for c in data.get("classes", ())),
                        check_imports=None if table is None else {
                            str(era): tuple((str(t), str(w), tuple(str(x) for x in c))
                                            for t, w, c in rows)
                            for era, rows in table.items()})


def scan_files(root: Path, files: Sequence[Path], origin: str, package: str = "") -> CodeScan:
    """Scan ``files`` under ``root``; ``package`` is the import name of ``root`` if it is one."""
    labels = sorted({_label(root, f) for f in files})
    local_modules = {_module_of(label, package) for label in labels}
    local_tops = {m.split(".")[0] for m in local_modules if m}
    sites: list[ImportSite] = []
    unreadable: list[str] = []
    budget = MAX_TOTAL_BYTES
    tables: dict[str, list[Any]] = {}
    classes: list[ClassUse] = []
    for label in labels:
        path = root / label
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                raise ValueError(f"larger than {MAX_FILE_BYTES} bytes")
            if size > budget:
                raise ValueError(f"over the scan's budget of {MAX_TOTAL_BYTES} bytes in all")
            budget -= size
            tree = ast.parse(read_bounded(path, label, MAX_FILE_BYTES, "Python file"),
                             filename=label)
        except (OSError, ValueError, SyntaxError, InputError) as exc:
            unreadable.append(f"{label}: {type(exc).__name__}: {str(exc)[:200]}")
            continue
        except (RecursionError, MemoryError):  # pathological nesting: CPython gives up
            unreadable.append(f"{label}: nested too deeply to parse")
            continue
        here = _module_of(label, package)
        is_package = label.endswith("__init__.py")
        try:
            found = [site for node, guard in _walk(tree, "")
                     for site in _sites(node, guard, label, here, is_package, local_tops)]
            if any("*" in site.names for site in found):
                free = free_names(tree)
                found = [replace(site, star_uses=free) if "*" in site.names else site
                         for site in found]
            uses = classes_of(tree, label)
            if origin == REMOTE_CODE:
                _add_demands(tables, path, tree, label)
        except RecursionError:  # a pathological expression in a signature or an import
            unreadable.append(f"{label}: nested too deeply to read")
            continue
        sites.extend(found)
        classes.extend(uses)
    return CodeScan(origin=origin, files=tuple(labels), imports=tuple(sites),
                    unreadable=tuple(unreadable), classes=tuple(classes),
                    check_imports={e: tuple(r) for e, r in tables.items() if None not in r}
                    if origin == REMOTE_CODE else None)


def _add_demands(tables: dict[str, list[Any]], path: Path, tree: ast.AST, label: str) -> None:
    """What each transformers era's check_imports lists for this remote-code file."""
    from vlmdoctor.modelcode.checkimports import ERAS, demands

    try:
        found = demands(path.read_bytes().decode("utf-8", "replace"), tree, label)
    except OSError:
        found = {}
    for era in ERAS:  # an era not told for one file is not told for the scan
        if era not in found:
            tables[era] = [None]
        elif None not in tables.setdefault(era, []):
            tables[era].extend(found[era])


def free_names(tree: ast.Module) -> tuple[str, ...]:
    """Names the file reads but binds nowhere (nor are builtins): what star imports give."""
    read: set[str] = set()
    bound: set[str] = set(dir(builtins))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update(a.asname or a.name.split(".")[0] for a in node.names)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            bound.update(node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return tuple(sorted(read - bound))


def _label(root: Path, file: Path) -> str:
    try:
        return file.relative_to(root).as_posix()
    except ValueError:
        return file.name


def _module_of(label: str, package: str) -> str:
    parts = label[: -len(".py")].split("/") if label.endswith(".py") else label.split("/")
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(([package] if package else []) + parts)


def _walk(node: ast.AST, guard: str) -> Iterator[tuple[ast.AST, str]]:
    """Import statements with the guard around them; iterative (no recursion limit), in
    source order."""
    stack: list[tuple[ast.AST, str]] = [(node, guard)]
    while stack:
        current, outer = stack.pop()
        pending: list[tuple[ast.AST, str]] = []
        for child in ast.iter_child_nodes(current):
            if isinstance(child, ast.Try):
                for sub in ast.walk(child):
                    if isinstance(sub, (ast.Import, ast.ImportFrom)):
                        yield sub, outer or "try"
                continue
            inner = outer
            if isinstance(child, ast.If) and not outer:
                inner = _availability_call(child.test)
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child, outer
            pending.append((child, inner))
        stack.extend(reversed(pending))


def _availability_call(test: ast.expr) -> str:
    for sub in ast.walk(test):
        if isinstance(sub, ast.Call):
            func = sub.func
            name = func.id if isinstance(func, ast.Name) else (
                func.attr if isinstance(func, ast.Attribute) else "")
            if name.startswith("is_") and name.endswith("available"):
                return name
    return ""


def _sites(node: ast.AST, guard: str, label: str, here: str, is_package: bool,
           local_tops: set[str]) -> Iterator[ImportSite]:
    line = getattr(node, "lineno", 0)
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield ImportSite(label, line, alias.name, (), alias.name.split(".")[0] in local_tops,
                             guard)
    elif isinstance(node, ast.ImportFrom):
        names = tuple(a.name for a in node.names)
        if node.level == 0:
            module = node.module or ""
            yield ImportSite(label, line, module, names, module.split(".")[0] in local_tops, guard)
            return
        base = here.split(".") if here else []
        drop = node.level - 1 if is_package else node.level
        if drop > len(base):
            yield ImportSite(label, line, "", names, True, guard)
            return
        parts = base[: len(base) - drop] + ([node.module] if node.module else [])
        yield ImportSite(label, line, ".".join(p for p in parts if p), names, True, guard)


def scan_dir(root: Path, origin: str = REMOTE_CODE, package: str = "") -> CodeScan:
    """Every ``*.py`` below ``root``; for a package, less its training/serving/eval parts."""
    files = sorted(p for p in root.rglob("*.py") if p.is_file() and not (
        package and NOT_INFERENCE & set(p.relative_to(root).parts[:-1])))[:MAX_FILES]
    return scan_files(root, files, origin, package)
