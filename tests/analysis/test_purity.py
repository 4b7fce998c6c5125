"""``geoapp.analysis`` stays pure: no web, map, store or domain-error imports."""

import ast
from pathlib import Path

import pytest

import geoapp.analysis

ANALYSIS = Path(geoapp.analysis.__file__).parent
# Analysis raises ValueError; the edges (web, atlas, CLI) turn it into a GeoappError.
FORBIDDEN = (
    "flask",
    "werkzeug",
    "folium",
    "branca",
    "sqlite3",
    "geoapp.errors",
    "geoapp.store",
    "geoapp.web",
    "geoapp.maps",
    "geoapp.exports",
    "geoapp.cli",
)


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


@pytest.mark.parametrize("path", sorted(ANALYSIS.glob("*.py")), ids=lambda p: p.name)
def test_analysis_module_imports_nothing_from_the_edges(path):
    bad = sorted(
        m for m in imported_modules(path) if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)
    )
    assert bad == [], f"{path.name} imports {bad}"


def test_refused_input_is_a_plain_value_error():
    assert issubclass(geoapp.analysis.RefusedInputError, ValueError)
