"""Report the package's layout numbers: import cycles, module sizes, command bodies, signatures.

    python tools/check_layout.py        # exit status 1 when a bar is missed

- cycles: between modules and between sub-packages, counting every import of a `ttt_read`
  module, the lazy ones inside functions included;
- modules over 600 lines;
- typer commands (functions under `@….command` or `@….callback`) with more than 15 lines
  of body, the docstring not counted;
- functions with more than 5 positional parameters (`self`/`cls` not counted; Triton
  kernels and typer commands exempt).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ttt_read"
MAX_LINES, MAX_BODY, MAX_POSITIONAL = 600, 15, 5


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(tree: ast.AST, modules: set[str]) -> set[str]:
    """The `ttt_read` modules `tree` imports: `from a.b import c` counts a.b.c when c is a module."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in modules}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = {f"{node.module}.{a.name}" for a in node.names} & modules
            found |= subs or ({node.module} & modules)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one member (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while not component or component[-1] != v:
                component.append(stack.pop())
                on.discard(component[-1])
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def decorator_names(fn: ast.AST) -> list[str]:
    return [ast.unparse(d.func if isinstance(d, ast.Call) else d) for d in fn.decorator_list]


def is_command(fn: ast.AST) -> bool:
    return any(name.endswith((".command", ".callback")) for name in decorator_names(fn))


def body_lines(fn: ast.FunctionDef) -> int:
    body = fn.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    return body[-1].end_lineno - body[0].lineno + 1 if body else 0


def positional(fn: ast.FunctionDef) -> int:
    names = [a.arg for a in fn.args.posonlyargs + fn.args.args]
    return len(names) - (1 if names[:1] in (["self"], ["cls"]) else 0)


def main() -> int:
    files = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
    trees = {name: ast.parse(path.read_text()) for name, path in files.items()}
    graph = {name: imported(tree, set(files)) - {name} for name, tree in trees.items()}
    packages: dict[str, set[str]] = {}
    for name, targets in graph.items():
        package = ".".join(name.split(".")[:2])
        packages.setdefault(package, set()).update(".".join(t.split(".")[:2]) for t in targets)
    packages = {p: t - {p, "ttt_read"} for p, t in packages.items() if p != "ttt_read"}
    lines = {name: len(path.read_text().splitlines()) for name, path in files.items()}
    functions = [
        (name, fn)
        for name, tree in trees.items()
        for fn in ast.walk(tree)
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    commands = [(name, fn.name, body_lines(fn)) for name, fn in functions if is_command(fn)]
    signatures = [
        (name, fn.name, positional(fn))
        for name, fn in functions
        if not is_command(fn) and not any("jit" in d for d in decorator_names(fn))
    ]
    module_cycles, package_cycles = cycles(graph), cycles(packages)
    long_modules = sorted((n, m) for m, n in lines.items() if n > MAX_LINES)
    long_commands = sorted((n, f"{m}.{f}") for m, f, n in commands if n > MAX_BODY)
    wide = sorted((n, f"{m}.{f}") for m, f, n in signatures if n > MAX_POSITIONAL)
    print(f"modules: {len(files)}; import cycles between modules: {len(module_cycles)}, between packages: ", end="")
    print(len(package_cycles))
    for cycle in module_cycles + package_cycles:
        print("  cycle:", " <-> ".join(cycle))
    print(f"largest module: {max(lines.values())} lines ({max(lines, key=lines.get)}); over {MAX_LINES}:")
    for n, m in long_modules:
        print(f"  {n:5}  {m}")
    print(f"longest command body: {max(n for *_, n in commands)} lines; over {MAX_BODY}:")
    for n, f in long_commands:
        print(f"  {n:5}  {f}")
    print(f"most positional parameters: {max(n for *_, n in signatures)}; over {MAX_POSITIONAL}:")
    for n, f in wide:
        print(f"  {n:5}  {f}")
    return 1 if module_cycles or package_cycles or long_modules or long_commands or wide else 0


if __name__ == "__main__":
    sys.exit(main())
