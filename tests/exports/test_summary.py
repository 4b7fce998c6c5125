"""Sheets summarise: a stated number of rows, the rest counted and sent to the annex."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from geoapp.exports.sheets import render_sheet, summary
from geoapp.layers import experiments_frame
from geoapp.vocabulary import SHEET_TABLE_MAX, fr_num
from tests.exports.conftest import rows_inside
from tests.exports.test_sheets import flat, pdf_text

EXTRA = 7


@pytest.fixture(scope="module")
def crowded(atlas):
    """More experiments in Les Blagis than a sheet lists."""
    return experiments_frame(rows_inside(atlas, "sceaux-les-blagis", SHEET_TABLE_MAX + EXTRA))


def test_summary_lists_deployed_first_then_the_most_recent(crowded):
    shown, rest = summary(crowded)
    assert len(shown) == SHEET_TABLE_MAX and rest == EXTRA
    deployed = (shown["status"] == "déployée").to_numpy()
    assert deployed.any() and not deployed[deployed.argmin() :].any()  # deployed ones lead
    others = shown[~deployed]["start_date"].tolist()
    assert others == sorted(others, reverse=True)
    left_out = crowded[~crowded["id"].isin(shown["id"])]
    assert (left_out["status"] != "déployée").all()
    assert left_out["start_date"].max() <= min(others)


def test_district_sheet_cuts_the_table_and_points_to_the_annex(scene_of, crowded):
    pdf = render_sheet(scene_of("sceaux-les-blagis", crowded))
    text = pdf_text(pdf)
    listed = [t for t in crowded["title"] if t in text]
    assert len(listed) == SHEET_TABLE_MAX
    assert f"… et {EXTRA} autres : voir l’annexe" in text
    assert "qmi-sceaux-les-blagis-experimentations.csv" in text
    assert f"Expérimentations ({SHEET_TABLE_MAX + EXTRA})" in text


def test_programme_sheet_keeps_its_pages_whatever_the_registry_size(atlas, scene_of):
    small = rows_inside(atlas, "noisy-mont-d-est", SHEET_TABLE_MAX + 1)
    big = [
        row
        for i, slug in enumerate(atlas.slugs)
        for row in rows_inside(atlas, slug, 600, seed=i, start=1 + 600 * i)
    ]
    pages = []
    for rows in (small, big):
        pdf = render_sheet(scene_of("all", experiments_frame(rows)))
        pages.append(len(PdfReader(io.BytesIO(pdf)).pages))
        text = pdf_text(pdf)
        rest = fr_num(len(rows) - SHEET_TABLE_MAX, 0)
        assert flat(f"… et {rest} autres : voir l’annexe") in text
        assert "qmi-programme-experimentations.csv" in text
    assert pages[0] == pages[1] <= 40
