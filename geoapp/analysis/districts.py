"""Indicative district perimeters derived from real layers, and their figures.

No official perimeter of the QMI districts is published. Each district's facts entry
carries a *rule* (commune, stations and radius, rail lines that split it, which side to
keep) and this module turns the rule into a polygon, so the perimeter is reproducible
from open data and can be explained in one French sentence in the UI.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geoapp.analysis import RefusedInputError
from geoapp.analysis.checks import check_frame
from geoapp.analysis.cuts import MIN_SIDE_M2, split_sides

# Two polygons closer than this are "touching" (the commune layer is generalised).
TOUCH_TOLERANCE_M = 5.0


def derive_perimeter(
    rule: dict, communes: gpd.GeoDataFrame, rail: gpd.GeoDataFrame, stations: gpd.GeoDataFrame
) -> BaseGeometry:
    """Derive a district's indicative perimeter from its rule, in Lambert-93.

    Parameters
    ----------
    rule : dict
        ``commune`` (INSEE code); optionally ``gares`` + ``lignes_gares`` + ``rayon_m``
        (keep what lies within the radius, in metres, of those stations), and
        ``decoupe_par`` (rail ``ligne`` values that split the area) with ``garder``:
        ``"nord"`` (the northernmost piece) or ``{"touchant": [INSEE codes]}`` (the
        pieces touching every listed commune).
    communes, rail, stations : GeoDataFrame
        The commune polygons, rail lines and station points, in EPSG:2154.

    Returns
    -------
    Polygon or MultiPolygon in EPSG:2154; pieces under 1 ha are dropped.

    Raises
    ------
    RefusedInputError
        When the rule is malformed or names what the layers lack (a commune, a station, a
        rail line), or leaves no piece of 1 ha; the French message names the rule's key.
    ValueError
        When a layer is not a GeoDataFrame in EPSG:2154 (a caller's mistake).
    """
    for gdf, name in ((communes, "communes"), (rail, "rail"), (stations, "stations")):
        check_frame(gdf, name)
    _check_rule(rule)
    area = _commune(communes, rule["commune"], "commune")
    if "gares" in rule:
        area = _kept(area.intersection(_station_disc(stations, rule)))
    if "decoupe_par" in rule:
        lines = rail[rail["ligne"].isin(rule["decoupe_par"])]
        if lines.empty:
            raise RefusedInputError(
                f"« decoupe_par » : aucune voie ferrée nommée {_quoted(rule['decoupe_par'])}."
            )
        pieces = split_sides(area, lines, min_side_m2=MIN_SIDE_M2, snap_m=0.0)
        area = _keep_pieces(pieces.geometry.to_numpy(), rule["garder"], communes)
    return _kept(area)


_KEEP = '« garder » : "nord" ou {"touchant": [codes INSEE]} est attendu.'


def _check_rule(rule) -> None:
    """Refuse a rule whose keys or value types are wrong, before any geometry."""
    if not isinstance(rule, dict):
        raise RefusedInputError("la règle doit être un objet JSON.")
    if not _is_text(rule.get("commune")):
        raise RefusedInputError("« commune » : le code INSEE de la commune (texte) est attendu.")
    if "gares" in rule:
        if "lignes_gares" not in rule or "rayon_m" not in rule:
            raise RefusedInputError("« gares » demande aussi « lignes_gares » et « rayon_m ».")
        _check_texts(rule, "gares")
        _check_texts(rule, "lignes_gares")
        radius = rule["rayon_m"]
        if (
            isinstance(radius, bool)
            or not isinstance(radius, int | float)
            or not math.isfinite(radius)
            or radius <= 0
        ):
            raise RefusedInputError(
                f"« rayon_m » : une distance positive en mètres est attendue, reçu {radius!r}."
            )
    if "decoupe_par" in rule:
        if "garder" not in rule:
            raise RefusedInputError("« decoupe_par » demande aussi « garder ».")
        _check_texts(rule, "decoupe_par")
        keep = rule["garder"]
        if keep != "nord" and not (
            isinstance(keep, dict) and set(keep) == {"touchant"} and _are_texts(keep["touchant"])
        ):
            raise RefusedInputError(_KEEP)
    elif "garder" in rule:
        raise RefusedInputError("« garder » n’a de sens qu’avec « decoupe_par ».")


def _is_text(value) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _are_texts(values) -> bool:
    return isinstance(values, list) and bool(values) and all(map(_is_text, values))


def _check_texts(rule: dict, key: str) -> None:
    if not _are_texts(rule[key]):
        raise RefusedInputError(f"« {key} » : une liste non vide de textes est attendue.")


def _quoted(names) -> str:
    return ", ".join(f"« {name} »" for name in names)


def _kept(area: BaseGeometry) -> BaseGeometry:
    """``area`` without its pieces under 1 ha (and any line or point left by an
    intersection); refused when nothing is left."""
    parts = shapely.get_parts(area)
    parts = parts[shapely.area(parts) >= MIN_SIDE_M2]
    if parts.size == 0:
        raise RefusedInputError("la règle ne laisse aucune surface d’au moins 1 ha.")
    return shapely.union_all(parts)


def _commune(communes: gpd.GeoDataFrame, code: str, key: str) -> BaseGeometry:
    match = communes.geometry[communes["code_insee"] == code]
    if match.empty:
        raise RefusedInputError(f"« {key} » : aucune commune de code INSEE « {code} ».")
    return match.union_all()


def _station_disc(stations: gpd.GeoDataFrame, rule: dict) -> BaseGeometry:
    chosen = stations[
        stations["nom"].isin(rule["gares"]) & stations["ligne"].isin(rule["lignes_gares"])
    ]
    missing = set(rule["gares"]) - set(chosen["nom"])
    if missing:
        raise RefusedInputError(
            f"« gares » : gare(s) introuvable(s) sur "
            f"{', '.join(rule['lignes_gares'])} : {_quoted(sorted(missing))}."
        )
    return chosen.geometry.buffer(float(rule["rayon_m"]), quad_segs=32).union_all()


def _keep_pieces(pieces: np.ndarray, keep, communes: gpd.GeoDataFrame) -> BaseGeometry:
    if keep == "nord":
        ys = shapely.get_y(shapely.point_on_surface(pieces))
        return pieces[int(np.argmax(ys))]
    touching = np.ones(pieces.size, dtype=bool)
    for code in keep["touchant"]:
        neighbour = _commune(communes, code, "garder")
        touching &= shapely.dwithin(pieces, neighbour, TOUCH_TOLERANCE_M)
    return shapely.union_all(pieces[touching])
