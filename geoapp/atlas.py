"""The atlas: every layer loaded once, the districts derived and measured.

This is the one object the web layer, the exports and the CLI read from. It is built at
start-up from the files (``layers``) through the pure analysis functions, so a page
request never re-reads a file or re-derives a perimeter.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geoapp.analysis import ANALYSIS_CRS, DISPLAY_CRS, RefusedInputError
from geoapp.analysis.cut_report import CutReport, build_cut_report
from geoapp.analysis.cuts import KIND_BY_MODE, cut_corridors
from geoapp.analysis.districts import derive_perimeter
from geoapp.analysis.network import network_crossings
from geoapp.errors import DEEP_JSON, GeoappError
from geoapp.layers import (
    LAYERS,
    LayerError,
    LayerSpec,
    load_cut_lines,
    load_layer,
    load_layers,
    load_network,
    read_cut_config,
)

# How far around the districts the context layers (cuts, stations) are kept, in metres.
CONTEXT_RADIUS_M = 1500.0
STUDY_BUFFER_M = 500.0
_FACT_FIELDS = (
    "slug",
    "nom",
    "commune",
    "code_insee",
    "departement",
    "ept",
    "maire",
    "population",
    "contexte",
    "objectifs",
    "coupures",
    "perimetre",
)


@dataclass(frozen=True)
class Atlas:
    """Validated layers and the derived districts, all in Lambert-93.

    ``corridors`` and ``known_crossings`` are keyed by district slug. ``cuts`` holds the
    rail lines and the lines of every cut layer of ``coupures.json`` (roads); ``network``
    the street networks it declares (None without any); ``sources`` every layer file
    loaded, to credit them (/sources, map attribution).
    """

    layers: dict[str, gpd.GeoDataFrame]
    districts: gpd.GeoDataFrame
    cuts: gpd.GeoDataFrame
    stations: gpd.GeoDataFrame
    corridors: dict[str, gpd.GeoDataFrame]
    programme: dict = field(default_factory=dict)
    sources: tuple[LayerSpec, ...] = LAYERS
    network: gpd.GeoDataFrame | None = None
    known_crossings: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)

    def district(self, slug: str) -> pd.Series:
        """The district row for ``slug``, or a French 404."""
        # A dict lookup compares exactly: numpy's ignores trailing NUL characters, so
        # "slug\x00" matched the row, then missed every mapping keyed by the real slug.
        row = self._rows.get(slug)
        if row is None:
            raise GeoappError(f"Le quartier « {_shown(slug)} » n’existe pas.", 404)
        return row

    @cached_property
    def _rows(self) -> dict[str, pd.Series]:
        """The district rows by slug, looked up on every request (treat as read-only)."""
        return {row["slug"]: row for _, row in self.districts.iterrows()}

    def study_area(self, slug: str):
        """Where a district's cut is measured: its perimeter buffered by 500 m."""
        return self.district(slug).geometry.buffer(STUDY_BUFFER_M)

    def cut_report(self, slug: str, stored_crossings: gpd.GeoDataFrame) -> CutReport:
        """Measure a district's cut with its layers: stations, the crossings found in the
        data (street-network bridges), the planners' ``stored_crossings`` (points in
        Lambert-93 with ``kind``, ``status``, ``name``) and the street network's detours."""
        return build_cut_report(
            self.district(slug).geometry,
            self.study_area(slug),
            self.corridors[slug],
            self.layers["stations"],
            stored_crossings,
            self.known_crossings.get(slug),
            self.network,
        )

    def stations_near(self, slug: str) -> gpd.GeoDataFrame:
        """The stations in a district's study area (where its cut is measured)."""
        return self.stations[self.stations.intersects(self.study_area(slug))]

    @property
    def slugs(self) -> list[str]:
        return self.districts["slug"].tolist()

    def objectives(self) -> dict[str, list[str]]:
        """Each district's objective list, the vocabulary its experiments choose from."""
        return dict(zip(self.districts["slug"], self.districts["objectifs"], strict=True))

    def centres_lonlat(self) -> dict[str, tuple[float, float]]:
        """Each perimeter's centre (WGS84), for experiments whose site is not published.

        The centroid, unless it falls outside a concave perimeter: then a point on it.
        """
        geoms = self.districts.geometry
        centres = geoms.centroid.where(geoms.contains(geoms.centroid), geoms.representative_point())
        centres = centres.to_crs(DISPLAY_CRS)
        return {
            slug: (round(p.x, 6), round(p.y, 6))
            for slug, p in zip(self.districts["slug"], centres, strict=True)
        }


def _shown(text: str, limit: int = 60) -> str:
    """``text`` cut for a message (a 5000-character slug is not worth echoing)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def load_facts(path: Path | str) -> dict:
    """Read the district facts file and check every district has its fields."""
    try:
        facts = json.loads(Path(path).read_text(encoding="utf-8"))
    except RecursionError as exc:
        raise LayerError(path, f"fichier des quartiers illisible ({DEEP_JSON}).") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LayerError(path, f"fichier des quartiers illisible ({exc}).") from exc
    if not isinstance(facts, dict) or not isinstance(facts.get("quartiers", []), list):
        raise LayerError(path, "un objet JSON avec la liste « quartiers » est attendu.")
    for i, entry in enumerate(facts.get("quartiers", [])):
        if not isinstance(entry, dict):
            raise LayerError(path, f"quartier n° {i + 1} : un objet JSON est attendu.")
        missing = [f for f in _FACT_FIELDS if f not in entry]
        if missing:
            raise LayerError(path, f"quartier n° {i + 1} : champ « {missing[0]} » manquant.")
        rule = entry["perimetre"]
        if not isinstance(rule, dict) or not isinstance(rule.get("regle"), str):
            raise LayerError(
                path,
                f"quartier « {entry['slug']} », périmètre : un objet JSON "
                "avec sa « regle » (la phrase affichée) est attendu.",
            )
    if not facts.get("quartiers"):
        raise LayerError(path, "aucun quartier décrit.")
    return facts


def build_atlas(data_dir: Path | str) -> Atlas:
    """Load ``data_dir``/geo and ``data_dir``/quartiers.json into an :class:`Atlas`."""
    data_dir = Path(data_dir)
    layers = load_layers(data_dir / "geo")
    cut_layers, network_layers = read_cut_config(data_dir)
    facts = load_facts(data_dir / "quartiers.json")
    districts = _districts(facts["quartiers"], layers, data_dir)
    context = districts.buffer(CONTEXT_RADIUS_M).union_all()
    roads = [load_cut_lines(data_dir / "geo", layer) for layer in cut_layers]
    cuts = _cut_features(layers["rail"], roads, context)
    corridors = {
        row.slug: cut_corridors(cuts, row.geometry, study_buffer_m=STUDY_BUFFER_M)
        for row in districts.itertuples()
    }
    network = _network([load_network(data_dir / "geo", n) for n in network_layers])
    known = {
        slug: network_crossings(network, c) if network is not None else None
        for slug, c in corridors.items()
    }
    districts = _with_figures(districts, corridors)
    programme = {k: v for k, v in facts.items() if k != "quartiers"}
    return Atlas(
        layers,
        districts,
        cuts,
        _stations(layers["stations"], context),
        corridors,
        programme,
        sources=LAYERS + tuple(x.spec for x in (*cut_layers, *network_layers)),
        network=network,
        known_crossings={k: v for k, v in known.items() if v is not None},
    )


def _network(frames: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame | None:
    """The declared street networks as one line frame (None without any)."""
    if not frames:
        return None
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=ANALYSIS_CRS)


def _districts(entries: list[dict], layers: dict, data_dir: Path) -> gpd.GeoDataFrame:
    """One row per district: facts, perimeter (official file if any, else the rule).

    A rule the analysis refuses (an unknown station…) stops start-up like any other data
    error, naming quartiers.json and the district.
    """
    rows, geoms = [], []
    for entry in entries:
        official = data_dir / "geo" / f"perimetre_{entry['slug']}.geojson"
        if official.exists():
            geom = load_layer(official, geom_family="polygon").geometry.union_all()
            source = "officiel"
        else:
            try:
                geom = derive_perimeter(
                    entry["perimetre"], layers["communes"], layers["rail"], layers["stations"]
                )
            except RefusedInputError as exc:  # the file's fault; other ValueErrors are bugs
                raise LayerError(
                    data_dir / "quartiers.json", f"quartier « {entry['slug']} », périmètre : {exc}"
                ) from exc
            source = "indicatif"
        rows.append(
            {
                **{k: v for k, v in entry.items() if k != "perimetre"},
                "regle": entry["perimetre"]["regle"],
                "perimetre_source": source,
            }
        )
        geoms.append(geom)
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=ANALYSIS_CRS)


def _cut_features(rail: gpd.GeoDataFrame, roads: list[gpd.GeoDataFrame], context):
    """Surface rail lines and the declared road lines near the districts, each with its
    cut kind and name (roads also with their ``strand``, see `cut_corridors`)."""
    near = rail[rail["mode"].isin(KIND_BY_MODE) & rail.intersects(context)]
    cuts = near[["ligne", "mode", "couleur", "geometry"]]
    cuts = cuts.assign(kind=cuts["mode"].map(KIND_BY_MODE), nom=cuts["ligne"])
    frames = [cuts, *(r[r.intersects(context)] for r in roads)]
    cuts = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=ANALYSIS_CRS)
    cuts = cuts.clip(context).explode(ignore_index=True)
    return cuts.drop(columns="strand") if "strand" in cuts and not roads else cuts


def _stations(stations: gpd.GeoDataFrame, context) -> gpd.GeoDataFrame:
    """One point per station (IDFM stop area) near the districts, its lines joined."""
    near = stations[stations.intersects(context)]
    grouped = near.dissolve(
        by="id_zdc", aggfunc={"nom": "first", "ligne": _join_sorted, "mode": _join_sorted}
    )
    grouped["geometry"] = grouped.geometry.centroid
    return grouped.reset_index()


def _join_sorted(values: pd.Series) -> str:
    return ", ".join(sorted(set(values)))


def _with_figures(districts: gpd.GeoDataFrame, corridors: dict) -> gpd.GeoDataFrame:
    """Add the geometry figures shown on the cards: area (ha) and cut lengths (m)."""
    by_slug = [corridors[s] for s in districts["slug"]]
    return districts.assign(
        area_ha=districts.area / 10_000.0,
        cut_length_in_m=[c["length_in_m"].sum() for c in by_slug],
        cut_length_near_m=[c["length_near_m"].sum() for c in by_slug],
        cut_names=[", ".join(c["names"]) for c in by_slug],
    )
