"""The registry page and /api/experimentations.geojson by pages of 100, with French links,
a whitelisted sort and the filters kept from page to page; human values in the table."""

import html
import json
import re

import pytest

from geoapp.registry import validate_experiment
from tests.web.experiments_helpers import SCEAUX, body, form_for, section


@pytest.fixture
def crowded(store, atlas):
    """230 Sceaux experiments besides the seeded ones, stored in one batch."""
    values = validate_experiment(
        form_for(atlas, SCEAUX, start_date="2024-03-12"), objectives=atlas.objectives()[SCEAUX]
    )
    store.apply_import(
        [(SCEAUX, {**values, "title": f"Lot {n:03d}"}) for n in range(230)], [], user="test"
    )
    return store


def titles(page: str) -> list[str]:
    table = section(page, 'id="experiments"', "</table>")
    return re.findall(r'<a href="/experimentations/\d+">([^<]+)</a>', table)


def test_the_registry_shows_pages_of_100_with_french_links(anon, crowded):
    total = len(crowded.list_experiments())
    first = html.unescape(body(anon.get(f"/experimentations?quartier={SCEAUX}&tri=titre")))
    assert titles(first) == [f"Lot {n:03d}" for n in range(100)]
    assert "Expérimentations 1 à 100 sur 230 — page 1 sur 3." in first
    nav = section(first, 'id="pagination"', "</nav>")
    assert "Page suivante »" in nav and "Page précédente" not in nav
    assert f'href="/experimentations?quartier={SCEAUX}&amp;tri=titre&amp;page=2"' in body(
        anon.get(f"/experimentations?quartier={SCEAUX}&tri=titre")
    )
    last = html.unescape(body(anon.get(f"/experimentations?quartier={SCEAUX}&tri=titre&page=3")))
    assert titles(last) == [f"Lot {n:03d}" for n in range(200, 230)]
    assert "« Page précédente" in last and "Page suivante" not in last
    down = html.unescape(body(anon.get("/experimentations?tri=titre&ordre=desc")))
    assert titles(down)[0] == "Soy PV"  # the figures count every experiment
    assert f'<dd id="fig-total">{total}</dd>' in body(anon.get("/experimentations"))


def test_human_values_in_the_table(anon, crowded):
    page = html.unescape(body(anon.get(f"/experimentations?quartier={SCEAUX}")))
    row = section(page, ">Lot 000</a>", "</tr>")
    assert "<td>Les Blagis</td>" in row and SCEAUX not in row
    assert "12 mars 2024 → 31 octobre 2025" in row


@pytest.mark.parametrize(
    "query", ["tri=mot_de_passe", "page=-3", "page=x", "page=99999", "ordre=;"]
)
def test_odd_page_queries_fall_back_to_defaults(anon, crowded, query):
    assert anon.get(f"/experimentations?{query}").status_code == 200


def test_the_geojson_api_is_paginated_too(anon, crowded):
    data = json.loads(anon.get(f"/api/experimentations.geojson?quartier={SCEAUX}&tri=titre").data)
    assert len(data["features"]) == 100
    assert data["pagination"]["total"] == 230 and data["pagination"]["pages"] == 3
    following = data["pagination"]["suivante"]
    assert following.startswith("/api/experimentations.geojson?") and "page=2" in following
    page2 = json.loads(anon.get(following).data)
    assert page2["features"][0]["properties"]["title"] == "Lot 100"
