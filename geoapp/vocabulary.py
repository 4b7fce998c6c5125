"""Every controlled word of QMI Atlas, once: the values, their French labels, their colours.

The registry's checks, the store's schema constraints, the folium maps, the drawn and data
exports and the templates all read their lists here, so a theme added or renamed is added
or renamed everywhere at once (``tests/test_vocabulary.py`` compares the database's CHECK
constraints with these lists). Plain constants and one formatting function: no Flask, no
folium, no database, so every layer may import it.

Values are French because they are shown as typed and stored as such; identifiers stay
English.
"""

from __future__ import annotations

# Experiments ------------------------------------------------------------------------

THEMES = [
    "mobilité",
    "nature en ville et îlots de fraîcheur",
    "énergie et bâti",
    "déchets et économie circulaire",
    "commerce et attractivité",
    "lien social et culture",
    "espaces publics",
]
# Point colours of the experiments, by theme, on the web map and in every drawn export.
THEME_COLOURS = {
    "mobilité": "#1565c0",
    "nature en ville et îlots de fraîcheur": "#2e7d32",
    "énergie et bâti": "#f9a825",
    "déchets et économie circulaire": "#6d4c41",
    "commerce et attractivité": "#c2185b",
    "lien social et culture": "#7b1fa2",
    "espaces publics": "#00838f",
}
# Legend text: the theme as a heading ("Mobilité").
THEME_LABELS = {t: t[:1].upper() + t[1:] for t in THEMES}

STATUSES = ["proposée", "sélectionnée", "déployée", "terminée", "abandonnée"]
STATUS_LABELS = {s: s.capitalize() for s in STATUSES}
# Leaflet path options by status: the fill tells how far an experiment got.
STATUS_STYLES = {
    "proposée": {"fillOpacity": 0.15, "dashArray": "3 3", "weight": 2},
    "sélectionnée": {"fillOpacity": 0.45, "weight": 2},
    "déployée": {"fillOpacity": 0.95, "weight": 2},
    "terminée": {"fillOpacity": 0.95, "weight": 4},
    "abandonnée": {"fillOpacity": 0.1, "dashArray": "1 4", "weight": 2},
}

ORG_KINDS = ["startup", "association", "entreprise"]
PRECISIONS = ["exacte", "indicative"]
PRECISION_LABELS = {"exacte": "exacte", "indicative": "indicative (site exact non publié)"}

# The fields of an experiment, in the order of the registry's files and frames.
# Metropolitan France, Corsica included (degrees, EPSG:4326). A point outside is a typo
# (swapped lon/lat, a missing minus sign), never a real QMI site.
FRANCE_LON = (-5.5, 10.0)
FRANCE_LAT = (41.0, 51.5)

EXPERIMENT_FIELDS = [
    "id",
    "district",
    "title",
    "organisation",
    "org_kind",
    "theme",
    "objectives",
    "description",
    "status",
    "start_date",
    "end_date",
    "lon",
    "lat",
    "shape",
    "precision",
    "location_note",
    "evaluation_outcome",
    "evaluation_scale_up",
    "source",
    "links",
]
# French names of the fields, for the history shown on an experiment's page.
FIELD_LABELS = {
    "district": "quartier",
    "title": "titre",
    "organisation": "structure",
    "org_kind": "type de structure",
    "theme": "thème",
    "objectives": "objectifs",
    "description": "description",
    "status": "statut",
    "start_date": "début",
    "end_date": "fin",
    "lon": "longitude",
    "lat": "latitude",
    "shape": "tracé ou zone",
    "precision": "précision",
    "location_note": "note de localisation",
    "evaluation_outcome": "bilan",
    "evaluation_scale_up": "passage à l’échelle",
    "withdrawn": "retirée",
    "source": "source",
    "links": "liens",
    "photo": "photo",
}
# French names of a crossing's fields, for what changed in a refused crossing write.
CROSSING_FIELD_LABELS = {
    "kind": "type",
    "status": "statut",
    "name": "nom",
    "lon": "longitude",
    "lat": "latitude",
}
# Column headers of the registry's files (CSV, .xlsx, GeoJSON properties), as French Excel
# users read them; the import also accepts the field names themselves. ``version`` is the
# version an exported row was at: importing the row back checks it.
COLUMN_HEADERS = {
    "id": "Identifiant",
    "district": "Quartier",
    "title": "Titre",
    "organisation": "Structure",
    "org_kind": "Type de structure",
    "theme": "Thème",
    "objectives": "Objectifs",
    "description": "Description",
    "status": "Statut",
    "start_date": "Date de début",
    "end_date": "Date de fin",
    "lon": "Longitude",
    "lat": "Latitude",
    "shape": "Tracé ou zone (WKT)",
    "precision": "Précision",
    "location_note": "Note de localisation",
    "evaluation_outcome": "Bilan",
    "evaluation_scale_up": "Passage à l’échelle",
    "links": "Liens",
    "version": "Version",
}
# What an empty value reads as in the history and the import preview.
EMPTY_VALUE = "(vide)"
# Month names for dates written out (« 12 mars 2024 »).
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
# How a list (an experiment's objectives, a district's) is written in one text cell.
LIST_SEPARATOR = " | "

# Crossings of a rail corridor ----------------------------------------------------------

# What planners enter; stations found on the corridor are crossings of kind STATION_KIND.
CROSSING_KINDS = ["passerelle", "souterrain", "pont", "passage à niveau"]
STATION_KIND = "gare"
CROSSING_STATUSES = ["existant", "projeté"]
CROSSING_COLOURS = {"existant": "#2e7d32", "projeté": "#ef6c00"}

# Districts, cuts, stations -----------------------------------------------------------

# The fields of a district, cut and station given to other tools (GeoJSON API, exports).
DISTRICT_FIELDS = [
    "slug",
    "nom",
    "commune",
    "code_insee",
    "departement",
    "code_dep",
    "ept",
    "maire",
    "population",
    "contexte",
    "objectifs",
    "regle",
    "perimetre_source",
    "area_ha",
    "cut_length_in_m",
    "cut_length_near_m",
    "cut_names",
]
CUT_FIELDS = ["nom", "kind", "mode", "couleur"]
STATION_FIELDS = ["nom", "ligne", "mode"]

DISTRICT_COLOUR = "#6a1b9a"
# Leaflet line options by cut kind (the kinds of `geoapp.analysis.cuts.KIND_BY_MODE`).
# The kind of a cut read from a road layer (data/coupures.json "type" by default).
ROAD_KIND = "route"
CUT_STYLES = {
    "voie ferrée": {"weight": 5, "dashArray": None},
    "tramway": {"weight": 3, "dashArray": "6 4"},
    ROAD_KIND: {"weight": 6, "dashArray": "10 3"},
}
# Sides of a cut, shaded in turn.
SIDE_COLOURS = ("#4db6ac", "#ffb74d", "#9575cd", "#aed581", "#f06292", "#4fc3f7")

# Exports at any registry size ----------------------------------------------------------

# A district sheet lists at most this many experiments (deployed first, then the most
# recent); the rest are counted and the reader is sent to the registry's CSV/.xlsx export.
SHEET_TABLE_MAX = 40
# Above this many experiments in one map view, drawn maps count them per hexagon instead
# of drawing one numbered marker each (readable, and the cost no longer grows with them).
MAP_POINTS_MAX = 80
# Seconds a browser waits before asking again for an export still "en préparation".
EXPORT_RETRY_S = 3

# Accounts ----------------------------------------------------------------------------

EDITOR = "editeur"  # edits the district of one commune
ADMIN = "administrateur"  # edits everything, manages accounts
ROLES = (EDITOR, ADMIN)
ROLE_LABELS = {EDITOR: "éditeur", ADMIN: "administrateur"}

# Numbers -----------------------------------------------------------------------------

_NARROW_NBSP = "\u202f"


def fr_num(value: float, digits: int = 1, *, trim: bool = False) -> str:
    """A number written the French way: decimal comma, narrow no-break space thousands.

    ``fr_num(12345.678)`` -> ``"12 345,7"``; ``digits`` decimals are always written
    (``fr_num(2, 2)`` -> ``"2,00"``) unless ``trim`` drops trailing zeros
    (``fr_num(10.0, 1, trim=True)`` -> ``"10"``).
    """
    text = f"{float(value):,.{digits}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(",", _NARROW_NBSP).replace(".", ",")
