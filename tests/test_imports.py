"""Every module of the package imports, and no two modules import each other in a circle at
module level (imports inside functions are allowed: they run after both modules are loaded)."""
import ast
import importlib
import importlib.util
import pkgutil
from pathlib import Path


def _all_modules() -> dict[str, Path]:
    """name -> source file of piqs_squeeze and every module under it (validation and figures
    included), each imported on the way (a ``__main__`` only found: importing it runs it)."""
    out = {}
    # validation/ and figures/ install from folders of their own (setup.cfg package_dir), so a
    # walk of piqs_squeeze's folder does not meet them in an editable install
    for root in ("piqs_squeeze", "piqs_squeeze.validation", "piqs_squeeze.figures"):
        package = importlib.import_module(root)
        out[root] = Path(package.__file__)
        for info in pkgutil.walk_packages(package.__path__, root + "."):
            if info.name.endswith(".__main__"):
                out[info.name] = Path(importlib.util.find_spec(info.name).origin)
            else:
                out[info.name] = Path(importlib.import_module(info.name).__file__)
    return out


def _module_level_imports(tree):
    """Import statements that run when the module runs: not those in function bodies."""
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            todo.extend(ast.iter_child_nodes(node))


def _edges(name: str, path: Path, modules) -> set[str]:
    """The package modules ``name`` imports at module level (``from X import Y`` depends on the
    module X.Y where Y is one, on X otherwise; relative imports resolved)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in _module_level_imports(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
            continue
        base = node.module or ""
        if node.level:
            parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            base = f"{parent}.{base}" if base else parent
        for a in node.names:
            out.add(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base)
    return {m for m in out if m in modules and m != name}


def test_every_module_imports_and_no_import_cycle():
    modules = _all_modules()
    assert {"piqs_squeeze.validation.registry", "piqs_squeeze.validation.cases",
            "piqs_squeeze.validation.checks.exact", "piqs_squeeze.figures.common"} <= set(modules)
    graph = {name: _edges(name, path, modules) for name, path in modules.items()}
    # depth-first search; a module met again while still on the path closes a cycle
    state, cycles = {}, []

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, "module-level import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)
