"""Everything measured about one district's urban cuts, in one object.

Composes the corridor, side, exposure, crossing and detour functions for a district and
its study area (the district buffered by 500 m: walkers come from across the cut), so
the district page, its JSON twin, the overview comparison and the exports all read the
same figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
from shapely.geometry.base import BaseGeometry

from geoapp.analysis.best_sites import BestSites, best_sites
from geoapp.analysis.checks import check_frame
from geoapp.analysis.cuts import (
    SLIVER_M2,
    assign_crossings,
    assign_sides,
    corridor_exposure,
    snap_onto,
    split_sides,
    station_crossings,
)
from geoapp.analysis.detour import (
    DetourStats,
    WhatIf,
    crossing_trips,
    detour_factors,
    what_if_crossing,
)
from geoapp.analysis.network import NetworkDetour, network_detour
from geoapp.vocabulary import fr_num

EXPOSURE_DISTANCES_M = (100, 250, 500)
DETOUR_SPACING_M = 100.0
_CROSSING_COLUMNS = ["corridor_id", "name", "kind", "status", "source", "id"]


@dataclass(frozen=True)
class CutReport:
    """The measured cut of one district (EPSG:2154 frames, metres, hectares).

    ``crossings`` holds the station crossings and the stored ones (``source``
    ``"IDFM gares"`` or ``"saisie"``); ``detour`` uses the existing crossings only, and
    ``detour_with_projects`` adds the proposed (``projeté``) ones. ``detour_network``
    measures the same trips on a street network where one covers the study area.
    """

    area_ha: float
    corridors: gpd.GeoDataFrame
    sides: gpd.GeoDataFrame
    study_sides: gpd.GeoDataFrame
    exposure: dict[int, float]
    crossings: gpd.GeoDataFrame
    detour: DetourStats
    detour_with_projects: DetourStats
    detour_network: NetworkDetour | None = None

    @property
    def n_sides(self) -> int:
        """Sides of the study area (district + 500 m); slivers under `SLIVER_M2` are
        merged into their neighbour, so every side counts."""
        return len(self.study_sides)

    @property
    def n_district_sides(self) -> int:
        """Sides of the district itself (1 when a cut is its edge), slivers merged."""
        return len(self.sides)

    @property
    def corridor_km_per_km2(self) -> float:
        """Corridor length inside the district per km² of district."""
        return float(self.corridors["length_in_m"].sum() / 1000 / (self.area_ha / 100))


def build_cut_report(
    district: BaseGeometry,
    study_area: BaseGeometry,
    corridors: gpd.GeoDataFrame,
    stations: gpd.GeoDataFrame,
    stored_crossings: gpd.GeoDataFrame,
    known_crossings: gpd.GeoDataFrame | None = None,
    network: gpd.GeoDataFrame | None = None,
) -> CutReport:
    """Measure the cut of ``district`` (Polygon, EPSG:2154).

    Parameters
    ----------
    district, study_area : Polygon or MultiPolygon
        The perimeter and the zone where walking trips are sampled, EPSG:2154.
    corridors : GeoDataFrame
        `cut_corridors` output for this district.
    stations : GeoDataFrame
        One row per station and line (``nom``, ``ligne``, ``id_zdc``), EPSG:2154.
    stored_crossings : GeoDataFrame
        Crossings entered by planners (``id``, ``kind``, ``status``, ``name``), EPSG:2154.
    known_crossings : GeoDataFrame, optional
        Crossings found in the data besides stations (bridges and tunnels of a street
        network, `geoapp.analysis.network.network_crossings`), already on their corridor.
    network : GeoDataFrame, optional
        Street edges (lines, EPSG:2154): the trips are also measured on them.
    """
    check_frame(stored_crossings, "stored_crossings", ("kind", "status"))
    crossings = all_crossings(stations, corridors, stored_crossings, known_crossings)
    existing = crossings[crossings["status"] == "existant"]
    detour = detour_factors(study_area, corridors, existing, spacing_m=DETOUR_SPACING_M)
    return CutReport(
        area_ha=district.area / 10_000,
        corridors=corridors,
        sides=split_sides(district, corridors, min_side_m2=SLIVER_M2),
        study_sides=split_sides(study_area, corridors, min_side_m2=SLIVER_M2),
        exposure=corridor_exposure(district, corridors, distances=EXPOSURE_DISTANCES_M),
        crossings=crossings,
        detour=detour,
        detour_with_projects=detour_factors(
            study_area, corridors, crossings, spacing_m=DETOUR_SPACING_M
        ),
        detour_network=_on_network(network, study_area, corridors, detour),
    )


def _on_network(network, study_area, corridors, detour: DetourStats) -> NetworkDetour | None:
    """The trips that must cross measured on ``network`` too (None without one)."""
    if network is None or corridors.empty or detour.n_pairs == 0:
        return None
    near = network[network.intersects(study_area.buffer(500.0))]
    if near.empty:
        return None
    origins, destinations = crossing_trips(study_area, corridors, spacing_m=DETOUR_SPACING_M)
    return network_detour(near, corridors, origins, destinations, detour.factors)


def all_crossings(
    stations: gpd.GeoDataFrame,
    corridors: gpd.GeoDataFrame,
    stored: gpd.GeoDataFrame,
    known: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Station crossings, ``known`` ones (bridges of a street network) and stored ones,
    each tied to its nearest corridor.

    A stored crossing is moved onto that corridor's centreline, like a station and like a
    what-if crossing: walkers cross at the track, and saving a simulated crossing then
    gives the simulated figures.
    """
    from_stations = station_crossings(stations, corridors).assign(id=pd.NA)
    entered = stored.assign(source="saisie", name=stored.get("name"), corridor_id=pd.NA)
    if not entered.empty and not corridors.empty:
        entered = _onto_corridor(assign_crossings(entered, corridors), corridors)
    frames = [
        f[[c for c in _CROSSING_COLUMNS if c in f] + ["geometry"]]
        for f in (from_stations, known, entered)
        if f is not None and not f.empty
    ]
    if not frames:
        return from_stations[_CROSSING_COLUMNS + ["geometry"]]
    return gpd.GeoDataFrame(
        pd.concat(frames, ignore_index=True), geometry="geometry", crs=corridors.crs
    )


def _onto_corridor(crossings: gpd.GeoDataFrame, corridors: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``crossings`` moved to the nearest point of the corridor named by ``corridor_id``."""
    lines = corridors.set_index("corridor_id").geometry
    lines = lines.reindex(crossings["corridor_id"].astype("int64")).to_numpy()
    snapped = snap_onto(crossings.geometry.to_numpy(), lines)
    return crossings.set_geometry(gpd.GeoSeries(snapped, index=crossings.index, crs=crossings.crs))


def what_if(report: CutReport, study_area: BaseGeometry, proposed) -> WhatIf:
    """Detours before/after one more crossing at ``proposed`` (EPSG:2154), not stored."""
    existing = report.crossings[report.crossings["status"] == "existant"]
    return what_if_crossing(
        study_area, report.corridors, existing, proposed, spacing_m=DETOUR_SPACING_M
    )


def detour_dict(stats: DetourStats) -> dict:
    """JSON-ready detour figures (``None`` instead of NaN)."""

    def clean(x: float) -> float | None:
        return None if math.isnan(x) else round(float(x), 3)

    return {
        "median": clean(stats.median),
        "p90": clean(stats.p90),
        "share_over_1_5": clean(stats.share_over_1_5),
        "n_pairs": stats.n_pairs,
        "n_pairs_no_crossing": stats.n_pairs_no_crossing,
        "n_pairs_total": stats.n_pairs_total,
        "spacing_m": stats.spacing_m,
    }


def sides_of(points: gpd.GeoDataFrame, report: CutReport) -> pd.Series:
    """Side (of the study area) each point is on; NA outside it."""
    return assign_sides(points, report.study_sides)


def report_best_sites(report: CutReport, study_area: BaseGeometry) -> BestSites:
    """The best three places for a new crossing of the district's corridors, scored on the
    existing crossings like a what-if (`geoapp.analysis.best_sites`)."""
    existing = report.crossings[report.crossings["status"] == "existant"]
    return best_sites(study_area, report.corridors, existing, spacing_m=DETOUR_SPACING_M)


# One trip in N, the words of N: "un trajet sur cinq".
_ONE_IN = {
    2: "deux",
    3: "trois",
    4: "quatre",
    5: "cinq",
    6: "six",
    7: "sept",
    8: "huit",
    9: "neuf",
    10: "dix",
    12: "douze",
    15: "quinze",
    20: "vingt",
    25: "vingt-cinq",
    30: "trente",
    40: "quarante",
    50: "cinquante",
}


def headline(stats: DetourStats, n_sides: int) -> str:
    """The district's headline measure in plain French: the share of the trips that must
    cross a cut and are lengthened by more than 50 %, as "one trip in N"."""
    share = stats.share_over_1_5
    where = "entre les deux côtés" if n_sides == 2 else "d’un côté à l’autre de la coupure"
    if math.isnan(share):
        return "Aucun trajet mesuré n’a de coupure à franchir."
    exact = f"{fr_num(100 * share, 0)} % des trajets qui franchissent une coupure"
    if share >= 0.5:
        return f"Plus de la moitié des trajets {where} sont allongés de plus de 50 % ({exact})."
    if share < 1 / 60:
        return f"Presque aucun trajet {where} n’est allongé de plus de 50 % ({exact})."
    n = min(_ONE_IN, key=lambda k: abs(math.log(k * share)))
    return f"Environ un trajet sur {_ONE_IN[n]} {where} est allongé de plus de 50 % ({exact})."


def missing_cuts(named: list[dict]) -> list[dict]:
    """The cuts the programme names that the data lacks (``cartographiee`` false in
    ``quartiers.json``): name, kind and why, to be said wherever the figures are shown."""
    return [
        {"nom": c["nom"], "type": c.get("type"), "note": c.get("note")}
        for c in named
        if not c.get("cartographiee")
    ]


def network_dict(found: NetworkDetour | None) -> dict | None:
    """JSON-ready figures of the same trips on the street network and in straight lines
    (None where no network covers the district)."""
    if found is None:
        return None
    return {
        "reseau": {
            "median": round(found.median, 3),
            "p90": round(found.p90, 3),
            "share_over_1_5": round(found.share_over_1_5, 3),
        },
        "ligne_droite": {
            "median": round(found.straight_median, 3),
            "p90": round(found.straight_p90, 3),
            "share_over_1_5": round(found.straight_share_over_1_5, 3),
        },
        "n_mesures": found.n_measured,
        "n_trajets": found.n_trips,
    }
