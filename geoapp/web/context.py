"""What every blueprint shares, and one context builder per page.

Blueprints import from here and never from each other. A page and its ``/api/`` twin
render the same context (datasette's pattern): ``district_context`` is the JSON of
``/api/quartiers/<slug>`` and the data of the district page, ``cut_context`` the JSON of
``/api/quartiers/<slug>/coupures`` and the data of the page's cut section. No geometry is
computed here: this module asks the atlas, the analysis and the store.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable

import geopandas as gpd
import pandas as pd
from flask import current_app, g, request, session, url_for

from geoapp.analysis import RefusedInputError
from geoapp.analysis.best_sites import (
    CANDIDATE_STEP_M,
    MIN_GAP_M,
    SITE_SEPARATION_M,
    BestSites,
)
from geoapp.analysis.cut_report import (
    CutReport,
    detour_dict,
    headline,
    missing_cuts,
    network_dict,
    report_best_sites,
    sides_of,
)
from geoapp.analysis.cuts import SLIVER_M2
from geoapp.analysis.detour import nearest_corridor
from geoapp.analysis.placement import (
    DUPLICATE_RADIUS_M,
    NEARBY_LIMIT,
    SHAPE_NEARBY_LIMIT,
    Placement,
    assess_placement,
)
from geoapp.atlas import Atlas
from geoapp.cache import VersionedCache
from geoapp.errors import GeoappError
from geoapp.layers import experiments_frame, feature_collection, lambert93_point, points_frame
from geoapp.maps import (
    build_district_map,
    build_overview_map,
    experiment_popup,
    map_parts,
)
from geoapp.maps import experiment_points as experiment_map_payload
from geoapp.photos import thumbnail_name
from geoapp.registry import (
    ValidationError,
    forbidden_message,
    link_label,
    may_edit,
    outside_message,
    validate_experiment,
    validate_place,
)
from geoapp.search import search_entries
from geoapp.shapes import place_geometry, reach_m, to_lambert93
from geoapp.store import Store
from geoapp.vocabulary import ADMIN, DISTRICT_FIELDS, FIELD_LABELS, STATUSES, THEMES
from geoapp.web.public import public_history

# The largest id or version SQLite can store (a signed 64-bit integer).
SQLITE_MAX_INT = 2**63 - 1
# `read_filters` keys -> the query string names they are read from.
QUERY_NAMES = {"district": "quartier", "theme": "theme", "status": "statut"}
# A district page lists this many experiments; its map and the registry show them all.
LIST_LIMIT = 100
CUT_MODEL = "Ligne droite via le meilleur franchissement ; ce n’est pas un réseau de rues."


# The app's parts -----------------------------------------------------------------------


def get_atlas() -> Atlas:
    """The atlas built at start-up."""
    return current_app.extensions["qmi_atlas"]


def get_store() -> Store:
    """The storage backend opened at start-up."""
    return current_app.extensions["qmi_store"]


def asset_url(library: str, filename: str) -> str:
    """URL of a vendored JS/CSS file served by the app (never a CDN)."""
    return url_for("assets.vendor", library=library, filename=filename)


def map_options() -> dict:
    """How pages build maps: the app's assets, tiles per the setting, links by url_for."""
    return {"asset_url": asset_url, "tiles": current_app.config["TILES"], "link": url_for}


# Accounts and permissions ----------------------------------------------------------------


def csrf_token() -> str:
    """The session's anti-forgery token, created on first use."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def can_edit(user: dict | None, district) -> bool:
    """True if ``user`` may write in ``district`` (a district row with ``code_insee``)."""
    return may_edit(user, district["code_insee"])


def require_editor(district) -> dict:
    """The current user if allowed to edit ``district``, else a French 401/403."""
    user = g.get("user")
    if not user:
        raise GeoappError("Connectez-vous pour modifier les données.", 401)
    if not can_edit(user, district):
        raise GeoappError(forbidden_message(district["nom"], district["commune"]), 403)
    return user


def visible_experiment(experiment_id: int) -> dict:
    """The experiment as the current user may see it: a withdrawn one exists only for
    those who may restore it (editors of its commune, administrators); for anyone else
    it is the same French 404 as an id never used."""
    experiment = get_store().get_experiment(experiment_id)
    district = get_atlas().district(experiment["district"])
    if experiment["withdrawn"] and not can_edit(g.get("user"), district):
        raise GeoappError("Expérimentation introuvable.", 404)
    return experiment


def account_only(message: str):
    """Mark a view (an upload) refused with 401 and ``message`` to anonymous clients
    before its body is read: neither parsed nor even received (no 413 for a big one)."""

    def mark(view):
        view.account_only = message
        return view

    return mark


def is_admin() -> bool:
    """Administrators see account names in the history too (the audit trail)."""
    return bool(g.get("user")) and g.user["role"] == ADMIN


def expected_version(what: str, field: str = "version") -> int:
    """The ``version`` a form was loaded with (or the one its ``field`` names), for the
    store's conflict check."""
    try:
        version = int(request.form[field])
    except (KeyError, ValueError) as exc:
        raise GeoappError(f"Version {what} absente : rechargez la page.", 400) from exc
    if not 1 <= version <= SQLITE_MAX_INT:  # no row has it, and SQLite could not bind it
        raise GeoappError(f"Version {what} invalide : rechargez la page.", 400)
    return version


def wants_json() -> bool:
    """A client asking for JSON gets the error as JSON, not a re-rendered page."""
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def conflict_context(experiment_id: int, since_version: int) -> dict:
    """What changed in an experiment after ``since_version`` (the version a refused form
    was loaded with), see `_changes_since`."""
    store = get_store()
    current = store.get_experiment(experiment_id)["version"]
    return _changes_since(current, store.history(experiment_id), since_version)


def crossing_conflict(crossing_id: int, since_version: int) -> dict | None:
    """The same for a stored crossing; ``None`` when it was deleted meanwhile."""
    store = get_store()
    try:
        current = store.get_crossing(crossing_id)["version"]
    except GeoappError:
        return None
    return _changes_since(current, store.crossing_history(crossing_id), since_version)


def _changes_since(current: int, history: list[dict], since_version: int) -> dict:
    """The history rows written after ``since_version``, oldest first, authors as the page
    shows them (`public_history`), and the ``current`` version a person may choose to
    overwrite explicitly. Every save after creation bumps the version by one and writes
    one history row, so the last ``current - since`` rows are the other people's."""
    newer = min(max(current - since_version, 0), len(history))
    rows = history[-newer:] if newer else []
    return {
        "version": current,
        "since": since_version,
        "changes": public_history(rows, with_accounts=is_admin()),
    }


# The request's filters ---------------------------------------------------------------------


def read_filters(*, with_district: bool) -> dict:
    """The commune/theme/status filters of the query string, unknown values ignored."""
    theme, status = request.args.get("theme", ""), request.args.get("statut", "")
    district = request.args.get("quartier", "") if with_district else ""
    return {
        "district": district if district in get_atlas().slugs else None,
        "theme": theme if theme in THEMES else None,
        "status": status if status in STATUSES else None,
    }


def filter_query(filters: dict) -> dict:
    """The query arguments giving ``filters`` back, for links that keep the page's filters.

    Only known names with cleaned values: splatting ``request.args`` into ``url_for``
    would hand it ``_method``, ``_external`` or ``_anchor`` from any visitor's URL.
    """
    return {QUERY_NAMES[k]: v for k, v in filters.items() if k in QUERY_NAMES and v}


def filter_context(filters: dict) -> dict:
    return {"filters": filters, "filter_query": filter_query(filters)}


def stored_experiments(**filters) -> gpd.GeoDataFrame:
    """The stored experiments (not withdrawn) matching ``filters``, in Lambert-93."""
    return experiments_frame(get_store().list_experiments(**filters))


# The cut of a district -----------------------------------------------------------------------


def _cut_cache() -> VersionedCache:
    return current_app.extensions.setdefault("qmi_cut_reports", VersionedCache())


def cut_report(slug: str) -> CutReport:
    """The district's cut report, cached until the stored *crossings* change.

    Experiments do not enter it, so creating one does not recompute it.
    """
    get_atlas().district(slug)  # a French 404 for an unknown slug, before any query
    version = get_store().data_version("crossings")
    return _cut_cache().get(slug, version, lambda: _build_report(slug))


def _build_report(slug: str) -> CutReport:
    stored = points_frame(
        get_store().list_crossings(district=slug),
        columns=["id", "kind", "status", "name", "version", "lon", "lat"],
    )
    return get_atlas().cut_report(slug, stored)


def with_sides(points: gpd.GeoDataFrame, report: CutReport, columns: list[str]) -> list[dict]:
    """``columns`` of each point plus ``cote``: its side of the cut (None outside)."""
    sides = sides_of(points, report)
    rows = points[columns].to_dict("records")
    return [
        {**row, "cote": None if pd.isna(side) else int(side)}
        for row, side in zip(rows, sides, strict=True)
    ]


def cut_context(slug: str) -> dict:
    """The measured cut of a district: the page's cut section and its JSON twin.

    Cached beside the report, on the same crossings version (treat it as read-only).
    """
    get_atlas().district(slug)  # a French 404 for an unknown slug, before any query
    version = get_store().data_version("crossings")
    return _cut_cache().get(("context", slug), version, lambda: _cut_dict(slug))


def _cut_dict(slug: str) -> dict:
    report = cut_report(slug)
    corridors = report.corridors.round({"length_in_m": 1, "length_near_m": 1})
    return {
        "quartier": slug,
        "modele": CUT_MODEL,
        "corridors": feature_collection(
            corridors, ["corridor_id", "kind", "names", "length_in_m", "length_near_m"]
        ),
        "cotes": {
            "quartier": report.sides["area_ha"].round(2).tolist(),
            "zone_etude": report.study_sides["area_ha"].round(2).tolist(),
            "nb_cotes_zone_etude": report.n_sides,
            "seuil_cote_ha": SLIVER_M2 / 10_000,
            "nb_cotes_quartier": report.n_district_sides,
        },
        "exposition": {str(d): round(v, 4) for d, v in report.exposure.items()},
        "franchissements": feature_collection(
            report.crossings.astype({"id": "object"}),
            ["corridor_id", "name", "kind", "status", "source", "id"],
        ),
        "gares": with_sides(get_atlas().stations_near(slug), report, ["nom", "ligne"]),
        "detour": detour_dict(report.detour),
        "detour_avec_projets": detour_dict(report.detour_with_projects),
        "longueur_km_par_km2": round(report.corridor_km_per_km2, 3),
        "titre": headline(report.detour, report.n_sides),
        "part_allongee_50": detour_dict(report.detour)["share_over_1_5"],
        "coupures_absentes": missing_cuts(get_atlas().district(slug)["coupures"]),
        "detour_reseau": network_dict(report.detour_network),
    }


def best_sites(slug: str) -> BestSites:
    """The district's best places for a new crossing, cached beside its cut report on the
    crossings version (a new crossing moves them)."""
    get_atlas().district(slug)  # a French 404 for an unknown slug, before any query
    version = get_store().data_version("crossings")
    return _cut_cache().get(
        ("best", slug),
        version,
        lambda: report_best_sites(cut_report(slug), get_atlas().study_area(slug)),
    )


def best_sites_context(slug: str) -> dict:
    """The best sites as the page lists them and ``/api/quartiers/<slug>/meilleurs-
    franchissements`` answers: GeoJSON points with ``rang`` and ``avant``/``apres`` in the
    what-if answer's shape."""
    found = best_sites(slug)
    collection = feature_collection(found.sites, ["rang", "corridor_id", "names"])
    before = detour_dict(found.before)
    for feature, after in zip(collection["features"], found.after, strict=True):
        feature["properties"].update(avant=before, apres=detour_dict(after))
    return {
        **collection,
        "quartier": slug,
        "n_candidats": found.n_candidates,
        "pas_m": CANDIDATE_STEP_M,
        "ecart_min_m": MIN_GAP_M,
        "separation_m": SITE_SEPARATION_M,
    }


def best_sites_frame(slug: str) -> gpd.GeoDataFrame:
    """The best sites with their before/after figures as columns, for the district map."""
    found = best_sites(slug)
    return found.sites.assign(
        share_before=found.before.share_over_1_5,
        median_before=found.before.median,
        share_after=[a.share_over_1_5 for a in found.after],
        median_after=[a.median for a in found.after],
    )


def crossing_on_corridor(slug: str, lon: float, lat: float) -> None:
    """A stored crossing sits on a corridor like a what-if one, else a field error."""
    point = lambert93_point(lon, lat)
    try:
        nearest_corridor(cut_report(slug).corridors, point)
    except RefusedInputError as exc:
        raise ValidationError({"lat": str(exc)}) from exc


# Placing an experiment -----------------------------------------------------------------------


def placement_for(
    slug: str,
    lon: float,
    lat: float,
    *,
    shape: dict | None = None,
    exclude: int | None = None,
) -> Placement:
    """What the geometry says about a place in district ``slug``: the point (lon, lat),
    or the line or area ``shape`` (GeoJSON, WGS84) whose anchor is (lon, lat).

    The possible duplicates are asked of the store (a spatial query: PostGIS, or SQLite's
    indexed lon/lat): for a point the nearest few and how many there are, not every
    experiment of the district; for a shape, those around its anchor as far as the shape
    reaches, measured from the whole shape by the analysis.
    """
    atlas = get_atlas()
    district = atlas.district(slug)
    place = lambert93_point(lon, lat)
    radius, limit = DUPLICATE_RADIUS_M, NEARBY_LIMIT
    if shape:
        place = to_lambert93(place_geometry({"shape": shape}))
        radius += reach_m(place)
        limit = SHAPE_NEARBY_LIMIT
    near, count = get_store().experiments_nearest(
        lon, lat, radius, limit, district=slug, exclude=exclude
    )
    return assess_placement(
        place,
        district.geometry,
        tolerance_m=float(district["tolerance_m"]),
        corridors=atlas.corridors[slug],
        stations=atlas.stations,
        experiments=experiments_frame(near),
        sides=cut_report(slug).study_sides,
        nearby_count=None if shape else count,
    )


def clean_experiment(form, slug: str, *, exclude: int | None = None) -> dict:
    """Validate a submitted experiment for district ``slug``, every error at once."""
    district = get_atlas().district(slug)
    errors: dict[str, str] = {}
    values: dict = {}
    try:
        values = validate_experiment(form, objectives=list(district["objectifs"]))
    except ValidationError as exc:
        errors.update(exc.errors)
    if not {"lon", "lat", "shape"} & errors.keys():
        # A valid place is checked against the district even when other fields failed,
        # so the planner sees every problem in one round trip.
        place = validate_place(form)
        placement = placement_for(slug, **place, exclude=exclude)
        if not placement.accepted:
            field = "shape" if place["shape"] else "lat"
            errors[field] = outside_message(
                placement.distance_outside_m,
                placement.tolerance_m,
                district["nom"],
                shaped=bool(place["shape"]),
            )
    if errors:
        raise ValidationError(errors)
    return values


# Page contexts ---------------------------------------------------------------------------------


def district_facts(row) -> dict:
    """A district row's facts and computed figures, as JSON-ready values."""
    return {
        **{k: row[k] for k in DISTRICT_FIELDS},
        "coupures": row["coupures"],
        "area_ha": round(float(row["area_ha"]), 2),
    }


# Maps ----------------------------------------------------------------------------------------


def _map_cache() -> VersionedCache:
    return current_app.extensions.setdefault("qmi_map_shells", VersionedCache())


def map_shell(slug: str | None = None) -> dict:
    """The page parts of a map (`geoapp.maps.map_parts`) without its experiments, which
    the page's JS fetches (`experiment_points`): the overview's never changes, a
    district's changes with the stored crossings, so each is built once per version
    instead of on every request. Treat it as read-only."""
    if slug is None:
        return _map_cache().get("overview", 0, _overview_shell)
    get_atlas().district(slug)  # a French 404 for an unknown slug, before any query
    version = get_store().data_version("crossings")

    def build() -> dict:
        report = cut_report(slug)
        return map_parts(
            build_district_map(
                get_atlas(),
                slug,
                None,
                report=report,
                best_sites=best_sites_frame(slug),
                **map_options(),
            )
        )

    return _map_cache().get(("district", slug), version, build)


def _overview_shell() -> dict:
    return map_parts(build_overview_map(get_atlas(), None, **map_options()))


def map_source(filters: dict) -> dict:
    """Where a map page's JS fetches its experiments (and their popups) for ``filters``."""
    return {
        "experiments_url": url_for("api.map_experiments", **filter_query(filters)),
        "details_url": url_for("api.map_experiments") + "/",
    }


def _points_cache() -> VersionedCache:
    return current_app.extensions.setdefault("qmi_map_points", VersionedCache())


def experiment_points(filters: dict) -> tuple[str, Callable[[], bytes]]:
    """The map's experiments for ``filters`` as JSON bytes (`geoapp.maps.experiment_points`),
    with the validator naming their version: (etag, bytes-getter), so a client holding the
    current version gets a 304 before anything is read or encoded."""
    version = get_store().data_version("experiments")
    key = tuple(sorted(filter_query(filters).items()))
    digest = hashlib.sha1(repr(key).encode()).hexdigest()[:10]

    def build() -> bytes:
        points = experiment_map_payload(get_store().experiment_map_points(**filters))
        return json.dumps(points, ensure_ascii=False, separators=(",", ":")).encode()

    return f"e{version}-{digest}", lambda: _points_cache().get(key, version, build)


def experiment_popup_data(experiment_id: int) -> dict:
    """The popup of one experiment on the map; withdrawn ones are not on the map (404)."""
    store = get_store()
    experiment = store.get_experiment(experiment_id)
    if experiment["withdrawn"]:
        raise GeoappError("Cette expérimentation a été retirée.", 404)
    photos = store.list_photos(experiment_id)
    return {
        **experiment_popup(experiment, url_for),
        "liens": [{"url": u, "texte": link_label(u)} for u in experiment["links"]],
        "photo": photo_links(photos[0], experiment["title"], 1) if photos else None,
    }


def photo_links(photo: dict, title: str, number: int) -> dict:
    """Where a photo and its thumbnail are served, and its alternative text (the caption,
    else « Photo n de <titre> »)."""
    return {
        "url": url_for("photos.serve", file=photo["file"]),
        "vignette": url_for("photos.serve", file=thumbnail_name(photo["file"])),
        "alt": photo["caption"] or f"Photo {number} de {title}",
        "largeur": photo["width"],
        "hauteur": photo["height"],
    }


# Page contexts ---------------------------------------------------------------------------------


def overview_context() -> dict:
    """The overview: the districts, their cuts compared, how many experiments match."""
    atlas = get_atlas()
    filters = read_filters(with_district=True)
    districts = [district_facts(row) for _, row in atlas.districts.iterrows()]
    comparison = [{"quartier": d, "coupures": cut_context(d["slug"])} for d in districts]
    comparison.sort(key=lambda row: -(row["coupures"]["part_allongee_50"] or 0.0))
    return {
        "quartiers": districts,
        "comparaison": comparison,
        "n_experimentations": get_store().count_experiments(**filters),
        **filter_context(filters),
    }


def overview_page() -> dict:
    """Everything ``pages/index.html`` renders: the context plus the map."""
    context = overview_context()
    return {
        **context,
        "map": {**map_shell(), **map_source(context["filters"])},
        "programme": get_atlas().programme,
    }


def _district_data(slug: str) -> dict:
    """The district's facts, its cut, and its first experiments (at most ``LIST_LIMIT``,
    with their side of the cut): a list a person reads, the map and the registry show
    all of them."""
    atlas = get_atlas()
    row = atlas.district(slug)
    filters = {**read_filters(with_district=False), "district": slug}
    store = get_store()
    first, total = store.page_experiments(limit=LIST_LIMIT, **filters)
    columns = ["id", "title", "theme", "status", "precision"]
    listed = with_sides(experiments_frame(first), cut_report(slug), columns)
    return {
        "quartier": district_facts(row),
        "experimentations": listed,
        "n_experimentations": total,
        "coupures": cut_context(slug),
        "meilleurs_franchissements": best_sites_context(slug),
        "franchissements_saisis": store.list_crossings(district=slug),
        **filter_context(filters),
    }


def district_context(slug: str) -> dict:
    """One district: facts, experiments (with their side of the cut), the measured cut."""
    return _district_data(slug)


def district_page(slug: str, *, form: dict | None = None, errors: dict | None = None) -> dict:
    """Everything ``pages/district.html`` renders; the form refills with what was typed."""
    context = _district_data(slug)
    return {
        **context,
        "d": context["quartier"],
        "map": {**map_shell(slug), **map_source(context["filters"])},
        "programme": get_atlas().programme,
        "form": form or {},
        "errors": errors or {},
    }


def experiment_photos(experiment: dict) -> list[dict]:
    """An experiment's photos as its page and its JSON twin show them: where each is
    served, its caption and alternative text, its size (never who added it)."""
    return [
        {"id": p["id"], "legende": p["caption"], **photo_links(p, experiment["title"], n)}
        for n, p in enumerate(get_store().list_photos(experiment["id"]), start=1)
    ]


def experiment_page(
    experiment_id: int, *, form: dict | None = None, errors: dict | None = None
) -> dict:
    """Everything ``experiments/detail.html`` renders: the experiment, its history, map."""
    store = get_store()
    atlas = get_atlas()
    experiment = visible_experiment(experiment_id)
    slug = experiment["district"]
    return {
        "e": experiment,
        "d": district_facts(atlas.district(slug)),
        "history": public_history(store.history(experiment_id), with_accounts=is_admin()),
        "photos": experiment_photos(experiment),
        "map": {**map_shell(slug), **map_source({"district": slug})},
        "form": form or experiment,
        "errors": errors or {},
        "field_labels": FIELD_LABELS,
        **filter_context({}),
    }


# The map search --------------------------------------------------------------------------------


def search_index_json() -> tuple[str, Callable[[], bytes]]:
    """The map search's index (`geoapp.search`) as JSON bytes, with the validator naming
    the experiments' data version: (etag, bytes-getter), so a client holding the current
    index gets a 304 before anything is built. Withdrawn experiments are never in it,
    whoever asks: one index serves everyone, built once per version."""
    version = get_store().data_version("experiments")
    cache = current_app.extensions.setdefault("qmi_search", VersionedCache())
    return f"recherche-{version}", lambda: cache.get("index", version, _search_json)


def _search_json() -> bytes:
    index = search_entries(get_atlas(), get_store().experiment_map_points(), link=url_for)
    return json.dumps(index, ensure_ascii=False, separators=(",", ":")).encode()
