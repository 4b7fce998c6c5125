"""The real figures of the four districts, written to ``golden_figures.json``.

``tests/analysis/test_golden_figures.py`` compares the atlas built from ``data/`` with
that file, within stated tolerances. When the data or a rule changes on purpose, rewrite
the file and review its diff like code:

    python -m tests.analysis.regenerate_golden

Figures are those the district page shows with no crossing entered by planners: area
(ha), cut lengths inside and within 500 m of the district (m), sides (slivers under 5 ha
merged into their neighbour; count and hectares, largest first) of the district and of
its study area (district + 500 m), shares of the district within 100/250/500 m of a
corridor, and the detour factors through the existing crossings (median, 90th percentile,
share over 1.5).
"""

from __future__ import annotations

import json
from pathlib import Path

from geoapp.analysis.cut_report import CutReport
from geoapp.atlas import Atlas, build_atlas
from geoapp.config import PROJECT_ROOT
from geoapp.layers import points_frame

GOLDEN = Path(__file__).with_name("golden_figures.json")
_CROSSING_COLUMNS = ["id", "kind", "status", "name", "version", "lon", "lat"]


def read_golden() -> dict[str, dict]:
    """The figures kept in the golden file, keyed by district slug."""
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


def cut_report(atlas: Atlas, slug: str) -> CutReport:
    """The report the web builds for ``slug`` (geoapp.web.cuts), with no stored crossing."""
    return atlas.cut_report(slug, points_frame([], columns=_CROSSING_COLUMNS))


def _side_areas(sides) -> list[float]:
    """Hectares of the sides, largest first."""
    return [round(float(a), 2) for a in sorted(sides["area_ha"], reverse=True)]


def district_figures(atlas: Atlas, slug: str) -> dict:
    """The golden figures of one district, rounded to what the file keeps."""
    row = atlas.district(slug)
    report = cut_report(atlas, slug)
    detour = report.detour
    return {
        "area_ha": round(float(row["area_ha"]), 2),
        "cut_length_in_m": round(float(row["cut_length_in_m"]), 1),
        "cut_length_near_m": round(float(row["cut_length_near_m"]), 1),
        "n_district_sides": report.n_district_sides,
        "district_side_areas_ha": _side_areas(report.sides),
        "n_study_sides": report.n_sides,
        "study_side_areas_ha": _side_areas(report.study_sides),
        "exposure": {str(d): round(float(s), 4) for d, s in report.exposure.items()},
        "detour": {
            "median": round(float(detour.median), 3),
            "p90": round(float(detour.p90), 3),
            "share_over_1_5": round(float(detour.share_over_1_5), 4),
            "n_pairs": detour.n_pairs,
        },
    }


def golden_figures(atlas: Atlas) -> dict[str, dict]:
    """Every district's figures, keyed by slug."""
    return {slug: district_figures(atlas, slug) for slug in sorted(atlas.slugs)}


def main() -> None:
    figures = golden_figures(build_atlas(PROJECT_ROOT / "data"))
    GOLDEN.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{GOLDEN.relative_to(PROJECT_ROOT)} : {len(figures)} quartiers écrits")


if __name__ == "__main__":
    main()
