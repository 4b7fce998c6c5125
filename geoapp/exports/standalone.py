"""The interactive map as one offline HTML file (a USB stick, a room with no network).

The map is the web map: the same folium builders from :mod:`geoapp.maps`, then every
resource they load is put *inside* the file: Leaflet and plugins' JS/CSS as inline
``<script>``/``<style>``, the images the CSS points at as ``data:`` URIs, the layers as
a JSON data block that ``qmi-map.js`` draws. Links into the app (district pages,
experiment pages, sources) would lead nowhere from ``file://``, so popups have none and
districts do not navigate.
No tile layer: without network the vector layers on a pale background make the map.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import re

import jinja2
import numpy as np

from geoapp.assets import MAP_CSS, MAP_JS, asset_file
from geoapp.config import PROJECT_ROOT
from geoapp.exports.cut_page import cut_view
from geoapp.exports.layers import line_label
from geoapp.exports.scene import Scene, places
from geoapp.exports.style import NO_EXPERIMENT, PERIMETER_NOTE, SUBTITLE, french_date
from geoapp.maps import build_district_map, build_overview_map, map_parts
from geoapp.vocabulary import THEME_COLOURS, THEME_LABELS, THEMES

_CSS_URL = re.compile(r"url\((['\"]?)(?!data:|#|https?:)([^)'\"]+)\1\)")


def _json_default(value: object) -> object:
    """numpy scalars, which pandas hands out, as plain JSON numbers."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# An autoescaping environment on the app's template folder: the file is a template we
# wrote, and everything from data reaches it as a value (text or JSON), never as source.
_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(PROJECT_ROOT / "templates"),
    autoescape=True,
    keep_trailing_newline=True,
)
_ENV.policies["json.dumps_function"] = lambda obj, **kw: json.dumps(
    obj, default=_json_default, **kw
)


def render_standalone(scene: Scene) -> bytes:
    """One self-contained HTML file (UTF-8) with the interactive map of ``scene``.

    Built with ``link=None``: links into the app would lead nowhere from ``file://``, so
    popups carry none and districts do not navigate. A district's map carries its cut as
    the district page draws it: the numbered sides, the crossings and the best sites.
    """
    options = {"asset_url": None, "tiles": False, "link": None}
    if scene.is_programme:
        view = build_overview_map(scene.atlas, scene.experiments, **options)
    else:
        cut = cut_view(scene, scene.target)
        view = build_district_map(
            scene.atlas,
            scene.target,
            scene.experiments,
            report=cut.report,
            best_sites=cut.sites,
            **options,
        )
    html = _ENV.get_template("exports/standalone.html").render(
        title=scene.title,
        subtitle=SUBTITLE,
        date=french_date(scene.today),
        caption=scene.caption,
        headline=None if scene.is_programme else cut_view(scene, scene.target).headline,
        legend=_legend(scene),
        note=PERIMETER_NOTE,
        map=map_parts(view),
        styles=[_inline_css(lib, name) for _, lib, name in MAP_CSS] + [_PANEL_CSS],
        scripts=[_inline_js(lib, name) for _, lib, name in MAP_JS],
    )
    return html.encode("utf-8")


def _inline_js(library: str, name: str) -> str:
    """A vendored script's text, safe inside ``<script>``.

    "</script" inside a script would end it early; "<\\/" means the same to JS.
    """
    return asset_file(library, name).read_text(encoding="utf-8").replace("</script", "<\\/script")


def _inline_css(library: str, name: str) -> str:
    """A vendored stylesheet with the images it points at as ``data:`` URIs."""
    css = asset_file(library, name).read_text(encoding="utf-8")
    folder = name.rsplit("/", 1)[0] + "/" if "/" in name else ""
    return _CSS_URL.sub(lambda m: _data_uri(library, folder + m.group(2)), css)


def _data_uri(library: str, name: str) -> str:
    try:
        data = asset_file(library, name).read_bytes()
    except (KeyError, FileNotFoundError):
        return "url()"  # an image the library does not ship: better nothing than a 404
    mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return f"url(data:{mime};base64,{base64.b64encode(data).decode('ascii')})"


def _legend(scene: Scene) -> list[dict[str, str | None]]:
    """Legend items as data (``kind`` picks the swatch); the template escapes labels."""
    lines = sorted(
        {
            (n, c, k)
            for n, c, k in scene.atlas.cuts[["nom", "couleur", "kind"]].itertuples(index=False)
        }
        if not scene.is_programme
        else set()
    )
    if not scene.is_programme:
        near = scene.atlas.corridors[scene.target]["names"].str.split(", ").explode()
        lines = [line for line in lines if line[0] in set(near)]
    themes = [t for t in THEMES if t in set(scene.experiments["theme"])]
    items = [{"kind": "d", "colour": None, "label": "Quartier (périmètre indicatif)"}]
    items += [{"kind": "l", "colour": c, "label": line_label(n)} for n, c, _ in lines]
    if scene.is_programme:
        items.append(
            {
                "kind": "l",
                "colour": "#5091cb",
                "label": "Voie ferrée ou tramway (couleur de la ligne)",
            }
        )
    items.append({"kind": "g", "colour": None, "label": "Gare ou station"})
    if not scene.is_programme:
        items += _CUT_ITEMS
    items += [{"kind": "e", "colour": THEME_COLOURS[t], "label": THEME_LABELS[t]} for t in themes]
    if not themes:
        items.append({"kind": "none", "colour": None, "label": NO_EXPERIMENT})
    kinds = set(places(scene.experiments).geom_type)
    if "LineString" in kinds:
        items.append({"kind": "t", "colour": None, "label": "Tracé (marqueur en son milieu)"})
    if "Polygon" in kinds:
        items.append({"kind": "z", "colour": None, "label": "Zone (marqueur à l’intérieur)"})
    return items


# The cut layers of a district map (`geoapp.maps.add_sides`, `add_crossings`,
# `add_best_sites`): what each is, the map's popups say the rest.
_CUT_ITEMS = [
    {"kind": "s", "colour": None, "label": "Côtés de la coupure (numérotés)"},
    {"kind": "x", "colour": None, "label": "Franchissement existant ou en projet"},
    {"kind": "b", "colour": None, "label": "Meilleurs sites pour un nouveau franchissement"},
]

_PANEL_CSS = """
html,body{width:100%;height:100%;margin:0;padding:0}
.folium-map{position:absolute;top:0;bottom:0;left:0;right:0}
.qmi-sa{position:absolute;z-index:1000;left:56px;top:10px;max-width:330px;background:#fff;
 border-radius:8px;box-shadow:0 1px 6px rgba(0,0,0,.3);padding:10px 14px;
 font:13px/1.4 system-ui,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1f2430}
.qmi-sa h1{font-size:16px;margin:0 0 2px;border-top:4px solid #6a1b9a;padding-top:6px}
.qmi-sa p{margin:2px 0;color:#5b6270}.qmi-sa .f{color:#6a1b9a}
.qmi-sa .n{font-size:11px;margin-top:6px}
.qmi-sa ul{list-style:none;margin:6px 0 0;padding:0}
.qmi-sa li{display:flex;align-items:center;gap:8px;margin:2px 0}
.qmi-sa .none{color:#5b6270;font-style:italic}
.sw{display:inline-block;width:20px;height:12px;flex:none}
.sw-d{background:rgba(106,27,154,.22);border:2px solid #6a1b9a}
.sw-l{height:0;border-top:4px solid}
.sw-g{width:10px;height:10px;border-radius:50%;border:2px solid #263238;background:#fff}
.sw-e{width:12px;height:12px;border-radius:50%}
.sw-t{height:0;border-top:4px solid #5b6270;border-radius:2px}
.sw-z{background:rgba(91,98,112,.3);border:2px solid #5b6270}
.sw-s{background:rgba(120,160,200,.35);border:1px dashed #23415f}
.sw-x{width:10px;height:10px;border-radius:50%;background:#2e7d32;border:2px solid #ef6c00}
.sw-b{width:14px;height:14px;border-radius:50%;background:#f8bbd0;border:3px solid #ad1457}
.qmi-sa .h{color:#1f2430;font-weight:600;margin:6px 0}
.qmi-sa details summary{cursor:pointer;font-weight:600;margin-top:4px}
.qmi-sa{max-height:calc(100% - 40px);overflow:auto;box-sizing:border-box}
"""
