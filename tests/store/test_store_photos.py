"""Photos in the store, on both backends: rows, files, the limit of five, history,
versions; and links stored as a list."""

from __future__ import annotations

import io
import threading

import pytest
from PIL import Image

from geoapp.errors import GeoappError
from geoapp.photos import MAX_PHOTOS, prepare
from geoapp.store import Store
from tests.store.conftest import AULNAY


def picture(shade: int) -> bytes:
    """A JPEG of its own for each ``shade`` (a white band as wide as it)."""
    image = Image.new("RGB", (900, 600), (shade, 100, 50))
    image.paste((255, 255, 255), (0, 0, 10 + shade, 600))
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "photos"


@pytest.fixture
def photo_store(database, clock, folder) -> Store:
    return Store(database, now=clock, photos=folder)


@pytest.fixture
def experiment(photo_store, make_values):
    return photo_store.create_experiment(make_values(), district=AULNAY, user="alice")


def files_in(folder) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def test_a_photo_is_a_row_two_files_a_version_and_a_history_row(photo_store, experiment, folder):
    versions = photo_store.data_version("experiments")
    photo = prepare(picture(10))
    (row,) = photo_store.add_photo(experiment["id"], [photo], caption="Le banc", user="alice")
    assert row["file"] == photo.file and row["bytes"] == len(photo.data)
    assert (row["width"], row["height"], row["position"]) == (900, 600, 1)
    assert files_in(folder) == {photo.file, photo.thumbnail_file}
    assert (folder / photo.file).read_bytes() == photo.data
    assert photo_store.list_photos(experiment["id"]) == [row]
    assert photo_store.get_experiment(experiment["id"])["version"] == experiment["version"] + 1
    assert photo_store.data_version("experiments") == versions + 1
    last = photo_store.history(experiment["id"])[-1]
    assert last["action"] == "ajout d’une photo" and last["user"] == "alice"
    assert last["changes"] == {"photo": [None, "Photo 1 : Le banc"]}


def test_five_photos_at_most_and_a_refused_sixth_leaves_nothing(photo_store, experiment, folder):
    sent = [prepare(picture(shade)) for shade in range(MAX_PHOTOS)]
    photo_store.add_photo(experiment["id"], sent, caption=None, user="alice")
    before = (files_in(folder), photo_store.get_experiment(experiment["id"]))
    sixth = prepare(picture(200))
    with pytest.raises(GeoappError) as refused:
        photo_store.add_photo(experiment["id"], [sixth], caption=None, user="alice")
    assert refused.value.status == 422 and "5 photos" in refused.value.message
    assert (files_in(folder), photo_store.get_experiment(experiment["id"])) == before
    assert [p["position"] for p in photo_store.list_photos(experiment["id"])] == [1, 2, 3, 4, 5]


def test_an_upload_of_several_is_all_or_nothing(photo_store, experiment, folder):
    photo_store.add_photo(
        experiment["id"], [prepare(picture(s)) for s in range(3)], caption=None, user="alice"
    )
    three_more = [prepare(picture(s)) for s in (100, 110, 120)]
    with pytest.raises(GeoappError):
        photo_store.add_photo(experiment["id"], three_more, caption=None, user="alice")
    assert len(photo_store.list_photos(experiment["id"])) == 3
    assert not {p.file for p in three_more} & files_in(folder)


def test_two_uploads_at_once_cannot_make_six(photo_store, experiment):
    photo_store.add_photo(
        experiment["id"], [prepare(picture(s)) for s in range(4)], caption=None, user="alice"
    )
    outcomes = []

    def send(shade):
        try:
            photo_store.add_photo(
                experiment["id"], [prepare(picture(shade))], caption=None, user="bob"
            )
            outcomes.append("ok")
        except GeoappError as exc:
            outcomes.append(exc.status)

    threads = [threading.Thread(target=send, args=(s,)) for s in (150, 160)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes, key=str) == [422, "ok"]
    assert len(photo_store.list_photos(experiment["id"])) == MAX_PHOTOS


def test_the_same_picture_twice_is_refused(photo_store, experiment):
    photo = prepare(picture(30))
    photo_store.add_photo(experiment["id"], [photo], caption=None, user="alice")
    with pytest.raises(GeoappError) as refused:
        photo_store.add_photo(experiment["id"], [photo], caption=None, user="alice")
    assert refused.value.status == 409
    assert len(photo_store.list_photos(experiment["id"])) == 1


def test_removing_keeps_history_and_deletes_files_no_one_shows(
    photo_store, experiment, make_values, folder
):
    other = photo_store.create_experiment(make_values(title="Autre"), district=AULNAY, user="a")
    shared, own = prepare(picture(40)), prepare(picture(50))
    (first, second) = photo_store.add_photo(
        experiment["id"], [shared, own], caption=None, user="alice"
    )
    photo_store.add_photo(other["id"], [shared], caption=None, user="alice")
    version = photo_store.get_experiment(experiment["id"])["version"]
    photo_store.remove_photo(experiment["id"], second["id"], user="alice")
    assert own.file not in files_in(folder) and own.thumbnail_file not in files_in(folder)
    photo_store.remove_photo(experiment["id"], first["id"], user="alice")
    assert shared.file in files_in(folder)  # still on the other experiment
    assert photo_store.list_photos(experiment["id"]) == []
    assert photo_store.get_experiment(experiment["id"])["version"] == version + 2
    last = photo_store.history(experiment["id"])[-1]
    assert last["action"] == "retrait d’une photo"
    assert last["changes"] == {"photo": ["Photo 1", None]}


def test_removing_a_photo_of_another_experiment_is_a_404(photo_store, experiment, make_values):
    other = photo_store.create_experiment(make_values(title="Autre"), district=AULNAY, user="a")
    (row,) = photo_store.add_photo(other["id"], [prepare(picture(60))], caption=None, user="a")
    with pytest.raises(GeoappError) as refused:
        photo_store.remove_photo(experiment["id"], row["id"], user="alice")
    assert refused.value.status == 404
    assert len(photo_store.list_photos(other["id"])) == 1


def test_photo_rows_say_whether_the_experiment_is_withdrawn(photo_store, experiment):
    (row,) = photo_store.add_photo(experiment["id"], [prepare(picture(70))], caption=None, user="a")
    current = photo_store.get_experiment(experiment["id"])
    photo_store.withdraw_experiment(experiment["id"], expected_version=current["version"], user="a")
    (found,) = photo_store.photo_rows(row["file"])
    assert found["withdrawn"] is True and found["district"] == AULNAY
    assert photo_store.photo_rows("0" * 64 + ".jpg") == []


def test_only_digest_names_have_a_path(photo_store):
    name = "a" * 64 + ".jpg"
    assert photo_store.photo_path(name).name == name
    assert photo_store.photo_path("a" * 64 + "-vignette.jpg") is not None
    for bad in ("../secret_key", "a" * 64 + ".png", "A" * 64 + ".jpg", "x.jpg", ""):
        assert photo_store.photo_path(bad) is None


def test_links_round_trip_as_a_list_and_their_changes_are_history(photo_store, make_values):
    links = ["https://www.aulnay-sous-bois.fr/qmi", "http://exemple.org/page?x=1"]
    created = photo_store.create_experiment(
        make_values(links="\n".join(links)), district=AULNAY, user="alice"
    )
    assert photo_store.get_experiment(created["id"])["links"] == links
    assert photo_store.history(created["id"])[0]["changes"]["links"] == [None, links]
    photo_store.update_experiment(
        created["id"],
        {"links": links[:1]},
        expected_version=created["version"],
        user="alice",
    )
    assert photo_store.get_experiment(created["id"])["links"] == links[:1]
    assert photo_store.history(created["id"])[-1]["changes"] == {"links": [links, links[:1]]}


def test_no_links_is_an_empty_list_and_no_history_line(photo_store, make_values):
    created = photo_store.create_experiment(make_values(), district=AULNAY, user="alice")
    assert created["links"] == []
    assert "links" not in photo_store.history(created["id"])[0]["changes"]
