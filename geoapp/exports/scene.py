"""What an export shows: one district or the whole programme, and its experiments.

A :class:`Scene` is built once per export from the atlas and the experiments frame, with
the page's filters already applied, so every format (image, sheet, HTML, data) draws the
same selection and numbers the experiments the same way (map markers ↔ table rows).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoapp.analysis import ANALYSIS_CRS, DISPLAY_CRS
from geoapp.atlas import Atlas
from geoapp.errors import GeoappError
from geoapp.exports.style import filter_caption
from geoapp.layers import points_frame
from geoapp.shapes import KIND_LABELS, PLACE_KINDS, from_stored, to_lambert93
from geoapp.vocabulary import STATUSES, THEMES, fr_num

ALL = "all"
# The stored crossing fields the cut analysis reads (`Atlas.cut_report`).
CROSSING_COLUMNS = ["id", "district", "kind", "status", "name", "version", "lon", "lat"]


def stored_crossings(rows: list[dict]) -> gpd.GeoDataFrame:
    """The store's crossing rows (`Store.list_crossings`) as points in Lambert-93."""
    frame = points_frame(rows, columns=CROSSING_COLUMNS)
    return frame[[c for c in CROSSING_COLUMNS if c in frame] + ["geometry"]]


def places(experiments: gpd.GeoDataFrame, *, wgs84: bool = False) -> gpd.GeoSeries:
    """Each experiment's real place, aligned with ``experiments``: its line or area
    (``shape``, WGS84 GeoJSON) where it has one, else its anchor point; in Lambert-93, or
    with ``wgs84`` in the stored degrees themselves (``lon``/``lat`` and the shape as
    stored, no projection round trip, so a WGS84 file imports back unchanged).

    The frame's own geometry stays the anchor: one point per experiment, what markers,
    counts and hexagons read. The shapes are parsed and projected in one call each.
    """
    if wgs84:
        xy = experiments[["lon", "lat"]].to_numpy(dtype=float).reshape(-1, 2)
        values, crs = shapely.points(xy), DISPLAY_CRS
    else:
        values, crs = experiments.geometry.to_numpy().copy(), experiments.crs
    if "shape" in experiments and not experiments.empty:
        shaped = experiments["shape"].map(lambda s: isinstance(s, dict | str) and bool(s))
        shaped = shaped.to_numpy(dtype=bool)
        if shaped.any():  # the store gives dicts; GeoJSON text is read as well
            shapes = from_stored(experiments["shape"][shaped])
            values[shaped] = shapes if wgs84 else to_lambert93(shapes)
    return gpd.GeoSeries(values, index=experiments.index, crs=crs)


def place_sizes(experiments: gpd.GeoDataFrame) -> pd.DataFrame:
    """``forme`` (« point », « tracé », « zone »), ``longueur_m`` (lines, metres, 0.1 m) and
    ``surface_ha`` (areas, hectares, 0.001 ha) of each experiment, measured in Lambert-93;
    missing where they do not apply."""
    geometries = places(experiments)
    kinds = geometries.geom_type.map(PLACE_KINDS).fillna("point")
    lines, areas = (kinds == "ligne").to_numpy(), (kinds == "zone").to_numpy()
    return pd.DataFrame(
        {
            "forme": kinds.map(KIND_LABELS),
            "longueur_m": np.where(lines, np.round(geometries.length.to_numpy(), 1), np.nan),
            "surface_ha": np.where(areas, np.round(geometries.area.to_numpy() / 1e4, 3), np.nan),
        },
        index=experiments.index,
    )


def place_text(forme: str, length_m: float, area_ha: float) -> str:
    """« point », « tracé, 420 m » or « zone, 0,52 ha »: the place as a table cell reads it."""
    if forme == KIND_LABELS["ligne"]:
        return f"{forme}, {fr_num(length_m, 0)} m"
    if forme == KIND_LABELS["zone"]:
        return f"{forme}, {fr_num(area_ha, 2)} ha"
    return forme


def check_filters(theme: str | None, status: str | None) -> None:
    """French 400 for a theme or status outside the registry's vocabulary."""
    if theme and theme not in THEMES:
        raise GeoappError(
            f"Thème inconnu : « {theme} ». Thèmes possibles : " + ", ".join(THEMES) + ".", 400
        )
    if status and status not in STATUSES:
        raise GeoappError(
            f"Statut inconnu : « {status} ». Statuts possibles : " + ", ".join(STATUSES) + ".", 400
        )


@dataclass(frozen=True)
class Scene:
    """The selection an export draws; build it with :func:`make_scene`."""

    atlas: Atlas
    target: str
    experiments: gpd.GeoDataFrame
    theme: str | None = None
    status: str | None = None
    today: date = field(default_factory=date.today)
    district: str | None = None  # programme only: experiments of this district alone
    # The planners' stored crossings (all districts, Lambert-93, with ``district``): the
    # cut analysis of every export (`geoapp.exports.cut_page`). None: stations only.
    crossings: gpd.GeoDataFrame | None = None

    @property
    def is_programme(self) -> bool:
        return self.target == ALL

    @property
    def districts(self) -> gpd.GeoDataFrame:
        """The districts shown: all four for the programme, else the one row."""
        d = self.atlas.districts
        return d if self.is_programme else d[d["slug"] == self.target]

    @property
    def title(self) -> str:
        if self.is_programme:
            return "Quartiers Métropolitains d’Innovation — les quatre quartiers"
        d = self.atlas.district(self.target)
        return f"{d['nom']} — {d['commune']}"

    @property
    def caption(self) -> str | None:
        """The filters in French, for subtitles (``None`` when nothing is filtered)."""
        commune = self.atlas.district(self.district)["commune"] if self.district else None
        return filter_caption(self.theme, self.status, commune)

    def sub(self, slug: str) -> Scene:
        """One district of a programme scene, its experiments keeping their numbers."""
        exps = self.experiments[self.experiments["district"] == slug]
        return Scene(
            self.atlas, slug, exps, self.theme, self.status, self.today, crossings=self.crossings
        )

    @property
    def label(self) -> str:
        """Short name used in file names: the slug, or ``programme``."""
        return "programme" if self.is_programme else self.target


def _sort_key(text: str) -> str:
    """French reading order: accents and case ignored (« Îlot » before « Vélos »)."""
    plain = unicodedata.normalize("NFKD", text)
    return "".join(c for c in plain if not unicodedata.combining(c)).casefold()


def make_scene(
    atlas: Atlas,
    experiments: gpd.GeoDataFrame,
    target: str,
    *,
    theme: str | None = None,
    status: str | None = None,
    district: str | None = None,
    today: date | None = None,
    crossings: gpd.GeoDataFrame | None = None,
) -> Scene:
    """Select ``target`` (a district slug or ``"all"``) and its filtered experiments.

    ``district`` narrows a programme's experiments to one district (the overview's
    "commune" filter); on a district target it must be that district or ``None``.

    ``experiments`` must be in EPSG:2154 (see :func:`experiments_frame`); it is not
    modified. Experiments get a ``numero`` (1, 2, …) in district then title order (accents
    and case ignored): the
    number printed on the map marker and in the sheet's table. ``crossings``: the stored
    crossings (`Scene.crossings`). Raises ``GeoappError``
    404 for an unknown slug, 400 for an unknown theme or status.
    """
    if target != ALL:
        atlas.district(target)
    if district:
        atlas.district(district)
        if target not in (ALL, district):
            raise GeoappError("Le filtre de commune ne correspond pas au quartier exporté.", 400)
    check_filters(theme, status)
    if experiments.crs is None or not experiments.crs.equals(ANALYSIS_CRS):
        raise ValueError(f"experiments: expected CRS {ANALYSIS_CRS}, got {experiments.crs}")
    keep = pd.Series(True, index=experiments.index)
    if target != ALL or district:
        keep &= experiments["district"] == (district or target)
    if theme:
        keep &= experiments["theme"] == theme
    if status:
        keep &= experiments["status"] == status
    chosen = experiments[keep]
    order = chosen.assign(_title=chosen["title"].astype(str).map(_sort_key))
    order = order.sort_values(["district", "_title"], kind="stable").drop(columns="_title")
    numbered = order.assign(numero=range(1, len(order) + 1)).reset_index(drop=True)
    return Scene(
        atlas,
        target,
        numbered,
        theme,
        status,
        today or date.today(),
        district if target == ALL else None,
        crossings,
    )
