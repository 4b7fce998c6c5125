"""The registry page and its files: one page of experiments at a time, human values.

A helper of the ``experiments`` blueprint (no routes here). The page and
``/api/experimentations.geojson`` read one page of `PAGE_SIZE` rows from the store (SQL
LIMIT/OFFSET on a whitelisted sort column, `geoapp.store.experiments.SORTS`), and the
figures from one GROUP BY, so the page costs the same with 100 000 experiments as with 20.
"""

from __future__ import annotations

from flask import current_app, g, request, url_for

from geoapp.cache import VersionedCache
from geoapp.imports import preview_file
from geoapp.registry import may_edit, summarise
from geoapp.store.experiments import SORTS
from geoapp.web.context import filter_context, get_atlas, get_store, read_filters

PAGE_SIZE = 100
# Sortable columns of the registry table: query value -> header.
SORT_HEADERS = {
    "titre": "Titre",
    "structure": "Structure",
    "quartier": "Quartier",
    "theme": "Thème",
    "statut": "Statut",
    "debut": "Dates",
}


def district_names() -> dict[str, str]:
    """Slug -> the district's name, as people call it (« Les Blagis »)."""
    districts = get_atlas().districts
    return dict(zip(districts["slug"], districts["nom"], strict=True))


def listing_request() -> dict:
    """The page number, sort column and direction asked for (bad values: the defaults)."""
    number = request.args.get("page", "1")
    page = int(number) if number.isascii() and number.isdigit() and len(number) < 9 else 1
    sort = request.args.get("tri")
    return {
        "page": max(page, 1),
        "sort": sort if sort in SORTS else None,
        "descending": request.args.get("ordre") == "desc",
    }


def read_page(filters: dict, listing: dict) -> tuple[list[dict], int]:
    offset = (listing["page"] - 1) * PAGE_SIZE
    return get_store().page_experiments(
        sort=listing["sort"],
        descending=listing["descending"],
        limit=PAGE_SIZE,
        offset=offset,
        **filters,
    )


def _query(filters: dict, listing: dict, **changes) -> dict:
    """The query string of the page with ``changes`` (page, tri, ordre)."""
    query = dict(filter_context(filters)["filter_query"])
    if listing["sort"]:
        query["tri"] = listing["sort"]
        if listing["descending"]:
            query["ordre"] = "desc"
    query.update({k: v for k, v in changes.items() if v is not None})
    return query


def pagination(endpoint: str, filters: dict, listing: dict, total: int) -> dict:
    """Page links in French: « Précédente », numbers around the current page, « Suivante »."""
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(listing["page"], pages)

    def link(number: int) -> str:
        return url_for(endpoint, **_query(filters, listing, page=number if number > 1 else None))

    around = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    return {
        "page": page,
        "pages": pages,
        "total": total,
        "first": (page - 1) * PAGE_SIZE + 1 if total else 0,
        "last": min(page * PAGE_SIZE, total),
        "previous": link(page - 1) if page > 1 else None,
        "next": link(page + 1) if page < pages else None,
        "links": [{"number": n, "url": link(n), "current": n == page} for n in around],
    }


def sort_links(filters: dict, listing: dict) -> dict[str, dict]:
    """Each sortable header's link: ascending, or descending when already ascending."""
    links = {}
    for key, label in SORT_HEADERS.items():
        active = listing["sort"] == key
        descending = active and not listing["descending"]
        query = {**_query(filters, {**listing, "sort": key, "descending": descending})}
        query.pop("page", None)
        arrow = (" ▼" if listing["descending"] else " ▲") if active else ""
        links[key] = {"url": url_for("experiments.registry", **query), "label": label + arrow}
    return links


def withdrawn_for_user() -> list[dict]:
    """The withdrawn experiments this account may see and restore: all of them for an
    administrator, its district's for an editor (the first `PAGE_SIZE`); none otherwise."""
    user = g.get("user")
    if not user:
        return []
    districts = get_atlas().districts
    codes = dict(zip(districts["slug"], districts["code_insee"], strict=True))
    slugs = [slug for slug, code in codes.items() if may_edit(user, code)]
    if not slugs:
        return []
    district = None if len(slugs) == len(codes) else slugs[0]
    return get_store().page_experiments(limit=PAGE_SIZE, district=district, only_withdrawn=True)[0]


def registry_figures() -> dict:
    """The registry's figures (`geoapp.registry.summarise` of the store's counts), kept
    until the next experiment write: a GROUP BY over every row is not paid per view."""
    cache = current_app.extensions.setdefault("qmi_registry_figures", VersionedCache())
    version = get_store().data_version("experiments")
    slugs = get_atlas().slugs
    return cache.get(
        "figures", version, lambda: summarise(get_store().experiment_tally(), districts=slugs)
    )


def registry_context() -> dict:
    """Everything ``experiments/registry.html`` renders."""
    atlas = get_atlas()
    filters = read_filters(with_district=True)
    listing = listing_request()
    rows, total = read_page(filters, listing)
    summary = registry_figures()
    return {
        "experiments": rows,
        "summary": summary,
        "withdrawn": withdrawn_for_user(),
        "districts": atlas.districts,
        "district_names": district_names(),
        "programme": atlas.programme,
        "pagination": pagination("experiments.registry", filters, listing, total),
        "sort_links": sort_links(filters, listing),
        "listing": listing,
        **filter_context(filters),
    }


def preview(filename: str, data: bytes, user: dict):
    """The import plan of an uploaded file for ``user`` (`geoapp.imports.preview_file`)."""
    limit = current_app.config["IMPORT_MAX_ROWS"]
    return preview_file(
        filename, data, atlas=get_atlas(), store=get_store(), user=user, max_rows=limit
    )
