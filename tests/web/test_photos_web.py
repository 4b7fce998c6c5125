"""Photos and links of an experiment on the web: upload, refusals on the experiment's page,
removal with confirmation, serving (names, sizes, withdrawn), the popup's data, links in
the form, the page and the registry's files."""

from __future__ import annotations

import html
import io
import json
import uuid
import zlib
from pathlib import Path

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from geoapp.photos import MAX_BYTES
from tests.conftest import TOKEN, client_as
from tests.web.experiments_helpers import (
    IN_SCEAUX,
    MEUDON,
    SCEAUX,
    body,
    counts,
    field_errors,
    form_for,
    snapshot,
    stored,
    upload,
)

REFUSAL = 'id="refusal"'


def jpeg(width=2400, height=1600, band=0) -> bytes:
    image = Image.new("RGB", (width, height), (180, 60, 40))
    image.paste((255, 255, 255), (0, 0, 10 + band, height))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (48.0, 46.0, 58.0), 3: "E", 4: (2.0, 18.0, 11.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def bomb_png(side=20_000) -> bytes:
    raw = zlib.compress(b"".join(b"\x00" + bytes(side // 8) for _ in range(side)), 9)

    def chunk(kind, data):
        return (
            len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
        )

    ihdr = side.to_bytes(4, "big") * 2 + bytes([1, 0, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def send(client, experiment_id, *files, caption=None, token=TOKEN):
    photos = [FileStorage(io.BytesIO(d), filename=n, content_type="image/jpeg") for d, n in files]
    data = {"csrf_token": token, "photos": photos}
    if caption is not None:
        data["legende"] = caption
    # Encoded in memory: the test client would spool a large body to a file it never closes.
    boundary, payload = encode_multipart(MultiDict(flat(data)))
    return client.post(
        f"/experimentations/{experiment_id}/photos",
        data=payload,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def flat(data: dict) -> list:
    return [(k, v) for k, vs in data.items() for v in (vs if isinstance(vs, list) else [vs])]


def photo_folder(app) -> Path:
    return Path(app.config["PHOTOS"])


def files_in(app) -> set[str]:
    folder = photo_folder(app)
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


@pytest.fixture
def experiment(store, atlas):
    return stored(store, atlas, SCEAUX, title="Jardin photographié")


def test_an_editor_adds_a_photo_and_everyone_sees_it(app, sceaux, anon, store, experiment):
    r = send(sceaux, experiment["id"], (jpeg(), "jardin.jpg"), caption="Le jardin")
    assert r.status_code == 302 and r.headers["Location"].endswith("#photos")
    (photo,) = store.list_photos(experiment["id"])
    assert (photo["width"], photo["height"]) == (1600, 1067)
    page = body(anon.get(f"/experimentations/{experiment['id']}"))
    assert f'href="/photos/{photo["file"]}"' in page
    thumb = photo["file"].removesuffix(".jpg") + "-vignette.jpg"
    assert f'src="/photos/{thumb}" alt="Le jardin"' in page
    served = anon.get(f"/photos/{photo['file']}")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert len(served.data) == photo["bytes"]
    assert "immutable" in served.headers["Cache-Control"]
    assert "max-age=31536000" in served.headers["Cache-Control"]
    image = Image.open(io.BytesIO(served.data))
    assert image.getexif().get_ifd(0x8825) == {}  # no GPS position published
    again = anon.get(f"/photos/{photo['file']}", headers={"If-None-Match": served.headers["ETag"]})
    assert again.status_code == 304
    small = anon.get(f"/photos/{thumb}")
    assert small.status_code == 200 and max(Image.open(io.BytesIO(small.data)).size) == 400


def test_the_json_twin_lists_the_photos_as_the_page_shows_them(sceaux, anon, store, experiment):
    send(sceaux, experiment["id"], (jpeg(), "jardin.jpg"), caption="Le jardin")
    send(sceaux, experiment["id"], (jpeg(band=3), "b.jpg"))
    data = anon.get(f"/api/experimentations/{experiment['id']}").get_json()
    page = body(anon.get(f"/experimentations/{experiment['id']}"))
    first, second = data["photos"]
    assert (first["legende"], first["alt"]) == ("Le jardin", "Le jardin")
    assert second["legende"] is None and second["alt"] == "Photo 2 de Jardin photographié"
    for photo in (first, second):
        assert f'href="{photo["url"]}"' in page and f'src="{photo["vignette"]}"' in page
        assert (photo["largeur"], photo["hauteur"]) == (1600, 1067)
        assert "created_by" not in photo and "editeur" not in json.dumps(photo)


def test_without_a_caption_the_alt_text_names_the_experiment(sceaux, anon, store, experiment):
    send(sceaux, experiment["id"], (jpeg(band=1), "a.jpg"), (jpeg(band=2), "b.jpg"))
    page = body(anon.get(f"/experimentations/{experiment['id']}"))
    assert 'alt="Photo 1 de Jardin photographié"' in page
    assert 'alt="Photo 2 de Jardin photographié"' in page


def pdf_renamed() -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


@pytest.mark.parametrize(
    ("files", "status", "words"),
    [
        ([(b"juste du texte", "note.jpg")], 422, "pas une photo lisible"),
        ([(pdf_renamed(), "plan.jpg")], 422, "un PDF ou un document renommé"),
        ([(jpeg()[:5000], "coupee.jpg")], 422, "incomplète"),
        ([(b"\xff\xd8\xff" + b"\x00" * MAX_BYTES, "lourde.jpg")], 413, "dépasse 5 Mo"),
        ([(bomb_png(), "bombe.png")], 422, "trop de pixels"),
        ([(jpeg(band=b), f"{b}.jpg") for b in range(6)], 422, "5 photos"),
        ([(jpeg(), "ok.jpg"), (pdf_renamed(), "plan.jpg")], 422, "« plan.jpg »"),
    ],
    ids=["text", "pdf", "truncated", "over-5-MB", "bomb", "six-at-once", "one-bad-of-two"],
)
def test_bad_uploads_are_refused_on_the_page_and_nothing_is_stored(
    app, sceaux, store, experiment, files, status, words
):
    before = (snapshot(store), files_in(app))
    r = send(sceaux, experiment["id"], *files)
    assert r.status_code == status
    page = html.unescape(body(r))
    assert REFUSAL in page and words in page
    assert 'id="experiment-title"' in page  # the experiment's page, not an error page
    assert store.list_photos(experiment["id"]) == []
    assert (snapshot(store), files_in(app)) == before


def test_a_sixth_photo_is_refused(app, sceaux, store, experiment):
    for band in range(5):
        assert send(sceaux, experiment["id"], (jpeg(band=band), "p.jpg")).status_code == 302
    page = body(sceaux.get(f"/experimentations/{experiment['id']}"))
    assert 'id="photo-form"' not in page  # the form goes once five are there
    before = (snapshot(store), files_in(app))
    r = send(sceaux, experiment["id"], (jpeg(band=9), "sixieme.jpg"))
    assert r.status_code == 422 and "déjà 5 photos" in html.unescape(body(r))
    assert (snapshot(store), files_in(app)) == before


def test_no_file_is_a_400_on_the_page(sceaux, experiment):
    r = send(sceaux, experiment["id"])
    assert r.status_code == 400 and "Choisissez au moins une photo" in html.unescape(body(r))


def test_who_may_upload(app, anon, store, atlas, experiment):
    assert send(anon, experiment["id"], (jpeg(), "a.jpg")).status_code == 401
    meudon = client_as(app, "editeur-meudon", "editeur", "92048")
    r = send(meudon, experiment["id"], (jpeg(), "a.jpg"))
    assert r.status_code == 403 and REFUSAL in body(r)
    sceaux = client_as(app, "editeur-sceaux", "editeur", "92071")
    assert send(sceaux, experiment["id"], (jpeg(), "a.jpg"), token="faux").status_code == 400
    admin = client_as(app, "admin-mgp", "administrateur")
    assert send(admin, experiment["id"], (jpeg(), "a.jpg")).status_code == 302
    assert len(store.list_photos(experiment["id"])) == 1
    assert files_in(app)  # the only upload that got through


def test_the_upload_route_alone_takes_more_than_the_global_limit(app, sceaux, atlas, experiment):
    big_form = form_for(atlas, SCEAUX, description="x" * (3 * 1024 * 1024))
    r = sceaux.post(f"/quartiers/{SCEAUX}/experimentations", data=big_form)
    assert r.status_code == 413  # other routes keep GEOAPP_MAX_CONTENT_LENGTH (2 MiB)
    r = send(sceaux, experiment["id"], (b"\xff\xd8" + b"\x00" * (3 * 1024 * 1024), "a.jpg"))
    assert r.status_code == 422  # read and refused as a photo, not a 413 of the request
    r = send(sceaux, experiment["id"], *[(b"\x00" * MAX_BYTES, f"{i}.jpg") for i in range(6)])
    assert r.status_code == 413  # over five photos' worth: the request itself


def test_removing_needs_the_confirmation(app, sceaux, anon, store, experiment):
    send(sceaux, experiment["id"], (jpeg(), "a.jpg"))
    (photo,) = store.list_photos(experiment["id"])
    url = f"/experimentations/{experiment['id']}/photos/{photo['id']}/retirer"
    r = sceaux.post(url, data={"csrf_token": TOKEN})
    assert r.status_code == 400 and "Je confirme le retrait" in html.unescape(body(r))
    assert store.list_photos(experiment["id"]) == [photo]
    assert anon.post(url, data={"csrf_token": TOKEN, "confirmer": "oui"}).status_code == 401
    r = sceaux.post(url, data={"csrf_token": TOKEN, "confirmer": "oui"})
    assert r.status_code == 302
    assert store.list_photos(experiment["id"]) == [] and files_in(app) == set()
    assert anon.get(f"/photos/{photo['file']}").status_code == 404
    history = body(anon.get(f"/experimentations/{experiment['id']}"))
    assert "retrait d’une photo" in history and "ajout d’une photo" in history


@pytest.mark.parametrize(
    "name",
    [
        "../secret_key",
        "..%2Fsecret_key",
        "A" * 64 + ".jpg",
        "a" * 63 + ".jpg",
        "a" * 64 + ".png",
        "a" * 64 + ".jpg.html",
        "a" * 64 + ".jpg",  # a good name no row holds
    ],
)
def test_odd_names_are_404(anon, name):
    r = anon.get(f"/photos/{name}")
    assert r.status_code == 404
    assert "introuvable" in html.unescape(body(r)) or "n’existe pas" in html.unescape(body(r))


def test_a_file_whose_size_changed_is_not_served(app, sceaux, anon, store, experiment):
    send(sceaux, experiment["id"], (jpeg(), "a.jpg"))
    (photo,) = store.list_photos(experiment["id"])
    path = photo_folder(app) / photo["file"]
    path.write_bytes(path.read_bytes() + b"<script>alert(1)</script>")
    assert anon.get(f"/photos/{photo['file']}").status_code == 404
    path.write_bytes(path.read_bytes()[:1000])
    assert anon.get(f"/photos/{photo['file']}").status_code == 404
    thumb = photo_folder(app) / (photo["file"].removesuffix(".jpg") + "-vignette.jpg")
    thumb.write_bytes(b"\xff" * (photo["bytes"] + 1))  # larger than its photo
    assert anon.get(f"/photos/{thumb.name}").status_code == 404
    path.unlink()
    assert anon.get(f"/photos/{photo['file']}").status_code == 404


def test_photos_of_a_withdrawn_experiment_are_hidden_from_anonymous(
    app, sceaux, anon, store, experiment
):
    send(sceaux, experiment["id"], (jpeg(), "a.jpg"))
    (photo,) = store.list_photos(experiment["id"])
    current = store.get_experiment(experiment["id"])
    store.withdraw_experiment(experiment["id"], expected_version=current["version"], user="x")
    assert anon.get(f"/photos/{photo['file']}").status_code == 404
    thumb = photo["file"].removesuffix(".jpg") + "-vignette.jpg"
    assert anon.get(f"/photos/{thumb}").status_code == 404
    seen = sceaux.get(f"/photos/{photo['file']}")
    assert seen.status_code == 200
    assert "public" not in seen.headers["Cache-Control"]  # never kept by a shared cache
    meudon = client_as(app, "editeur-meudon", "editeur", "92048")
    assert meudon.get(f"/photos/{photo['file']}").status_code == 404


HOSTILE_CAPTIONS = ["{{ 7*7 }}", "<b>gras</b>", "javascript:alert(1)", "{% if 1 %}x{% endif %}"]


@pytest.mark.parametrize("caption", HOSTILE_CAPTIONS)
def test_hostile_captions_stay_text(sceaux, anon, store, experiment, caption):
    assert send(sceaux, experiment["id"], (jpeg(), "a.jpg"), caption=caption).status_code == 302
    page = body(anon.get(f"/experimentations/{experiment['id']}"))
    escaped = html.escape(caption, quote=True)
    assert f"<figcaption>{escaped}</figcaption>" in page
    assert "<b>gras</b>" not in page and ">49<" not in page and 'alt="49"' not in page
    popup = anon.get(f"/api/carte/experimentations/{experiment['id']}").get_json()
    assert popup["photo"]["alt"] == caption


def test_the_popup_data_has_the_first_thumbnail_and_the_links(sceaux, anon, store, atlas):
    e = stored(store, atlas, SCEAUX, links="https://www.sceaux.fr/qmi/\nhttp://exemple.org")
    send(sceaux, e["id"], (jpeg(band=1), "a.jpg"), (jpeg(band=2), "b.jpg"))
    first = store.list_photos(e["id"])[0]
    popup = anon.get(f"/api/carte/experimentations/{e['id']}").get_json()
    assert popup["photo"]["vignette"] == "/photos/" + first["file"].replace(".jpg", "-vignette.jpg")
    assert popup["photo"]["alt"] == f"Photo 1 de {e['title']}"
    assert popup["liens"] == [
        {"url": "https://www.sceaux.fr/qmi/", "texte": "www.sceaux.fr/qmi"},
        {"url": "http://exemple.org", "texte": "exemple.org"},
    ]


# Links ------------------------------------------------------------------------------


def test_links_from_the_edit_form_show_on_the_page(sceaux, anon, store, atlas, experiment):
    form = form_for(
        atlas,
        SCEAUX,
        title=experiment["title"],
        version=str(experiment["version"]),
        links="https://www.sceaux.fr/projet?id=4&x=<b>\r\n\r\nHTTPS://exemple.org/a/b/",
    )
    r = sceaux.post(f"/experimentations/{experiment['id']}", data=form)
    assert r.status_code == 302
    links = store.get_experiment(experiment["id"])["links"]
    assert links == ["https://www.sceaux.fr/projet?id=4&x=<b>", "https://exemple.org/a/b/"]
    page = body(anon.get(f"/experimentations/{experiment['id']}"))
    assert (
        '<a href="https://www.sceaux.fr/projet?id=4&amp;x=&lt;b&gt;" '
        'rel="noopener noreferrer nofollow" target="_blank">www.sceaux.fr/projet</a>'
    ) in page
    assert ">exemple.org/a/b</a>" in page
    editor_page = body(sceaux.get(f"/experimentations/{experiment['id']}"))
    assert "https://exemple.org/a/b/</textarea>" in editor_page  # one per line, refilled
    history = html.unescape(body(anon.get(f"/experimentations/{experiment['id']}")))
    assert "<strong>liens</strong> : (vide) → https://www.sceaux.fr/projet" in history


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "ftp://exemple.org/fichier",
        "file:///etc/passwd",
        "mailto:maire@sceaux.fr",
        "//exemple.org",
        "www.sceaux.fr",
        "https://",
        "https://mairie.fr@autre.site",
        "https:\\\\autre.site",
        "https://exemple .org",
        "https://exemple.org/\u202eevil",
        "https://exemple.org/" + "a" * 500,
    ],
)
def test_refused_links_name_their_line_and_nothing_changes(sceaux, store, atlas, experiment, link):
    before = snapshot(store)
    form = form_for(
        atlas,
        SCEAUX,
        title=experiment["title"],
        version=str(experiment["version"]),
        links=f"https://www.sceaux.fr\n{link}",
    )
    r = sceaux.post(f"/experimentations/{experiment['id']}", data=form)
    assert r.status_code == 422
    message = field_errors(r)["links"]
    assert message.startswith("Lien de la ligne 2 (« ")
    assert snapshot(store) == before


def test_more_than_ten_links_are_refused(sceaux, store, atlas):
    links = "\n".join(f"https://exemple.org/{i}" for i in range(11))
    r = sceaux.post(
        f"/quartiers/{SCEAUX}/experimentations", data=form_for(atlas, SCEAUX, links=links)
    )
    assert r.status_code == 422 and "10 au plus" in field_errors(r)["links"]


@pytest.mark.parametrize("suffix", ["csv", "xlsx", "geojson"])
def test_links_export_as_one_cell_and_import_back_unchanged(admin, store, atlas, suffix):
    stored(
        store,
        atlas,
        MEUDON,
        links="https://www.meudon.fr/qmi\nhttps://exemple.org/=SOMME(1;2)",
    )
    with admin.get(f"/experimentations/export.{suffix}") as r:
        exported = r.data
    if suffix == "csv":
        text = exported.decode("utf-8-sig")
        assert '"https://www.meudon.fr/qmi\nhttps://exemple.org/=SOMME(1;2)"' in text
    if suffix == "geojson":
        features = json.loads(exported)["features"]
        assert ["https://www.meudon.fr/qmi", "https://exemple.org/=SOMME(1;2)"] in [
            f["properties"]["links"] for f in features
        ]
    before = snapshot(store)
    preview = upload(admin, exported, f"export.{suffix}")
    n = len(store.list_experiments())
    assert counts(preview) == {"create": 0, "update": 0, "same": n, "error": 0}
    assert snapshot(store) == before


def test_a_link_cell_that_is_a_formula_is_refused_on_import(sceaux, atlas):
    header = "Quartier;Titre;Structure;Type de structure;Thème;Objectifs;Description;Statut;"
    header += "Longitude;Latitude;Précision;Liens"
    lon, lat = (2.3031, 48.7828)
    row = f"Les Blagis;Avec lien;Asso;association;espaces publics;1;Desc;proposée;{lon};{lat};"
    row += 'exacte;=HYPERLINK("http://x")'
    preview = upload(sceaux, f"{header}\n{row}\n".encode(), "liens.csv")
    assert preview.status_code == 422
    assert "Lien de la ligne 1" in html.unescape(body(preview))


# In Chromium -------------------------------------------------------------------------


@pytest.mark.browser
def test_upload_then_the_popup_shows_the_thumbnail_and_the_link(
    page, live_server, live_app, atlas, tmp_path
):
    from tests.browser import click_feature, open_map
    from tests.conftest import PASSWORD, screenshot

    store = live_app.extensions["qmi_store"]
    tag = uuid.uuid4().hex[:6]
    e = stored(
        store,
        atlas,
        SCEAUX,
        title=f"Photo {{{{ 7*7 }}}} <b>{tag}</b>",
        lon=str(IN_SCEAUX[0] + 0.0012),
        lat=str(IN_SCEAUX[1] - 0.0009),
        links="https://www.sceaux.fr/qmi?x=<b>\nhttp://exemple.org/page",
    )
    username = f"photos-{tag}"
    store.add_user(username, PASSWORD, role="editeur", commune="92071")
    page.goto(f"{live_server}/connexion")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    picture = tmp_path / "banc.jpg"
    picture.write_bytes(jpeg())
    page.goto(f"{live_server}/experimentations/{e['id']}")
    form = page.locator("#photo-form")
    form.locator("input[type=file]").set_input_files(str(picture))
    form.locator("input[name=legende]").fill("<i>javascript:alert(1)</i>")
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"{live_server}/experimentations/{e['id']}#photos")
    thumb = page.locator("#photos img")
    assert thumb.get_attribute("alt") == "<i>javascript:alert(1)</i>"
    assert page.evaluate("() => document.querySelector('#photos img').naturalWidth") == 400
    links = page.locator("#experiment-links a")
    assert links.nth(0).inner_text() == "www.sceaux.fr/qmi"
    assert links.nth(0).get_attribute("rel") == "noopener noreferrer nofollow"
    screenshot(page, "photos-experiment-page")

    open_map(page, f"{live_server}/quartiers/{SCEAUX}")
    page.evaluate("() => { QMI.map.closePopup(); }")
    click_feature(page, "experimentation", "id", e["id"], zoom=17)
    popup = page.locator(".leaflet-popup-content")
    popup.locator("img.qmi-popup-photo").wait_for(state="visible")
    page.wait_for_function(
        "() => document.querySelector('.leaflet-popup-content img').naturalWidth > 0"
    )
    img = popup.locator("img.qmi-popup-photo")
    assert img.get_attribute("alt") == "<i>javascript:alert(1)</i>"
    (photo,) = store.list_photos(e["id"])
    assert img.get_attribute("src").endswith(photo["file"].replace(".jpg", "-vignette.jpg"))
    anchors = popup.locator(".qmi-popup-links a")
    assert anchors.count() == 2
    assert anchors.nth(0).inner_text() == "www.sceaux.fr/qmi"
    assert anchors.nth(0).get_attribute("href") == "https://www.sceaux.fr/qmi?x=<b>"
    assert anchors.nth(1).inner_text() == "exemple.org/page"
    assert popup.get_by_text(e["title"], exact=True).is_visible()
    assert page.locator(".leaflet-popup-content b, .leaflet-popup-content i").count() == 0
    screenshot(page, "photos-popup")
    assert page.watch.errors == [] and page.watch.dialogs == []
