"""The layout tells the architecture: the arrows between rooms, read from the imports themselves."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("conversations", "knowledge", "analysis", "monitoring")


def _imports(folder: str) -> dict[str, set[str]]:
    """Each module of ``folder`` (tests aside) and the absolute names it imports."""
    found = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: resolve against the module's package
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
                names |= {base} | {f"{base}.{alias.name}" for alias in node.names}
        found[str(path.relative_to(ROOT))] = names
    return found


def _reaching(folder: str, *forbidden: str) -> list[str]:
    return [f"{module} imports {name}" for module, names in _imports(folder).items() for name in sorted(names)
            if any(name == f or name.startswith(f + ".") for f in forbidden)]


def test_the_aws_layer_imports_no_app_and_no_provisioning():
    assert _reaching("stocktool/aws", *APPS, "stocktool.provisioning", "lambda_functions") == []


def test_the_project_package_imports_no_app_but_to_wire_urls_and_routes():
    wiring = {"stocktool/urls.py", "stocktool/routing.py"}
    assert [line for line in _reaching("stocktool", *APPS, "lambda_functions")
            if line.split(" imports ")[0] not in wiring] == []


def test_provisioning_imports_no_app():
    assert _reaching("stocktool/provisioning", *APPS) == []


@pytest.mark.parametrize("folder", ["stocktool/aws", "stocktool/provisioning"])
def test_the_check_sees_relative_imports(folder):
    # (It would pass vacuously if it read nothing: each room imports the AWS layer, relatively or not.)
    assert any(name.startswith("stocktool.aws") for names in _imports(folder).values() for name in names)


ROOMS = ("stocktool/aws", "stocktool/provisioning", "stocktool", *APPS, "lambda_functions")
WIRING = {"stocktool/urls.py", "stocktool/routing.py"}  # the URL and WebSocket routes name every app's views


def _room(name: str) -> str | None:
    path = name.replace(".", "/")
    return next((room for room in ROOMS if path == room or path.startswith(room + "/")), None)


def test_no_two_rooms_import_each_other():
    arrows: dict[str, set[str]] = {}
    for folder in ROOMS:
        for module, names in _imports(folder).items():
            if module in WIRING or _room(module.removesuffix(".py")) != folder:
                continue  # (a module of a room inside this folder: counted there)
            arrows.setdefault(folder, set()).update(r for r in map(_room, names) if r and r != folder)
    both_ways = sorted((a, b) for a, targets in arrows.items() for b in targets if a < b and a in arrows.get(b, ()))
    assert both_ways == []
    assert arrows["conversations"] >= {"analysis", "knowledge"}  # (the check sees the arrows that exist)
