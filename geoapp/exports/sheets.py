"""District sheets ("fiche quartier"): A4 landscape PDF, vector, with searchable text.

A district sheet has the district map (with legend, scale bar, north arrow), the commune
facts, the computed figures, the objectives, a page on the urban cut
(`geoapp.exports.cut_page`: numbered sides, crossings, best sites, the headline measure,
detours, exposure and what the model does not see), the context, the cuts the programme names,
the experiments counted by theme and status, and a table of at most
:data:`~geoapp.vocabulary.SHEET_TABLE_MAX` experiments (deployed first, then the most
recent) followed by "… et N autres : voir l'annexe", the registry's CSV/Excel export that
lists them all. The programme sheet opens with the Métropole map, the published and
computed figures and the four districts compared (their cuts ranked by the headline
measure, rows missing a named cut marked « incomplètes »), then gives one page per district (its
map, facts, figures and objectives) and the programme's experiments summarised the same
way. Both stay a document a person reads, whatever the size of the registry: a few pages,
whose drawing cost does not grow with the number of experiments.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import matplotlib
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.image import imread
from matplotlib.lines import Line2D

from geoapp.exports import FORMATS, ExportOptions, export_filename
from geoapp.exports.cut_page import cut_comparison, cut_sheet_page
from geoapp.exports.density import draw_map
from geoapp.exports.layers import line_label
from geoapp.exports.legend import draw_legend
from geoapp.exports.scene import Scene, place_sizes, place_text
from geoapp.exports.static_maps import (
    DISTRICT_PAD_M,
    SAVE_LOCK,
    SAVE_RC,
    bounds_with_experiments,
    new_figure,
    number_districts,
    plain_text,
    status_counts,
)
from geoapp.exports.style import (
    ATTRIBUTION,
    BRAND,
    FONT,
    INK,
    MUTED,
    NO_EXPERIMENT,
    PERIMETER_NOTE,
    SUBTITLE,
    french_date,
)
from geoapp.exports.typeset import MARGIN_IN, Column, Flow, wrap_lines
from geoapp.photos import thumbnail_name
from geoapp.registry import deployment_rate, link_label
from geoapp.vocabulary import SHEET_TABLE_MAX, STATUS_LABELS, STATUSES, THEMES, fr_num

SHEET_SCALE = 0.72  # map type and line sizes relative to the slide
_EXPERIMENT_HEADERS = ("N°", "Expérimentation", "Thème", "Statut", "Période", "Description")
_EXPERIMENT_WIDTHS = (0.045, 0.22, 0.15, 0.09, 0.12, 0.375)
_PROGRAMME_HEADERS = ("N°", "Expérimentation", "Quartier", "Thème", "Statut", "Description")
_PROGRAMME_WIDTHS = (0.05, 0.22, 0.14, 0.15, 0.09, 0.35)
# A table cell shows this many characters of a description at most (the annex has it
# whole), so 40 rows stay a few pages whatever was typed.
DESCRIPTION_MAX = 140
# The sheet is vector: the resolution only sizes the Agg canvas that measures text and
# places labels while pages are laid out. At the A4 maps' 300 dpi each page kept a 35 MB
# buffer until the document was saved (300 MB for the programme); at 100 dpi, 4 MB.
SHEET_DPI = 100
# The photo block of a district sheet: the first photo of at most this many deployed
# experiments, side by side, this tall (inches).
SHEET_PHOTOS = 3
PHOTO_HEIGHT_IN = 2.0


def render_sheet(scene: Scene) -> bytes:
    """The sheet of ``scene`` as PDF bytes: one district, or the programme (``all``)."""
    flow = Flow(lambda: _new_page(scene, flow))
    if scene.is_programme:
        _programme_cover(flow, scene)
        cut_comparison(flow, scene)
        for slug in scene.atlas.slugs:
            _district_first_page(flow, scene.sub(slug))
        flow.title, flow.kicker = scene.title, "Programme QMI"
        flow.page()
        _experiment_section(flow, scene)
    else:
        _district_first_page(flow, scene)
        cut_sheet_page(flow, scene, scale=SHEET_SCALE)
        flow.kicker = "Fiche quartier"  # the pages after the cut's are the district's again
        _district_details(flow, scene)
    for number, fig in enumerate(flow.pages, 1):
        fig.text(
            1 - MARGIN_IN / fig.get_figwidth(),
            0.02,
            f"{number} / {len(flow.pages)}",
            ha="right",
            va="bottom",
            fontsize=8,
            color=MUTED,
            family=FONT,
        )
    buffer = io.BytesIO()
    with (
        SAVE_LOCK,
        matplotlib.rc_context(SAVE_RC),
        PdfPages(
            buffer,
            metadata={
                "Title": f"Fiche — {scene.title}",
                "Creator": "QMI Atlas",
                "Producer": "QMI Atlas",
                "CreationDate": None,
            },
        ) as pdf,
    ):
        for fig in flow.pages:
            pdf.savefig(plain_text(fig))
    return buffer.getvalue()


def _new_page(scene: Scene, flow: Flow) -> tuple[Figure, float]:
    """An A4 landscape page: brand rule, running title, footer; returns (fig, top in)."""
    fig, _ = new_figure("a4")
    fig.set_dpi(SHEET_DPI)
    w, h = fig.get_size_inches()
    fig.add_artist(
        Line2D([0, 1], [1 - 0.09 / h] * 2, color=BRAND, linewidth=7, transform=fig.transFigure)
    )
    fig.text(
        MARGIN_IN / w,
        1 - 0.28 / h,
        flow.kicker.upper(),
        fontsize=8.5,
        color=BRAND,
        fontweight="bold",
        va="top",
        family=FONT,
    )
    fig.text(
        MARGIN_IN / w,
        1 - 0.45 / h,
        flow.title,
        fontsize=17,
        fontweight="bold",
        color=INK,
        va="top",
        family=FONT,
    )
    subtitle = f"{SUBTITLE} · {french_date(scene.today)}"
    caption = scene.caption
    fig.text(
        MARGIN_IN / w,
        1 - 0.82 / h,
        subtitle + (f" · {caption}" if caption else ""),
        fontsize=9,
        color=MUTED,
        va="top",
        family=FONT,
    )
    footer = "\n".join(wrap_lines(f"{PERIMETER_NOTE} {ATTRIBUTION}", w - 2 * MARGIN_IN - 0.8, 6.5))
    fig.text(
        MARGIN_IN / w,
        0.02,
        footer,
        fontsize=6.5,
        color=MUTED,
        va="bottom",
        family=FONT,
        linespacing=1.3,
    )
    return fig, 1.15


def _district_first_page(flow: Flow, scene: Scene) -> None:
    """Map and legend on the left; commune facts, figures and objectives on the right."""
    d = scene.districts.iloc[0]
    flow.title, flow.kicker = scene.title, "Fiche quartier"
    fig = flow.page()
    w, h = fig.get_size_inches()
    map_box = (MARGIN_IN / w, 1.45 / h, 6.6 / w, 1 - 2.65 / h)
    ax = fig.add_axes(map_box)
    drawn, cells = draw_map(
        ax, scene, bounds_with_experiments(scene), scale=SHEET_SCALE, pad_m=DISTRICT_PAD_M
    )
    legend_ax = fig.add_axes((MARGIN_IN / w, 0.62 / h, 6.6 / w, 0.78 / h))
    legend_ax.set_axis_off()
    draw_legend(legend_ax, drawn, SHEET_SCALE, fontsize=10, across=True, max_rows=4, cells=cells)
    flow.column = Column(MARGIN_IN + 6.9, w - 2 * MARGIN_IN - 6.9)
    flow.heading("La commune")
    flow.facts(
        [
            ("Commune", f"{d['commune']} ({d['code_insee']})"),
            ("Département", f"{d['departement']} ({d['code_dep']})"),
            ("EPT", d["ept"]),
            ("Maire", d["maire"]),
            ("Population", f"{fr_num(d['population'], 0)} habitants"),
        ]
    )
    flow.heading("Chiffres calculés")
    flow.facts(
        [
            ("Surface du quartier", f"{fr_num(d['area_ha'])} ha"),
            ("Coupures dans le quartier", f"{fr_num(d['cut_length_in_m'] / 1000, 2)} km"),
            ("… à moins de 500 m", f"{fr_num(d['cut_length_near_m'] / 1000, 2)} km"),
            (
                "Lignes",
                ", ".join(line_label(n) for n in d["cut_names"].split(", ") if n)
                or "aucune voie ferrée cartographiée",
            ),
            ("Expérimentations", _status_counts(scene)),
            ("Taux de déploiement", _rate_text(scene)),
        ]
    )
    flow.heading("Objectifs du quartier")
    for number, objective in enumerate(d["objectifs"], 1):
        flow.paragraph(objective, prefix=f"{number}.", indent=0.22, size=8.8)


def _district_details(flow: Flow, scene: Scene) -> None:
    """Context, the cuts the programme names, then the experiments summarised."""
    d = scene.districts.iloc[0]
    flow.page()
    flow.heading("Le contexte")
    flow.paragraph(d["contexte"])
    flow.paragraph(f"Périmètre {d['perimetre_source']} : {d['regle']}", colour=MUTED)
    flow.heading("Coupures urbaines citées par le programme")
    for cut in d["coupures"]:
        state = "cartographiée" if cut.get("cartographiee") else "non cartographiée"
        note = f" : {cut['note']}" if cut.get("note") and not cut.get("cartographiee") else ""
        flow.paragraph(f"{cut['nom']} ({cut['type']}) — {state}{note}", prefix="•", indent=0.18)
    _experiment_section(flow, scene)


def _experiment_section(flow: Flow, scene: Scene) -> None:
    """Counts by theme and status, then at most ``SHEET_TABLE_MAX`` rows and the annex."""
    exps = scene.experiments
    flow.heading(f"Expérimentations ({fr_num(len(exps), 0)})")
    if len(exps):
        _theme_status_table(flow, exps)
    shown, rest = summary(exps)
    if rest:
        flow.paragraph(
            f"Les {len(shown)} premières : les déployées d’abord, puis les plus récentes.",
            colour=MUTED,
            size=8.5,
        )
    programme = scene.is_programme
    flow.table(
        _PROGRAMME_HEADERS if programme else _EXPERIMENT_HEADERS,
        _PROGRAMME_WIDTHS if programme else _EXPERIMENT_WIDTHS,
        _experiment_rows(shown, scene, programme=programme),
        empty=NO_EXPERIMENT
        + (" pour ce filtre." if scene.theme or scene.status else " dans ce quartier."),
    )
    if rest:
        flow.paragraph(annex_note(scene, rest), size=9, colour=INK)
    if not programme:
        _photo_block(flow, shown)


def with_photos(store, rows: list[dict]) -> list[dict]:
    """``rows`` with ``photos``: the thumbnail files of each experiment's first
    `SHEET_PHOTOS` photos that are on disk (the sheet reads nothing else)."""
    found = store.photos_of([r["id"] for r in rows])
    out = []
    for row in rows:
        paths = [store.photo_path(thumbnail_name(p["file"])) for p in found.get(row["id"], [])]
        row = {**row, "photos": [p for p in paths if p is not None and p.is_file()]}
        out.append(row)
    return out


def _photo_block(flow: Flow, shown: pd.DataFrame) -> None:
    """Up to `SHEET_PHOTOS` deployed experiments' first photos, side by side, each
    captioned with its number and title."""
    if "photos" not in shown:
        return
    deployed = shown[(shown["status"] == "déployée") & shown["photos"].map(bool)]
    picked = list(deployed.head(SHEET_PHOTOS).itertuples())
    if not picked:
        return
    flow.ensure(PHOTO_HEIGHT_IN + 1.0)  # the heading stays with its photos
    flow.heading("En photos : expérimentations déployées")
    fig = flow.fig
    w, h = fig.get_size_inches()
    slot = flow.column.width / SHEET_PHOTOS
    for n, e in enumerate(picked):
        x = flow.column.x + n * slot
        ax = fig.add_axes(
            (x / w, 1 - (flow.y + PHOTO_HEIGHT_IN) / h, (slot - 0.2) / w, PHOTO_HEIGHT_IN / h)
        )
        ax.imshow(imread(Path(e.photos[0]), format="jpeg"), interpolation="none")
        ax.set_anchor("W")
        ax.set_axis_off()
        caption = textwrap.shorten(f"N° {e.numero} — {e.title}", 60, placeholder="…")
        fig.text(
            x / w,
            1 - (flow.y + PHOTO_HEIGHT_IN + 0.2) / h,
            caption,
            fontsize=8,
            color=MUTED,
            family=FONT,
        )
    flow.space(PHOTO_HEIGHT_IN + 0.4)


def summary(experiments: pd.DataFrame, limit: int = SHEET_TABLE_MAX):
    """The rows a sheet lists (deployed first, then the most recent start, then the
    most recently registered) and how many it leaves to the annex."""
    order = experiments.assign(
        _later=experiments["status"] != "déployée",
        _start=experiments["start_date"].fillna(""),
        _id=pd.to_numeric(experiments["id"], errors="coerce").fillna(0),
    ).sort_values(["_later", "_start", "_id"], ascending=[True, False, False], kind="stable")
    return order.head(limit), max(0, len(experiments) - limit)


def annex_note(scene: Scene, rest: int) -> str:
    """« … et N autres : voir l'annexe » naming the CSV export that lists them all."""
    csv = export_filename(scene, FORMATS["csv"], ExportOptions())
    return (
        f"… et {fr_num(rest, 0)} autres : voir l’annexe, la liste complète du registre "
        f"« {csv} » (menu Exporter, « Expérimentations pour Excel » : CSV ou .xlsx)."
    )


def _theme_status_table(flow: Flow, exps: pd.DataFrame) -> None:
    """Experiments counted by theme (rows) and status (columns), with totals."""
    counts = pd.crosstab(exps["theme"], exps["status"])
    counts = counts.reindex(index=[t for t in THEMES if t in counts.index], columns=STATUSES)
    counts = counts.fillna(0).astype(int)
    rows = [
        [theme, *(fr_num(v, 0) for v in values), fr_num(sum(values), 0)]
        for theme, values in zip(counts.index, counts.to_numpy().tolist(), strict=True)
    ]
    totals = counts.sum().tolist()
    rows.append(["Total", *(fr_num(v, 0) for v in totals), fr_num(sum(totals), 0)])
    flow.table(
        ("Thème", *(STATUS_LABELS[s] for s in STATUSES), "Total"),
        (0.30, 0.12, 0.12, 0.12, 0.12, 0.12, 0.10),
        rows,
        size=8.3,
    )


def _experiment_rows(exps: pd.DataFrame, scene: Scene, *, programme: bool) -> list[list[str]]:
    names = dict(zip(scene.atlas.districts["slug"], scene.atlas.districts["nom"], strict=True))
    rows = []
    sizes = place_sizes(exps)
    for e, size in zip(exps.itertuples(), sizes.itertuples(), strict=True):
        who = str(e.org_kind or "")
        if e.organisation and e.organisation != e.title:
            who = f"{e.organisation} ({who})" if who else str(e.organisation)
        description = str(e.description or "")
        if len(description) > DESCRIPTION_MAX:
            description = textwrap.shorten(description, DESCRIPTION_MAX, placeholder=" […]")
        links = getattr(e, "links", None)
        if isinstance(links, list) and links:
            description += "\nLiens : " + " · ".join(link_label(u) for u in links)
        middle = [names.get(e.district, str(e.district))] if programme else []
        period = [] if programme else [_period(e.start_date, e.end_date)]
        rows.append(
            [
                str(e.numero),
                f"{e.title}\n{who}" + _place_line(size),
                *middle,
                str(e.theme),
                str(e.status),
                *period,
                description,
            ]
        )
    return rows


def _place_line(size) -> str:
    """The place of a line or an area under its title (« tracé, 417 m », « zone,
    0,49 ha »); nothing for a point, the usual case."""
    if size.forme == "point":
        return ""
    return "\n" + place_text(size.forme, size.longueur_m, size.surface_ha)


def _period(start, end) -> str:
    def fr(value) -> str | None:
        if not isinstance(value, str) or len(value) != 10:
            return None
        return f"{value[8:10]}/{value[5:7]}/{value[:4]}"

    start, end = fr(start), fr(end)
    if start and end:
        return f"du {start} au {end}"
    if start:
        return f"depuis le {start}"
    return f"jusqu’au {end}" if end else "non renseignée"


def _status_counts(scene: Scene) -> str:
    exps = scene.experiments
    if exps.empty:
        return "aucune"
    parts = [f"{fr_num(n, 0)} {s}{'s' if n > 1 else ''}" for s, n in status_counts(exps)]
    return f"{fr_num(len(exps), 0)} ({', '.join(parts)})"


def _rate_text(scene: Scene) -> str:
    rate = deployment_rate(scene.experiments["status"].tolist())
    return "—" if rate is None else f"{fr_num(rate * 100, 0)} %"


def _programme_cover(flow: Flow, scene: Scene) -> None:
    atlas = scene.atlas
    flow.title = "Quartiers Métropolitains d’Innovation — le programme"
    flow.kicker = "Programme QMI"
    fig = flow.page()
    w, h = fig.get_size_inches()
    ax = fig.add_axes((MARGIN_IN / w, 0.62 / h, 5.6 / w, 1 - 1.85 / h))
    draw_map(
        ax, scene, atlas.layers["mgp"].total_bounds, scale=SHEET_SCALE, pad_m=500, detail="overview"
    )
    number_districts(ax, scene, SHEET_SCALE)
    flow.column = Column(MARGIN_IN + 5.9, w - 2 * MARGIN_IN - 5.9)
    figures = atlas.programme.get("reported_figures", {})
    flow.heading("Chiffres publiés par la Métropole")
    if figures:
        flow.facts(
            [
                ("Solutions déployées", str(figures.get("solutions_deployees", "—"))),
                ("Taux de déploiement", f"{figures.get('taux_deploiement_pct', '—')} %"),
            ],
            label_width=1.9,
        )
        flow.paragraph(figures.get("citation", ""), colour=MUTED, size=8.5)
    flow.paragraph(
        f"Source : {atlas.programme.get('source', 'Métropole du Grand Paris')}.",
        colour=MUTED,
        size=8,
    )
    flow.heading("Registre QMI Atlas")
    flow.facts(
        [
            ("Expérimentations", _status_counts(scene)),
            ("Taux de déploiement calculé", _rate_text(scene)),
        ],
        label_width=1.9,
    )
    flow.paragraph(
        "Taux calculé : (déployées + terminées) / (sélectionnées ou au-delà, "
        "abandonnées comprises).",
        colour=MUTED,
        size=8,
    )
    flow.heading("Les quatre quartiers")
    exps = scene.experiments
    rows = []
    for i, d in enumerate(atlas.districts.itertuples(), 1):
        statuses = exps.loc[exps["district"] == d.slug, "status"]
        rate = deployment_rate(statuses.tolist())
        rows.append(
            [
                f"{i}. {d.nom}",
                d.commune,
                f"{fr_num(d.area_ha)} ha",
                f"{fr_num(d.cut_length_in_m / 1000, 2)} km",
                fr_num(len(statuses), 0),
                fr_num(int((statuses == "déployée").sum()), 0),
                "—" if rate is None else f"{fr_num(rate * 100, 0)} %",
            ]
        )
    flow.table(
        ("Quartier", "Commune", "Surface", "Coupures", "Expér.", "Dépl.", "Taux"),
        (0.26, 0.22, 0.11, 0.14, 0.10, 0.09, 0.08),
        rows,
        size=7.5,
    )
    flow.paragraph(
        "Expér. : expérimentations du registre · Dépl. : déployées · Taux : taux de "
        "déploiement calculé.",
        colour=MUTED,
        size=7.5,
    )
