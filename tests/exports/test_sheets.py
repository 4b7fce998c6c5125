"""District sheets (PDF A4): page size, searchable text, vector content, pagination."""

from __future__ import annotations

import io
import re
import subprocess
import textwrap

import pytest
from pypdf import PdfReader

from geoapp.exports.sheets import DESCRIPTION_MAX, render_sheet
from geoapp.layers import experiments_frame
from tests.exports.conftest import TODAY, experiment_row


def flat(text: str) -> str:
    return " ".join(text.split())


def pdf_text(pdf: bytes) -> str:
    return flat(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


@pytest.fixture(scope="module")
def sceaux_sheet(scene_of):
    return render_sheet(scene_of("sceaux-les-blagis"))


def test_every_page_is_a4_landscape(sceaux_sheet):
    reader = PdfReader(io.BytesIO(sceaux_sheet))
    assert len(reader.pages) == 3  # map and facts, the cut, the details
    for page in reader.pages:
        assert abs(float(page.mediabox.width) - 842) <= 1
        assert abs(float(page.mediabox.height) - 595) <= 1


def test_sheet_text_has_name_facts_objectives_and_experiments(atlas, sceaux_sheet):
    text = pdf_text(sceaux_sheet)
    district = atlas.district("sceaux-les-blagis")
    assert "Les Blagis — Sceaux" in text
    assert "Philippe Laurent" in text and "Vallée Sud Grand Paris" in text
    assert "49,9 ha" in text
    for objective in district["objectifs"]:
        assert flat(objective) in text
    assert flat(district["contexte"]) in text
    assert "Expérimentations (2)" in text
    assert "Îlot de fraîcheur" in text and "sélectionnée" in text
    assert "du 01/03/2024 au 30/09/2025" in text
    assert "Périmètre indicatif" in text


def test_pdftotext_reads_the_sheet_too(sceaux_sheet, tmp_path):
    path = tmp_path / "fiche.pdf"
    path.write_bytes(sceaux_sheet)
    out = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert "Les Blagis — Sceaux" in out
    assert "Objectifs du quartier" in out


def test_each_page_is_headed_by_its_own_part(sceaux_sheet):
    """The cut's page says so; the district's pages before and after it say theirs."""
    texts = [page.extract_text() for page in PdfReader(io.BytesIO(sceaux_sheet)).pages]
    heads = ["LA COUPURE URBAINE" if "LA COUPURE URBAINE" in t else t for t in texts]
    heads = ["FICHE QUARTIER" if "FICHE QUARTIER" in t else t for t in heads]
    assert len(heads) >= 3
    assert heads == ["FICHE QUARTIER", "LA COUPURE URBAINE"] + ["FICHE QUARTIER"] * (len(heads) - 2)


def test_sheet_is_vector_with_embedded_fonts(sceaux_sheet):
    page = PdfReader(io.BytesIO(sceaux_sheet)).pages[0]
    content = page.get_contents().get_data()
    assert len(re.findall(rb"\s[lc]\s", content)) > 100  # the map is drawn with paths
    xobjects = page["/Resources"].get("/XObject", {})
    assert not [x for x in xobjects.values() if x.get_object().get("/Subtype") == "/Image"]
    fonts = page["/Resources"]["/Font"]
    for font in fonts.values():
        descendant = font.get_object()["/DescendantFonts"][0].get_object()
        assert "/FontFile2" in descendant["/FontDescriptor"]  # TrueType, embedded


def test_empty_district_says_no_experiment(scene_of, no_experiments):
    text = pdf_text(render_sheet(scene_of("meudon-la-foret", no_experiments)))
    assert "Expérimentations (0)" in text
    assert "Aucune expérimentation enregistrée dans ce quartier." in text


def test_long_tables_wrap_and_continue_on_new_pages(atlas, scene_of):
    long = "Une description très longue qui doit passer à la ligne. " * 4
    frame = experiments_frame(
        [
            experiment_row(
                atlas, "noisy-mont-d-est", i, description=long, title=f"Projet numéro {i:02d}"
            )
            for i in range(1, 31)
        ]
    )
    pdf = render_sheet(scene_of("noisy-mont-d-est", frame))
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 3
    text = pdf_text(pdf)
    for i in range(1, 31):
        assert f"Projet numéro {i:02d}" in text
    # header repeated on every page but the map, the cut and the details' opening
    assert text.count("Description") >= len(reader.pages) - 3
    # A description is cut at a word (the annex has it whole), so 40 rows stay few pages.
    assert flat(long) not in text
    assert flat(textwrap.shorten(long, DESCRIPTION_MAX, placeholder=" […]")) in text
    assert "voir l’annexe" not in text  # all 30 listed: nothing left to the annex


def test_programme_sheet_has_the_programme_and_every_district(atlas, scene_of):
    pdf = render_sheet(scene_of("all"))
    text = pdf_text(pdf)
    assert "Quartiers Métropolitains d’Innovation — le programme" in text
    assert "Solutions déployées 18" in text and "70 %" in text
    assert "3 (1 proposée, 1 sélectionnée, 1 déployée)" in text
    for d in atlas.districts.itertuples():
        assert f"{d.nom} — {d.commune}" in text
        assert flat(d.objectifs[0]) in text
    # The comparison, one page per district, the programme's experiments.
    # cover, the cuts compared, one page per district, the experiments
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1 + 1 + 4 + 1
    assert "Îlot de fraîcheur" in text and "Marché nocturne" in text


def test_filtered_sheet_names_its_filter(scene_of):
    text = pdf_text(render_sheet(scene_of("sceaux-les-blagis", status="proposée")))
    assert "statut « proposée »" in text
    assert "Aucune expérimentation enregistrée pour ce filtre." in text


def _photo(colour: str) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (1200, 800), colour).save(out, "JPEG")
    return out.getvalue()


def test_district_sheet_lists_links_and_shows_deployed_photos(atlas, tmp_path):
    """Links on the experiment's table line; the first photo of the deployed experiments
    that have one (at most three) in a block; a proposal's photo stays out."""
    from geoapp.exports import make_export
    from geoapp.photos import prepare
    from geoapp.store import Store

    store = Store(tmp_path / "store.sqlite3", photos=tmp_path / "photos")
    slug = "sceaux-les-blagis"
    rows = [
        experiment_row(
            atlas, slug, 1, title="Bancs déployés", links=["https://www.sceaux.fr/bancs"]
        ),
        experiment_row(atlas, slug, 2, title="Projet proposé", status="proposée"),
    ]
    store.import_experiments([{k: v for k, v in r.items() if k != "id"} for r in rows], user="t")
    ids = {e["title"]: e["id"] for e in store.list_experiments()}
    store.add_photo(ids["Bancs déployés"], [prepare(_photo("navy"))], caption=None, user="t")
    store.add_photo(ids["Projet proposé"], [prepare(_photo("orange"))], caption=None, user="t")
    pdf = make_export(atlas, store, target=slug, fmt="fiche", today=TODAY).data
    text = pdf_text(pdf)
    assert "Liens : www.sceaux.fr/bancs" in text
    assert "En photos : expérimentations déployées" in text
    assert "Bancs déployés" in text.split("En photos")[1]
    assert "Projet proposé" not in text.split("En photos")[1]
    # pages share one resource dictionary: each image once by name
    images = {i.name: i.image for page in PdfReader(io.BytesIO(pdf)).pages for i in page.images}
    photos = [i for i in images.values() if i.size == (400, 267)]
    assert len(photos) == 1  # the deployed one's thumbnail alone, embedded as it is
    r, g, b = photos[0].convert("RGB").getpixel((200, 130))
    assert b > 100 and r < 40  # navy, not the proposal's orange
    (tmp_path / "fiche.pdf").write_bytes(pdf)
    last = len(PdfReader(io.BytesIO(pdf)).pages)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", str(last - 1), "-l", str(last),
         str(tmp_path / "fiche.pdf"), "test-artifacts/fiche-photos"],
        check=True,
    )  # fmt: skip


def test_a_link_with_dollars_and_ampersands_is_printed_as_typed(atlas, tmp_path):
    """« $x$ » in a link stays two dollars and an x (no mathtext), « & » stays itself."""
    from geoapp.exports import make_export
    from geoapp.store import Store

    store = Store(tmp_path / "store.sqlite3", photos=tmp_path / "photos")
    slug = "sceaux-les-blagis"
    link = "https://exemple.org/prix-$x$-et-$y$&z"
    row = experiment_row(atlas, slug, 1, title="Lien piégé", links=[link])
    store.import_experiments([{k: v for k, v in row.items() if k != "id"}], user="t")
    text = pdf_text(make_export(atlas, store, target=slug, fmt="fiche", today=TODAY).data)
    assert "Liens : exemple.org/prix-$x$-et-$y$&z" in text
