"""The JS/CSS the maps need, served by the app itself so pages work with no internet.

Leaflet (the exact 1.9.3 folium targets) comes from its XStatic package on PyPI, so pip
pins and installs it like any dependency. Leaflet.fullscreen and Supercluster (the
browser-side clustering of the experiments) have no XStatic package; their files are
vendored from npm under ``geoapp/static/vendor`` with their licences, and so is
Leaflet-Geoman (free edition), the drawing plugin pages load only where an editor draws
an experiment's line or area (``templates/pages/_map_head.html``; not offline files).
jQuery, Bootstrap and Font Awesome, which folium loads by default, are not needed: our
maps use no folium popups or icons (qmi-map.js builds popups from the layers' JSON data).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import xstatic.pkg.leaflet

STATIC_DIR = Path(__file__).resolve().parent / "static"

# library name -> folder holding its files
LIBRARIES: dict[str, Path] = {
    "leaflet": Path(xstatic.pkg.leaflet.BASE_DIR),
    "supercluster": STATIC_DIR / "vendor" / "supercluster",
    "fullscreen": STATIC_DIR / "vendor" / "leaflet.fullscreen",
    "geoman": STATIC_DIR / "vendor" / "geoman",
    "qmi": STATIC_DIR,
}

# (folium resource name, library, file) in load order
MAP_JS = (
    ("leaflet", "leaflet", "leaflet.js"),
    ("fullscreen_js", "fullscreen", "Control.FullScreen.js"),
    ("supercluster_js", "supercluster", "supercluster.min.js"),
    ("qmi_map_js", "qmi", "js/qmi-map.js"),
)
MAP_CSS = (
    ("leaflet_css", "leaflet", "leaflet.css"),
    ("fullscreen_css", "fullscreen", "Control.FullScreen.css"),
    ("qmi_map_css", "qmi", "css/map.css"),
)

AssetUrl = Callable[[str, str], str]


def asset_file(library: str, filename: str) -> Path:
    """Path of a vendored file; ``KeyError``/``FileNotFoundError`` if it is not ours.

    A name the file system cannot even look up (a NUL byte, thousands of characters) is
    not ours either, rather than a ``ValueError``/``OSError`` reaching the user as a 500.
    """
    base = LIBRARIES[library].resolve()
    try:
        path = (base / filename).resolve()
        found = base in path.parents and path.is_file()
    except (ValueError, OSError):
        found = False
    if not found:
        raise FileNotFoundError(filename)
    return path


def map_resources(url: AssetUrl) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(js, css) lists in folium's ``default_js``/``default_css`` shape, using ``url``."""
    js = [(name, url(lib, f)) for name, lib, f in MAP_JS]
    css = [(name, url(lib, f)) for name, lib, f in MAP_CSS]
    return js, css
