"""The web layer's shape: blueprints never import each other and compute no geometry."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "geoapp" / "web"
# Modules that define a Blueprint; the others (context, public, security) are helpers.
BLUEPRINTS = sorted(p.stem for p in WEB.glob("*.py") if "Blueprint(" in p.read_text())
GEOMETRY_CALLS = {
    "to_crs",
    "buffer",
    "intersects",
    "distance",
    "within",
    "contains",
    "sjoin",
    "sjoin_nearest",
    "union_all",
    "interpolate",
    "project",
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
    return names


def test_the_blueprints_are_found():
    assert {"api", "assets", "auth", "cuts", "experiments", "exports", "pages"} <= set(BLUEPRINTS)


@pytest.mark.parametrize("name", BLUEPRINTS)
def test_a_blueprint_imports_no_other_blueprint(name):
    imported = imported_modules(WEB / f"{name}.py")
    others = {f"geoapp.web.{b}" for b in BLUEPRINTS if b != name}
    assert imported & others == set()


@pytest.mark.parametrize("path", sorted(WEB.glob("*.py")), ids=lambda p: p.name)
def test_the_web_layer_computes_no_geometry(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = {
        n.func.attr
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
    }
    assert calls & GEOMETRY_CALLS == set()
    assert not {"shapely", "pyproj"} & {m.split(".")[0] for m in imported_modules(path)}
