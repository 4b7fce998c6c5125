"""The look shared by every drawn export: colours, sizes, fonts, French wording.

One place so the slide, the print map and the district sheet agree with each other and
with the web map (same district purple, same line colours from IDFM).
"""

from __future__ import annotations

from datetime import date

from geoapp.vocabulary import DISTRICT_COLOUR, MONTHS

INK = "#1f2430"
MUTED = "#5b6270"
BRAND = DISTRICT_COLOUR
# The district is filled with an *opaque* tint of the brand purple (not an alpha blend),
# so the fill colour is one exact RGB value in a PNG and the tests can look for it.
DISTRICT_FILL = "#e6d6ef"
COMMUNE_FILL = "#efede8"
COMMUNE_FILL_OUTSIDE = "#f8f7f4"
COMMUNE_HOME_FILL = "#fcfbf9"  # the district's own commune: lighter, so the district pops
COMMUNE_EDGE = "#b8bcc4"
RAIL_CONTEXT = "#c5c8ce"
STATION_EDGE = "#263238"
FONT = "DejaVu Sans"  # shipped with matplotlib: the same metrics on every machine

# Experiment points use the web map's theme colours: geoapp.vocabulary.THEME_COLOURS.

# name -> ((width, height) in inches, dpi, type scale); PNG pixel size = inches × dpi.
# diapo: a 16:9 slide (1920×1080 px); a4: A4 landscape (297×210 mm) at 300 dpi.
# Sizes of text and lines are written for the slide; the scale shrinks them for A4 a
# little less than the page (0.61): labels stay 7 pt or more on paper.
SIZES = {"diapo": ((1920 / 100, 1080 / 100), 100, 1.0), "a4": ((3508 / 300, 2480 / 300), 300, 0.7)}

SUBTITLE = "Métropole du Grand Paris — QMI"
ATTRIBUTION = (
    "Sources : communes, mairies : IGN/INSEE, ADMIN EXPRESS (Licence Ouverte) · "
    "QPV : ANCT (Licence Ouverte) · réseau ferré, gares : Île-de-France Mobilités "
    "(ODbL) · expérimentations : registre QMI Atlas · programme : Métropole du "
    "Grand Paris."
)
PERIMETER_NOTE = (
    "Périmètres des quartiers indicatifs : aucun périmètre officiel n’est publié, "
    "ils sont dérivés des données ouvertes par QMI Atlas."
)
NO_EXPERIMENT = "Aucune expérimentation enregistrée"


def french_date(day: date) -> str:
    """``date(2025, 3, 1)`` -> ``"1er mars 2025"`` (no locale needed)."""
    first = "1er" if day.day == 1 else str(day.day)
    return f"{first} {MONTHS[day.month - 1]} {day.year}"


def text_colour_on(hex_colour: str) -> str:
    """Black or white, whichever reads better on ``hex_colour`` (WCAG relative luminance)."""
    rgb = [int(hex_colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    luminance = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    return INK if luminance > 0.35 else "white"


def filter_caption(theme: str | None, status: str | None, commune: str | None = None) -> str | None:
    """``"Expérimentations filtrées : thème « mobilité », statut « déployée »"`` or ``None``."""
    parts = [f"commune « {commune} »"] if commune else []
    if theme:
        parts.append(f"thème « {theme} »")
    if status:
        parts.append(f"statut « {status} »")
    return "Expérimentations filtrées : " + ", ".join(parts) if parts else None
