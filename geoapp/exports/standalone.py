"""The interactive map as one offline HTML file (a USB stick, a room with no network).

The map is the web map: the same folium builders from :mod:`geoapp.maps`, then every
resource they load is put *inside* the file: Leaflet and plugins' JS/CSS as inline
``<script>``/``<style>``, the images the CSS points at as ``data:`` URIs, the layers as
GeoJSON in the script. Links into the app (district pages, experiment pages, sources)
would lead nowhere from ``file://``, so popups lose them and districts do not navigate.
No tile layer: without network the vector layers on a pale background make the map.
"""

from __future__ import annotations

import base64
import html
import mimetypes
import re

import folium
from branca.element import Element, MacroElement
from jinja2 import Template

from geoapp.assets import asset_file
from geoapp.exports.layers import line_label
from geoapp.exports.scene import Scene
from geoapp.exports.style import NO_EXPERIMENT, PERIMETER_NOTE, SUBTITLE, french_date
from geoapp.maps import ATTRIBUTION, THEME_COLOURS, build_district_map, build_overview_map

_PREFIX = "qmi-inline:"
_TAG = re.compile(r'<script src="qmi-inline:([^/"]+)/([^"]+)"></script>'
                  r'|<link rel="stylesheet" href="qmi-inline:([^/"]+)/([^"]+)"/?>')
_CSS_URL = re.compile(r"url\((['\"]?)(?!data:|#|https?:)([^)'\"]+)\1\)")
_APP_LINK = re.compile(r"<a href='/[^']*'>[^<]*</a>")


def render_standalone(scene: Scene) -> bytes:
    """One self-contained HTML file (UTF-8) with the interactive map of ``scene``."""
    options = {"asset_url": lambda library, name: f"{_PREFIX}{library}/{name}",
               "tiles": False}
    if scene.is_programme:
        m = build_overview_map(scene.atlas, scene.experiments, **options)
    else:
        m = build_district_map(scene.atlas, scene.target, scene.experiments, **options)
    _drop_app_links(m)
    _Offline().add_to(m)
    root = m.get_root()
    root.title = f"{scene.title} — QMI Atlas"
    root.header.add_child(Element(f"<style>{_PANEL_CSS}</style>"), name="qmi_panel_css")
    root.html.add_child(Element(_panel(scene)), name="qmi_panel")
    page = root.render()
    page = page.replace("<html>", '<html lang="fr">', 1)
    return _TAG.sub(_inline, page).encode("utf-8")


def _drop_app_links(m: folium.Map) -> None:
    """Remove in-app links (popups, click-to-navigate) from every GeoJSON layer."""
    for child in m._children.values():
        if not isinstance(child, folium.GeoJson):
            continue
        for feature in child.data.get("features", []):
            props = feature.get("properties") or {}
            props.pop("url", None)
            if isinstance(props.get("popup"), str):
                props["popup"] = _APP_LINK.sub("", props["popup"])


class _Offline(MacroElement):
    """After ``QMI.register``: the attribution without its link to the app's /sources."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "(function (a) { a.removeAttribution({{ this.linked|tojson }});"
        " a.addAttribution({{ this.plain|tojson }}); })"
        "({{ this._parent.get_name() }}.attributionControl);"
        "{% endmacro %}")
    linked = ATTRIBUTION + ' · <a href="/sources">Sources</a>'
    plain = ATTRIBUTION


def _inline(match: re.Match) -> str:
    """The file a placeholder tag names, inlined (JS as text, CSS with data: images)."""
    if match.group(1):
        source = asset_file(match.group(1), match.group(2)).read_text(encoding="utf-8")
        # "</script" inside a script would end it early; "<\/" means the same to JS.
        return "<script>" + source.replace("</script", "<\\/script") + "</script>"
    library, name = match.group(3), match.group(4)
    css = asset_file(library, name).read_text(encoding="utf-8")
    folder = name.rsplit("/", 1)[0] + "/" if "/" in name else ""
    return f"<style>{_CSS_URL.sub(lambda m: _data_uri(library, folder + m.group(2)), css)}</style>"


def _data_uri(library: str, name: str) -> str:
    try:
        data = asset_file(library, name).read_bytes()
    except (KeyError, FileNotFoundError):
        return "url()"  # an image the library does not ship: better nothing than a 404
    mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return f"url(data:{mime};base64,{base64.b64encode(data).decode('ascii')})"


def _panel(scene: Scene) -> str:
    """Title, date, filters and legend over the map (all text escaped)."""
    esc = html.escape
    caption = scene.caption
    lines = sorted({(n, c, k) for n, c, k in scene.atlas.cuts[["nom", "couleur", "kind"]]
                    .itertuples(index=False)} if not scene.is_programme else set())
    if not scene.is_programme:
        near = scene.atlas.corridors[scene.target]["names"].str.split(", ").explode()
        lines = [line for line in lines if line[0] in set(near)]
    themes = [t for t in THEME_COLOURS if t in set(scene.experiments["theme"])]
    items = ["<li><span class='sw sw-d'></span>Quartier (périmètre indicatif)</li>"]
    items += [f"<li><span class='sw sw-l' style='border-color:{esc(c)}'></span>"
              f"{esc(line_label(n))}</li>" for n, c, _ in lines]
    if scene.is_programme:
        items.append("<li><span class='sw sw-l' style='border-color:#5091cb'></span>"
                     "Voie ferrée ou tramway (couleur de la ligne)</li>")
    items.append("<li><span class='sw sw-g'></span>Gare ou station</li>")
    items += [f"<li><span class='sw sw-e' style='background:{esc(THEME_COLOURS[t])}'></span>"
              f"{esc(t[:1].upper() + t[1:])}</li>" for t in themes]
    if not themes:
        items.append(f"<li class='none'>{esc(NO_EXPERIMENT)}</li>")
    return (f"<aside class='qmi-sa'><h1>{esc(scene.title)}</h1>"
            f"<p>{esc(SUBTITLE)} · {esc(french_date(scene.today))}</p>"
            + (f"<p class='f'>{esc(caption)}</p>" if caption else "")
            + f"<ul>{''.join(items)}</ul><p class='n'>{esc(PERIMETER_NOTE)} "
            "Carte hors ligne exportée de QMI Atlas.</p></aside>")


_PANEL_CSS = """
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
"""
