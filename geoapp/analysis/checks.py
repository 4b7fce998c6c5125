"""Input checks shared by the analysis functions: frames, areas, distances.

Each raises ``ValueError`` naming the argument, so a caller's mistake (wrong CRS, a
missing column, a negative distance) is reported where it is made, not as a wrong figure.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from shapely.geometry import MultiPolygon, Polygon

from geoapp.analysis import ANALYSIS_CRS

_CRS = CRS.from_user_input(ANALYSIS_CRS)


def check_frame(gdf, name: str, columns: tuple[str, ...] = ()) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``gdf`` is a GeoDataFrame in the
    analysis CRS holding ``columns``."""
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise ValueError(f"{name} : un GeoDataFrame est attendu, reçu {type(gdf).__name__}.")
    if gdf.crs is None or gdf.crs != _CRS:
        raise ValueError(f"{name} : le CRS doit être {ANALYSIS_CRS}, reçu {gdf.crs}.")
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        raise ValueError(f"{name} : colonne(s) manquante(s) : {', '.join(missing)}.")


def check_area(area, name: str = "area") -> None:
    """Raise ``ValueError`` naming ``name`` unless ``area`` is a non-empty valid polygon."""
    if not isinstance(area, Polygon | MultiPolygon) or area.is_empty:
        raise ValueError(f"{name} : un Polygon ou MultiPolygon non vide est attendu.")
    if not area.is_valid:
        raise ValueError(f"{name} : géométrie invalide ({shapely.is_valid_reason(area)}).")


def check_distance(value: float, name: str, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a float, or raise ``ValueError`` naming ``name`` unless it is a
    finite positive distance in metres (or zero when ``allow_zero``)."""
    value = float(value)
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} : une distance positive en mètres est attendue, reçu {value}.")
    return value
