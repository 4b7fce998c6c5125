"""CI guard: no code of ours hands a template engine anything but a literal as source.

Branca (under folium) and Jinja compile what they are given as code: a user's title
reaching ``Template(…)``/``Element(…)`` runs on the server. This walks every module of
``geoapp`` and fails on any such call whose source argument is not a plain string literal,
and on folium constructs that would carry data text inside the map's script.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "geoapp"
# Calls whose first argument (or ``source=``/``template=``/``html=``) is template source.
TEMPLATE_SOURCES = {
    "Template",
    "from_string",
    "Element",
    "JavascriptLink",
    "CssLink",
    "Html",
    "IFrame",
    "Div",
    "MacroElement",
}
# Folium features that embed their data (and any text in it) in the rendered script.
DATA_IN_SCRIPT = {
    "GeoJson",
    "TopoJson",
    "Popup",
    "Tooltip",
    "Marker",
    "CircleMarker",
    "Circle",
    "PolyLine",
    "Polygon",
    "Rectangle",
    "Choropleth",
    "MarkerCluster",
    "FastMarkerCluster",
    "Figure",
    "DivIcon",
}
SOURCE_KEYWORDS = {"source", "template", "html", "data", "popup", "tooltip", "text"}


def _name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _root(func: ast.expr) -> str:
    """``folium`` for ``folium.plugins.MarkerCluster``; the name itself for a bare call."""
    while isinstance(func, ast.Attribute):
        func = func.value
    return getattr(func, "id", "")


def _folium_names(tree: ast.Module) -> set[str]:
    """Names bound to folium/branca: the modules themselves and what is imported from them."""
    names = {"folium", "branca"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in names:
            names |= {a.asname or a.name for a in node.names}
        elif isinstance(node, ast.Import):
            names |= {
                a.asname or a.name
                for a in node.names
                if a.name.split(".")[0] in {"folium", "branca"}
            }
    return names


def _literal(node: ast.expr) -> bool:
    """A string literal, possibly implicitly concatenated (never an f-string with values)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str | int | float | bool | type(None))
    if isinstance(node, ast.JoinedStr):
        return all(isinstance(v, ast.Constant) for v in node.values)
    return False


def violations(source: str, filename: str = "<code>") -> list[str]:
    """Every call in ``source`` that feeds a template engine or a folium feature data."""
    found = []
    tree = ast.parse(source, filename)
    folium_names = _folium_names(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        where = f"{filename}:{node.lineno} {name}(…)"
        if name in DATA_IN_SCRIPT and _root(node.func) in folium_names:
            found.append(f"{where}: folium feature with data inside the map script")
        elif name in TEMPLATE_SOURCES:
            args = list(node.args) + [k.value for k in node.keywords if k.arg in SOURCE_KEYWORDS]
            if any(not _literal(a) for a in args):
                found.append(f"{where}: template source that is not a literal")
    return found


def test_geoapp_feeds_no_template_engine_anything_but_literals():
    found = [
        v
        for path in sorted(PACKAGE.rglob("*.py"))
        for v in violations(path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE.parent)))
    ]
    assert found == []


@pytest.mark.parametrize(
    "code",
    [
        "Template(title)",
        "jinja2.Template(f'<b>{name}</b>')",
        "Environment().from_string(text)",
        "env.from_string(source=text)",
        "branca.element.Element(html)",
        "Element('<p>' + title + '</p>')",
        "JavascriptLink(url)",
        "folium.GeoJson(gdf).add_to(m)",
        "folium.Popup('fixed')",
        "folium.plugins.MarkerCluster().add_to(m)",
        "from folium import GeoJson\nGeoJson(data)",
    ],
)
def test_the_guard_catches_unsafe_calls(code):
    assert violations(code)


@pytest.mark.parametrize(
    "code",
    [
        "Template('{% macro script(this, kwargs) %}x{% endmacro %}')",
        "Template('a' 'b')",
        "env.get_template('exports/standalone.html').render(title=title)",
        "render_template('pages/index.html', title=title)",
        "from matplotlib.patches import Rectangle\nRectangle((0, 0), 1, 1)",
    ],
)
def test_the_guard_lets_literals_and_file_templates_through(code):
    assert violations(code) == []
