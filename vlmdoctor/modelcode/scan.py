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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
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

    @property
    def top(self) -> str:
        return self.module.split(".")[0]

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "module": self.module,
                "names": list(self.names), "local": self.local, "guard": self.guard}

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> ImportSite:
        return ImportSite(file=str(data["file"]), line=int(data["line"]),
                          module=str(data["module"]), names=tuple(str(n) for n in data["names"]),
                          local=bool(data["local"]), guard=str(data.get("guard", "")))


@dataclass(frozen=True)
class CodeScan:
    origin: str  # what was scanned: "remote code" or "package llava"
    files: tuple[str, ...]
    imports: tuple[ImportSite, ...]
    unreadable: tuple[str, ...] = ()  # files that could not be read or parsed, with why
    classes: tuple[ClassUse, ...] = ()  # what each class uses of its transformers bases

    def to_dict(self) -> dict[str, Any]:
        return {"origin": self.origin, "files": list(self.files),
                "imports": [i.to_dict() for i in self.imports],
                "unreadable": list(self.unreadable),
                "classes": [c.to_dict() for c in self.classes]}

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> CodeScan:
        return CodeScan(origin=str(data["origin"]), files=tuple(str(f) for f in data["files"]),
                        imports=tuple(ImportSite.from_dict(i) for i in data["imports"]),
                        unreadable=tuple(str(u) for u in data.get("unreadable", ())),
                        classes=tuple(ClassUse.from_dict(c) for c in data.get("classes", ())))


def scan_files(root: Path, files: Sequence[Path], origin: str, package: str = "") -> CodeScan:
    """Scan ``files`` under ``root``; ``package`` is the import name of ``root`` if it is one."""
    labels = sorted({_label(root, f) for f in files})
    local_modules = {_module_of(label, package) for label in labels}
    local_tops = {m.split(".")[0] for m in local_modules if m}
    sites: list[ImportSite] = []
    unreadable: list[str] = []
    budget = MAX_TOTAL_BYTES
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
            uses = classes_of(tree, label)
        except RecursionError:  # a pathological expression in a signature or an import
            unreadable.append(f"{label}: nested too deeply to read")
            continue
        sites.extend(found)
        classes.extend(uses)
    return CodeScan(origin=origin, files=tuple(labels), imports=tuple(sites),
                    unreadable=tuple(unreadable), classes=tuple(classes))


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
