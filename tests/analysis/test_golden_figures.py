"""The real figures of the four districts, against the golden file.

``golden_figures.json`` holds each district's area, cut lengths, sides, exposure and
detour factors as computed from ``data/``. A change in the data, the rules or the
analysis that moves a figure beyond its tolerance fails here; when the change is
intended, rewrite the file and review its diff:

    python -m tests.analysis.regenerate_golden

Tolerances (absolute): 0.1 ha on areas, 1 m on lengths, 0.005 on shares, 0.01 on detour
factors; counts (sides, sampled trips) are exact.
"""

from __future__ import annotations

import json

import pytest

from tests.analysis.regenerate_golden import district_figures, read_golden

TOLERANCE = {"ha": 0.1, "m": 1.0, "share": 0.005, "factor": 0.01}

# figure -> tolerance kind (None: exact)
FIGURES = {
    "area_ha": "ha",
    "cut_length_in_m": "m",
    "cut_length_near_m": "m",
    "n_district_sides": None,
    "district_side_areas_ha": "ha",
    "n_study_sides": None,
    "study_side_areas_ha": "ha",
    "exposure.100": "share",
    "exposure.250": "share",
    "exposure.500": "share",
    "detour.median": "factor",
    "detour.p90": "factor",
    "detour.share_over_1_5": "share",
    "detour.n_pairs": None,
}


def figure(figures: dict, name: str):
    for key in name.split("."):
        figures = figures[key]
    return figures


def differences(expected: dict, actual: dict) -> list[str]:
    """One line per figure outside its tolerance (lists compared item by item)."""
    found = []
    for name, kind in FIGURES.items():
        want, got = figure(expected, name), figure(actual, name)
        tol = 0 if kind is None else TOLERANCE[kind]
        ok = (
            len(want) == len(got)
            and all(g == pytest.approx(w, abs=tol) for w, g in zip(want, got, strict=True))
            if isinstance(want, list)
            else got == pytest.approx(want, abs=tol)
        )
        if not ok:
            found.append(f"{name}: attendu {want} (± {tol}), obtenu {got}")
    return found


def test_golden_file_covers_every_district_and_figure(atlas):
    expected = read_golden()
    assert sorted(expected) == sorted(atlas.slugs)
    for figures in expected.values():
        for name in FIGURES:
            figure(figures, name)  # KeyError names a figure missing from the file


@pytest.mark.parametrize("slug", sorted(read_golden()))
def test_district_figures_match_the_golden_file(atlas, slug):
    problems = differences(read_golden()[slug], district_figures(atlas, slug))
    assert not problems, f"{slug} :\n" + "\n".join(problems)


def test_a_moved_figure_is_reported():
    expected = read_golden()["sceaux-les-blagis"]
    moved = json.loads(json.dumps(expected))
    moved["area_ha"] += 0.2
    moved["detour"]["median"] += 0.005  # within 0.01: not reported
    moved["study_side_areas_ha"].pop()
    assert [line.split(":")[0] for line in differences(expected, moved)] == [
        "area_ha",
        "study_side_areas_ha",
    ]
