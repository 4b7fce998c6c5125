"""One vocabulary: the database, the maps, the exports and the templates agree with it."""

import ast
import re
from pathlib import Path

import pytest

from geoapp import vocabulary
from geoapp.analysis.cuts import KIND_BY_MODE
from geoapp.config import PROJECT_ROOT
from geoapp.store import Store
from geoapp.vocabulary import (
    CROSSING_COLOURS,
    CROSSING_KINDS,
    CROSSING_STATUSES,
    CUT_STYLES,
    EDITOR,
    EXPERIMENT_FIELDS,
    FIELD_LABELS,
    ORG_KINDS,
    PRECISION_LABELS,
    PRECISIONS,
    ROAD_KIND,
    ROLE_LABELS,
    ROLES,
    STATUS_LABELS,
    STATUS_STYLES,
    STATUSES,
    THEME_COLOURS,
    THEME_LABELS,
    THEMES,
    fr_num,
)

GEOAPP = PROJECT_ROOT / "geoapp"
NNBSP = "\u202f"

# ``column IN (...)`` and ``column = '...'`` in a CHECK constraint.
_IN_LIST = re.compile(r"\b(\w+)\s+IN\s*\(([^()]*)\)", re.IGNORECASE)
_EQUALS_TEXT = re.compile(r"\b(\w+)\s*=\s*'((?:[^']|'')*)'")
_LITERAL = re.compile(r"'((?:[^']|'')*)'|(-?\d+)")


def _literals(text: str) -> list:
    return [
        s.replace("''", "'") if not number else int(number) for s, number in _LITERAL.findall(text)
    ]


def check_lists(sql_by_table: dict[str, str]) -> dict[tuple[str, str], list]:
    """Every ``(table, column) -> [allowed values]`` the tables' CHECK constraints name."""
    found: dict[tuple[str, str], list] = {}
    for table, sql in sql_by_table.items():
        for column, values in _IN_LIST.findall(sql):
            found.setdefault((table, column), []).append(_literals(values))
        for column, value in _EQUALS_TEXT.findall(sql):
            found.setdefault((table, column), []).append([value.replace("''", "'")])
    return {
        key: sorted({v for values in lists for v in values}, key=str)
        for key, lists in found.items()
    }


@pytest.fixture
def schema(tmp_path) -> dict[str, str]:
    """The CREATE TABLE statements of a freshly migrated SQLite database, by table (the
    revisions write the same CHECK constraints on PostgreSQL)."""
    store = Store(tmp_path / "fresh.sqlite3")
    try:
        with store.engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
            return {name: sql for name, sql in rows}
    finally:
        store.close()


def test_the_parser_reads_in_lists_and_equalities():
    sql = {
        "t": "CREATE TABLE t (a TEXT CHECK (a IN ('x', 'l''y')), b INTEGER CHECK "
        "(b IN (0, 1)), CHECK ((a = 'x') = (b = 1)))"
    }
    assert check_lists(sql) == {("t", "a"): ["l'y", "x"], ("t", "b"): [0, 1]}


def test_database_checks_list_exactly_the_vocabulary(schema):
    """Every text value a CHECK constraint allows comes from the vocabulary, and all of it.

    Columns whose CHECK is ``IN (0, 1)`` are flags, not vocabulary. Experiments' themes,
    statuses, kinds and precisions have no CHECK (the registry validates them).
    """
    lists = check_lists(schema)
    text_lists = {key: values for key, values in lists.items() if values != [0, 1]}
    assert text_lists == {
        ("users", "role"): sorted(ROLES),
        ("crossings", "kind"): sorted(CROSSING_KINDS),
        ("crossings", "status"): sorted(CROSSING_STATUSES),
    }
    assert EDITOR in ROLES


def test_lists_are_unique_and_every_value_has_its_colour_style_and_label():
    for values in (
        THEMES,
        STATUSES,
        ORG_KINDS,
        PRECISIONS,
        CROSSING_KINDS,
        CROSSING_STATUSES,
        ROLES,
        EXPERIMENT_FIELDS,
    ):
        assert len(set(values)) == len(values)
    assert list(THEME_COLOURS) == list(THEME_LABELS) == THEMES
    assert list(STATUS_STYLES) == list(STATUS_LABELS) == STATUSES
    assert list(PRECISION_LABELS) == PRECISIONS
    assert list(CROSSING_COLOURS) == CROSSING_STATUSES
    assert list(ROLE_LABELS) == list(ROLES)
    assert set(CUT_STYLES) == {*KIND_BY_MODE.values(), ROAD_KIND}
    # history also names the photos added and removed (`geoapp.store.photos`)
    assert set(FIELD_LABELS) == (set(EXPERIMENT_FIELDS) - {"id"}) | {"withdrawn", "photo"}
    assert THEME_LABELS["mobilité"] == "Mobilité" and STATUS_LABELS["déployée"] == "Déployée"


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        ((12345.678,), {}, f"12{NNBSP}345,7"),
        ((2, 2), {}, "2,00"),
        ((0.5, 0), {}, "0"),  # Python rounds half to even
        ((1_000_000, 0), {}, f"1{NNBSP}000{NNBSP}000"),
        ((-5.5, 1), {"trim": True}, "-5,5"),
        ((10.0, 1), {"trim": True}, "10"),
        ((131_072, 0), {"trim": True}, f"131{NNBSP}072"),
    ],
)
def test_fr_num_writes_numbers_the_french_way(args, kwargs, expected):
    assert fr_num(*args, **kwargs) == expected


def _module_names(path: Path) -> set[str]:
    """Names a module assigns at its top level."""
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign)
            else []
        )
        names.update(t.id for t in targets if isinstance(t, ast.Name))
        if isinstance(node, ast.FunctionDef):
            names.add(node.name)
    return names


def _imports(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    return modules


SOURCES = sorted(p for p in GEOAPP.rglob("*.py") if p.name != "vocabulary.py")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(GEOAPP)))
def test_no_module_defines_a_vocabulary_name_again(path):
    public = {n for n in _module_names(GEOAPP / "vocabulary.py") if not n.startswith("_")}
    assert _module_names(path) & public == set()


@pytest.mark.parametrize("path", sorted((GEOAPP / "exports").glob("*.py")), ids=lambda p: p.name)
def test_exports_take_colours_from_the_vocabulary_not_the_folium_module(path):
    """Only the standalone HTML export, which is a folium map, imports `geoapp.maps`."""
    if path.name != "standalone.py":
        assert not {"geoapp.maps", "folium"} & _imports(path)


# ``{% for x in ['a', 'b'] %}``: a list written in a template.
_TEMPLATE_LIST = re.compile(r"{%-?\s*for\s[^%]*?\bin\s*\[(.*?)\]\s*-?%}", re.DOTALL)


@pytest.mark.parametrize(
    "path", sorted((PROJECT_ROOT / "templates").rglob("*.html")), ids=lambda p: p.name
)
def test_templates_take_their_lists_from_the_vocabulary(path, atlas):
    """No list typed in a template: values come from ``vocabulary``, districts from the
    atlas (``nav_districts``)."""
    words = {
        *THEMES,
        *STATUSES,
        *ORG_KINDS,
        *PRECISIONS,
        *CROSSING_KINDS,
        *CROSSING_STATUSES,
        *ROLES,
        *atlas.slugs,
    }
    for written in _TEMPLATE_LIST.findall(path.read_text(encoding="utf-8")):
        assert not words & set(_literals(written)), f"{path.name}: use vocabulary.…"


def test_templates_see_the_vocabulary(app):
    with app.app_context():
        assert app.jinja_env.globals["vocabulary"] is vocabulary
        assert app.jinja_env.from_string("{{ 1234.5 | fr_num }}").render() == f"1{NNBSP}234,5"
