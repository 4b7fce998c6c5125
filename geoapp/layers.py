"""Read and validate the GeoJSON layers and the district facts file.

Everything the app draws comes through here once, at start-up. A broken file stops the
app with a French message naming the file, the feature and the field, instead of a map
that silently misses something. Valid layers come out in the analysis CRS (Lambert-93).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

from geoapp.analysis import ANALYSIS_CRS, DISPLAY_CRS
from geoapp.errors import DEEP_JSON, GeoappError
from geoapp.shapes import to_lambert93
from geoapp.vocabulary import EXPERIMENT_FIELDS, ROAD_KIND

# Bounds of plausible lon/lat coordinates for a file with no declared CRS (RFC 7946).
_LONLAT_BOUNDS = (-180.0, -90.0, 180.0, 90.0)


@dataclass(frozen=True)
class LayerSpec:
    """What the app expects of one layer file, and how to credit it."""

    key: str
    filename: str
    title: str
    required: tuple[str, ...]
    geom_family: str  # "polygon", "line" or "point"
    producer: str
    licence: str


# Only the layers something draws or measures: IRIS (iris_2022_aulnay_noisy.geojson) and the
# town-hall points (chefs_lieux_communes.geojson) stay in data/geo/ (see SOURCES.md) but
# nothing read them, so they are not parsed at every start-up.
LAYERS: tuple[LayerSpec, ...] = (
    LayerSpec(
        "communes",
        "communes_mgp.geojson",
        "Communes",
        ("code_insee", "nom", "code_dep"),
        "polygon",
        "IGN, ADMIN EXPRESS COG 2018 (via gregoiredavid/france-geojson)",
        "Licence Ouverte / Open Licence (Etalab)",
    ),
    LayerSpec(
        "epts",
        "epts_mgp.geojson",
        "Établissements publics territoriaux",
        ("ept_num", "ept_nom"),
        "polygon",
        "Dérivé des communes IGN ; appartenance aux EPT (données publiques)",
        "Licence Ouverte / Open Licence (Etalab)",
    ),
    LayerSpec(
        "mgp",
        "mgp_perimetre.geojson",
        "Périmètre de la Métropole",
        ("nom",),
        "polygon",
        "Dérivé des communes IGN",
        "Licence Ouverte / Open Licence (Etalab)",
    ),
    LayerSpec(
        "qpv",
        "qpv_2024_communes_qmi.geojson",
        "Quartiers prioritaires (QPV 2024)",
        ("code_qp", "nom_qp"),
        "polygon",
        "ANCT (SIG Ville), QPV 2024",
        "Licence Ouverte / Open Licence v2.0",
    ),
    LayerSpec(
        "rail",
        "rail_lignes_idfm.geojson",
        "Réseau ferré",
        ("ligne", "mode", "couleur"),
        "line",
        "Île-de-France Mobilités, « Traces du réseau ferré IDF »",
        "ODbL",
    ),
    LayerSpec(
        "stations",
        "gares_idfm.geojson",
        "Gares et stations",
        ("nom", "ligne", "mode", "id_zdc"),
        "point",
        "Île-de-France Mobilités, « Emplacement des gares IDF »",
        "ODbL",
    ),
)

_FAMILIES = {
    "polygon": {"Polygon", "MultiPolygon"},
    "line": {"LineString", "MultiLineString"},
    "point": {"Point", "MultiPoint"},
}


class LayerError(GeoappError):
    """A layer file cannot be used; the message names the file, feature and field."""

    def __init__(self, path: Path | str, message: str):
        super().__init__(f"{Path(path).name} : {message}", status=500)


def load_layer(
    path: Path | str,
    *,
    required: tuple[str, ...] = (),
    geom_family: str | None = None,
    keep: dict[str, list] | None = None,
    gpkg_layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a GeoJSON FeatureCollection (or a GeoPackage layer), validate it and return it
    in Lambert-93.

    A file without a ``crs`` member is RFC 7946 GeoJSON, i.e. WGS84, which we accept only
    if every coordinate is a plausible longitude/latitude. Invalid polygons are repaired
    with ``make_valid`` when the repair keeps their kind; unreadable geometries refuse the
    whole file, because a silently dropped feature is worse than a clear stop. ``keep``
    (field -> accepted values) keeps only the matching features, and ``required`` fields
    are then checked on those only. A ``.gpkg`` file is read with its own CRS
    (``gpkg_layer`` names the layer when it holds several).
    """
    try:
        return _load_layer(path, required, geom_family, keep or {}, gpkg_layer)
    except RecursionError as exc:  # parsing, or later walking, a file nested too deep
        raise LayerError(path, f"JSON illisible : {DEEP_JSON}.") from exc


def _load_layer(
    path: Path | str,
    required: tuple[str, ...],
    geom_family: str | None,
    keep: dict[str, list],
    gpkg_layer: str | None,
) -> gpd.GeoDataFrame:
    if Path(path).suffix.lower() == ".gpkg":
        features, geoms, crs = _read_gpkg(path, gpkg_layer)
    else:
        features, geoms, crs = _read_geojson(path)
    props = pd.DataFrame([f.get("properties") or {} for f in features])
    kept = _kept(path, props, keep)
    _check_required(path, props[kept], features, required)
    gdf = gpd.GeoDataFrame(props, geometry=geoms, crs=crs)
    if geom_family:
        _check_family(path, gdf, features, geom_family)
    gdf = gdf.set_geometry(_repaired(path, gdf.geometry.values, features))
    return _to_analysis_crs(path, gdf[kept].reset_index(drop=True))


def _read_geojson(path: Path | str) -> tuple[list, np.ndarray, pyproj.CRS | str]:
    """The features, their parsed geometries and the declared CRS of a GeoJSON file."""
    data = _read_json(path)
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        raise LayerError(path, "ce n’est pas une FeatureCollection GeoJSON (pas de « features »).")
    if not features:
        raise LayerError(path, "la couche ne contient aucune entité (« features » est vide).")
    _check_objects(path, features)
    geoms = _parse_geometries(path, features)
    return features, geoms, _declared_crs(path, data, geoms)


def _read_gpkg(path: Path | str, layer: str | None) -> tuple[list, np.ndarray, pyproj.CRS]:
    """A GeoPackage layer as feature-like dicts (for messages), geometries and its CRS."""
    if not Path(path).exists():
        raise LayerError(path, "fichier introuvable.")
    try:
        frame = pyogrio.read_dataframe(path, layer=layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise LayerError(path, f"GeoPackage illisible ({exc}).") from exc
    if frame.empty:
        raise LayerError(path, "la couche ne contient aucune entité.")
    if frame.crs is None:
        raise LayerError(path, "la couche GeoPackage ne déclare aucun système de coordonnées.")
    geoms = frame.geometry.to_numpy()
    features = [
        {"properties": p}
        for p in pd.DataFrame(frame.drop(columns=frame.geometry.name))
        .astype(object)
        .where(lambda f: f.notna(), None)
        .to_dict("records")
    ]
    broken = np.flatnonzero(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if broken.size:
        label = _feature_label(features, int(broken[0]))
        raise LayerError(path, f"{label} : géométrie absente ou vide.")
    return features, geoms, frame.crs


def _kept(path, props: pd.DataFrame, keep: dict[str, list]) -> np.ndarray:
    """Mask of the features whose every ``keep`` field holds one of its accepted values."""
    mask = np.ones(len(props), dtype=bool)
    for field, values in keep.items():
        if field not in props:
            raise LayerError(path, f"le champ « {field} » (filtre « garder ») manque.")
        mask &= props[field].isin(list(values)).to_numpy()
    if not mask.any():
        raise LayerError(path, "aucune entité ne correspond au filtre « garder ».")
    return mask


def load_layers(geo_dir: Path | str) -> dict[str, gpd.GeoDataFrame]:
    """Load every layer of ``LAYERS`` from ``geo_dir``, keyed by ``LayerSpec.key``."""
    geo_dir = Path(geo_dir)
    return {
        spec.key: load_layer(
            geo_dir / spec.filename, required=spec.required, geom_family=spec.geom_family
        )
        for spec in LAYERS
    }


def _read_json(path: Path | str) -> dict:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise LayerError(path, "fichier introuvable.") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise LayerError(path, f"fichier illisible ({exc}).") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise LayerError(
            path, f"JSON illisible, ligne {exc.lineno} colonne {exc.colno} ({exc.msg})."
        ) from exc


def _feature_label(features: list, index: int) -> str:
    props = features[index].get("properties") or {}
    name = next((props[k] for k in ("nom", "ligne", "code_insee", "id") if props.get(k)), None)
    return f"entité n° {index + 1}" + (f" (« {name} »)" if name else "")


def _parse_geometries(path, features: list) -> np.ndarray:
    """Parse all geometries at once; name the first feature whose geometry is unreadable."""
    texts = np.array(
        [json.dumps(f.get("geometry")) if isinstance(f, dict) else "null" for f in features],
        dtype=object,
    )
    geoms = shapely.from_geojson(texts, on_invalid="ignore")
    broken = np.flatnonzero(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if broken.size:
        i = int(broken[0])
        raise LayerError(
            path, f"{_feature_label(features, i)} : champ « geometry » absent ou illisible."
        )
    return geoms


def _check_required(path, props: pd.DataFrame, features: list, required) -> None:
    for field in required:
        missing = props.index if field not in props else props.index[props[field].isna()]
        if len(missing):
            raise LayerError(
                path,
                f"{_feature_label(features, int(missing[0]))} : "
                f"le champ obligatoire « {field} » manque.",
            )


def _check_objects(path, features: list) -> None:
    """Every feature must be an object whose ``properties`` (if any) is an object."""
    for i, f in enumerate(features):
        if not isinstance(f, dict) or not isinstance(f.get("properties") or {}, dict):
            raise LayerError(
                path,
                f"entité n° {i + 1} : un objet « Feature » dont les "
                "« properties » sont un objet JSON est attendu.",
            )


_CRS_EXAMPLE = '{"type": "name", "properties": {"name": "EPSG:2154"}}'


def _declared_crs(path, data: dict, geoms: np.ndarray) -> pyproj.CRS | str:
    """The ``crs`` member's system, or WGS84 if there is none and coordinates fit."""
    crs = data.get("crs")
    props = crs.get("properties") if isinstance(crs, dict) else None
    if crs is not None and (not isinstance(crs, dict) or not isinstance(props or {}, dict)):
        raise LayerError(path, f"membre « crs » illisible : {_CRS_EXAMPLE} est attendu.")
    name = (props or {}).get("name")
    if name not in (None, ""):
        if isinstance(name, bool) or not isinstance(name, str | int):
            raise LayerError(path, f"membre « crs » illisible : {_CRS_EXAMPLE} est attendu.")
        try:
            return pyproj.CRS.from_user_input(name)
        except pyproj.exceptions.CRSError as exc:
            shown = str(name) if len(str(name)) <= 60 else str(name)[:59] + "…"
            raise LayerError(
                path,
                f"système de coordonnées « {shown} » inconnu (membre "
                "« crs ») : indiquez un code EPSG, par exemple "
                "EPSG:2154 ou EPSG:4326.",
            ) from exc
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
    lo_x, lo_y, hi_x, hi_y = _LONLAT_BOUNDS
    if not (lo_x <= xmin and xmax <= hi_x and lo_y <= ymin and ymax <= hi_y):
        raise LayerError(
            path,
            "aucun système de coordonnées (CRS) n’est déclaré et les "
            "coordonnées ne sont pas des longitudes/latitudes WGS84.",
        )
    return "EPSG:4326"


def _to_analysis_crs(path, gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Reproject to Lambert-93, refusing a system that cannot get there or overflows."""
    try:
        out = gdf.to_crs(ANALYSIS_CRS)
    except pyproj.exceptions.ProjError as exc:
        raise LayerError(
            path,
            f"impossible de convertir le système de coordonnées "
            f"« {gdf.crs.name} » vers Lambert-93 (EPSG:2154).",
        ) from exc
    if not np.isfinite(out.total_bounds).all():
        raise LayerError(
            path,
            f"des coordonnées sortent du domaine du système "
            f"« {gdf.crs.name} » : est-ce le bon membre « crs » ?",
        )
    return out


def _check_family(path, gdf: gpd.GeoDataFrame, features: list, family: str) -> None:
    wrong = np.flatnonzero(~gdf.geom_type.isin(_FAMILIES[family]).to_numpy())
    if wrong.size:
        i = int(wrong[0])
        raise LayerError(
            path,
            f"{_feature_label(features, i)} : géométrie "
            f"{gdf.geom_type.iloc[i]} inattendue dans cette couche.",
        )


def _repaired(path, geoms: np.ndarray, features: list) -> np.ndarray:
    """Repair invalid geometries, refusing repairs that change their dimension."""
    invalid = ~shapely.is_valid(geoms)
    if not invalid.any():
        return geoms
    fixed = geoms.copy()
    fixed[invalid] = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
    bad = invalid & (shapely.get_dimensions(fixed) != shapely.get_dimensions(geoms))
    bad |= invalid & shapely.is_empty(fixed)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise LayerError(
            path,
            f"{_feature_label(features, i)} : géométrie invalide "
            f"({shapely.is_valid_reason(geoms[i])}) et irréparable.",
        )
    return fixed


def points_frame(rows: list[dict], *, columns: list[str] | None = None) -> gpd.GeoDataFrame:
    """Stored rows with WGS84 ``lon``/``lat`` as a point GeoDataFrame in Lambert-93.

    Experiments and crossings live in the database as lon/lat columns; analysis and
    exports want them like every other layer. An empty list gives an empty frame with
    the same columns, not ``None``.
    """
    frame = pd.DataFrame(rows, columns=columns if not rows else None)
    if frame.empty and columns:
        frame = pd.DataFrame(columns=columns)
    geometry = gpd.points_from_xy(frame.get("lon", []), frame.get("lat", []), crs="EPSG:4326")
    return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326").to_crs(ANALYSIS_CRS)


def lambert93_point(lon: float, lat: float) -> shapely.Point:
    """One WGS84 position as a Lambert-93 point, with the same transformation as
    `points_frame` but no frame around it (a map click is checked on every request)."""
    return to_lambert93(shapely.Point(lon, lat))


def experiments_frame(rows: list[dict]) -> gpd.GeoDataFrame:
    """Experiments as the store lists them -> points in Lambert-93 (EPSG:2154).

    ``rows`` are dicts with WGS84 ``lon``/``lat`` (decimal degrees) and the registry
    fields; extra keys are kept. Every field of `EXPERIMENT_FIELDS` is present, even
    for an empty list, so maps and exports can say "Aucune expérimentation".
    """
    frame = points_frame(list(rows), columns=EXPERIMENT_FIELDS)
    missing = [c for c in EXPERIMENT_FIELDS if c not in frame]
    return frame.assign(**{c: None for c in missing}) if missing else frame


def feature_collection(gdf: gpd.GeoDataFrame, columns: list[str]) -> dict:
    """``columns`` of ``gdf`` as a GeoJSON FeatureCollection dict in WGS84 (RFC 7946).

    The one reprojection to display coordinates for JSON answers; missing values are null.
    """
    return gdf[columns + [gdf.geometry.name]].to_crs(DISPLAY_CRS).to_geo_dict(drop_id=True)


def lonlat(point: shapely.Point) -> tuple[float, float]:
    """A Lambert-93 point as WGS84 (lon, lat) decimal degrees, for JSON answers."""
    reprojected = gpd.GeoSeries([point], crs=ANALYSIS_CRS).to_crs(DISPLAY_CRS).iloc[0]
    return reprojected.x, reprojected.y


# Cut layers beyond the rail: data/coupures.json ------------------------------------------

CUT_LAYERS_FILE = "coupures.json"
ROAD_MODE = "ROUTE"  # the ``mode`` of a cut line that is not rail


@dataclass(frozen=True)
class CutLayer:
    """A line layer measured as an urban cut (roads…), declared in ``coupures.json``.

    ``name_field`` names each line (``ref`` "N 118"); ``kind`` is the cut kind of every
    line unless ``kind_field`` gives one per line; ``keep`` keeps only matching features
    (``highway`` in motorway, trunk).
    """

    spec: LayerSpec
    kind: str
    name_field: str
    kind_field: str | None
    keep: dict
    colour: str
    gpkg_layer: str | None


@dataclass(frozen=True)
class NetworkLayer:
    """A street network (lines) declared in ``coupures.json``: it gives the crossings of
    road cuts (bridges, tunnels) and the detours on the graph."""

    spec: LayerSpec
    gpkg_layer: str | None


_ENTRY_TEXT = ("fichier", "titre", "producteur", "licence")


def read_cut_config(data_dir: Path | str) -> tuple[list[CutLayer], list[NetworkLayer]]:
    """The extra cut layers and street networks that ``data_dir/coupures.json`` declares.

    No file means none (the rail layer of ``LAYERS`` is always a cut). A planner adds a
    road layer by adding an entry naming its file (GeoJSON or GeoPackage in ``geo/``), its
    producer and licence (shown on /sources) and its name field.
    """
    path = Path(data_dir) / CUT_LAYERS_FILE
    if not path.exists():
        return [], []
    config = _read_json(path)
    if not isinstance(config, dict):
        raise LayerError(
            path, "un objet JSON avec les listes « couches » et « reseaux » est attendu."
        )
    cuts = [_cut_layer(path, i, e) for i, e in enumerate(_entries(path, config, "couches"))]
    networks = [
        NetworkLayer(_entry_spec(path, "reseaux", i, e, "reseau"), e.get("couche"))
        for i, e in enumerate(_entries(path, config, "reseaux"))
    ]
    return cuts, networks


def _entries(path: Path, config: dict, key: str) -> list[dict]:
    entries = config.get(key, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise LayerError(path, f"« {key} » : une liste d’objets JSON est attendue.")
    return entries


def _entry_spec(path: Path, key: str, index: int, entry: dict, role: str) -> LayerSpec:
    """The ``LayerSpec`` (title, producer, licence for /sources) of one entry."""
    for field in _ENTRY_TEXT:
        if not isinstance(entry.get(field), str) or not entry[field].strip():
            raise LayerError(path, f"« {key} » n° {index + 1} : le texte « {field} » manque.")
    name = entry["fichier"]
    if Path(name).name != name or Path(name).suffix.lower() not in (".geojson", ".json", ".gpkg"):
        raise LayerError(
            path,
            f"« {key} » n° {index + 1} : « fichier » doit être le nom d’un fichier GeoJSON ou "
            "GeoPackage du dossier geo/.",
        )
    return LayerSpec(
        f"{role}:{name}", name, entry["titre"], (), "line", entry["producteur"], entry["licence"]
    )


def _cut_layer(path: Path, index: int, entry: dict) -> CutLayer:
    spec = _entry_spec(path, "couches", index, entry, "coupure")
    keep = entry.get("garder", {})
    if not isinstance(keep, dict) or not all(isinstance(v, list) for v in keep.values()):
        raise LayerError(
            path, f"« couches » n° {index + 1} : « garder » doit associer un champ à une liste."
        )
    text = {k: entry.get(k, d) for k, d in (("champ_nom", "nom"), ("type", ROAD_KIND))}
    for key in ("champ_nom", "type", "champ_type", "couleur", "couche"):
        if key in entry and not isinstance(entry[key], str):
            raise LayerError(path, f"« couches » n° {index + 1} : « {key} » doit être un texte.")
    return CutLayer(
        spec=spec,
        kind=text["type"],
        name_field=text["champ_nom"],
        kind_field=entry.get("champ_type"),
        keep=keep,
        colour=entry.get("couleur", "#6d4c41"),
        gpkg_layer=entry.get("couche"),
    )


def load_cut_lines(geo_dir: Path | str, layer: CutLayer) -> gpd.GeoDataFrame:
    """One declared cut layer as cut lines (``ligne``, ``mode``, ``couleur``, ``kind``,
    ``nom``, ``strand``) in Lambert-93, the columns the rail cuts have.

    ``strand`` numbers the features: the two carriageways of a road share a name but are
    separate lines, so the corridor keeps one of them (see `cut_corridors`).
    """
    required = (layer.name_field,) + ((layer.kind_field,) if layer.kind_field else ())
    gdf = load_layer(
        Path(geo_dir) / layer.spec.filename,
        required=required,
        geom_family="line",
        keep=layer.keep,
        gpkg_layer=layer.gpkg_layer,
    )
    kind = gdf[layer.kind_field].astype(str) if layer.kind_field else layer.kind
    name = gdf[layer.name_field].astype(str)
    lines = gpd.GeoDataFrame(
        {"ligne": name, "mode": ROAD_MODE, "couleur": layer.colour, "kind": kind, "nom": name},
        geometry=gdf.geometry.values,
        crs=gdf.crs,
    )
    lines = lines.explode(ignore_index=True)
    return lines.assign(strand=np.arange(len(lines)))


def load_network(geo_dir: Path | str, layer: NetworkLayer) -> gpd.GeoDataFrame:
    """A declared street network: its lines in Lambert-93 (``bridge``/``tunnel`` kept
    when present, to find the crossings of road cuts)."""
    return load_layer(
        Path(geo_dir) / layer.spec.filename, geom_family="line", gpkg_layer=layer.gpkg_layer
    ).explode(ignore_index=True)
