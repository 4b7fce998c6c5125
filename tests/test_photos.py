"""Photos made safe to publish (`geoapp.photos`): content checked, metadata gone, resized."""

from __future__ import annotations

import hashlib
import io
import zlib

import pytest
from PIL import Image, ImageCms

from geoapp.photos import (
    MAX_BYTES,
    MAX_SIDE,
    THUMB_SIDE,
    PhotoRefused,
    prepare,
    thumbnail_name,
)

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def encoded(image: Image.Image, fmt: str = "JPEG", **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def camera_jpeg(size=(3000, 2000), orientation: int | None = None) -> bytes:
    """A photo as a phone writes it: EXIF with make, GPS position, orientation, ICC."""
    image = Image.new("RGB", size, (200, 30, 30))
    image.paste((20, 20, 200), (0, 0, size[0] // 2, size[1] // 3))  # a blue corner top-left
    exif = Image.Exif()
    exif[0x010F] = "Fabricant"
    exif[0x0110] = "Téléphone 12"
    exif[GPS_IFD] = {1: "N", 2: (48.0, 46.0, 58.0), 3: "E", 4: (2.0, 18.0, 11.0)}
    if orientation:
        exif[ORIENTATION] = orientation
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return encoded(image, exif=exif, icc_profile=icc, comment=b"secret", quality=92)


def reopened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_the_fixture_really_carries_gps_and_orientation():
    source = reopened(camera_jpeg(orientation=6))
    exif = source.getexif()
    assert exif[ORIENTATION] == 6 and exif.get_ifd(GPS_IFD)[1] == "N"
    assert "icc_profile" in source.info


def test_exif_gps_icc_and_comments_are_removed():
    photo = prepare(camera_jpeg())
    for data in (photo.data, photo.thumbnail):
        image = reopened(data)
        assert image.format == "JPEG"
        assert len(image.getexif()) == 0
        assert image.getexif().get_ifd(GPS_IFD) == {}
        assert not {"exif", "icc_profile", "comment", "xmp"} & set(image.info)
        assert b"Fabricant" not in data and b"secret" not in data


def test_orientation_is_applied_to_the_pixels():
    # Orientation 6: the camera was turned; the picture is shown rotated 90° clockwise.
    photo = prepare(camera_jpeg(size=(3000, 2000), orientation=6))
    assert (photo.width, photo.height) == (1067, MAX_SIDE)  # portrait now
    image = reopened(photo.data)
    # The blue corner (top-left before) is at the top-right once rotated clockwise.
    r, g, b = image.getpixel((image.width - 20, 20))
    assert b > 150 and r < 80
    r, g, b = image.getpixel((20, 20))
    assert r > 150 and b < 80


def test_long_side_is_resized_and_the_thumbnail_is_small():
    photo = prepare(camera_jpeg(size=(4000, 1000)))
    assert (photo.width, photo.height) == (MAX_SIDE, 400)
    thumb = reopened(photo.thumbnail)
    assert max(thumb.size) == THUMB_SIDE
    assert len(photo.thumbnail) < len(photo.data)


def test_a_small_photo_keeps_its_size_and_is_its_own_thumbnail():
    photo = prepare(encoded(Image.new("RGB", (300, 200), "green"), "PNG"))
    assert (photo.width, photo.height) == (300, 200)
    assert photo.thumbnail == photo.data


def test_names_are_the_digest_of_the_reencoded_bytes():
    photo = prepare(camera_jpeg())
    assert photo.file == hashlib.sha256(photo.data).hexdigest() + ".jpg"
    assert photo.thumbnail_file == thumbnail_name(photo.file)
    assert photo.thumbnail_file.endswith("-vignette.jpg")
    assert prepare(camera_jpeg()).file == photo.file  # same picture, same name


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_are_accepted_and_become_jpeg(fmt):
    image = Image.new("RGBA", (800, 600), (0, 128, 0, 255))
    image.paste((0, 0, 0, 0), (0, 0, 100, 100))  # transparent corner: laid on white
    photo = prepare(encoded(image, fmt))
    out = reopened(photo.data)
    assert out.format == "JPEG" and out.mode == "RGB"
    assert all(v > 240 for v in out.getpixel((10, 10)))


def png_with_text() -> bytes:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "adresse : 12 rue des Blagis")
    return encoded(Image.new("RGB", (500, 500), "blue"), "PNG", pnginfo=info)


def test_png_text_chunks_are_dropped():
    assert b"rue des Blagis" in png_with_text()
    assert b"rue des Blagis" not in prepare(png_with_text()).data


def tiny_pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def bomb_png(side: int = 20_000) -> bytes:
    """A PNG of side × side black pixels: a few kB on disk, 400 million pixels decoded."""
    raw = zlib.compress(b"".join(b"\x00" + bytes(side // 8) for _ in range(side)), 9)

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body).to_bytes(4, "big")
        return len(body).to_bytes(4, "big") + kind + body + crc

    header = side.to_bytes(4, "big") * 2 + bytes([1, 0, 0, 0, 0])  # 1-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("data", "status", "words"),
    [
        (b"", 422, "pas une photo lisible"),
        (b"bonjour, ceci est du texte", 422, "pas une photo lisible"),
        (tiny_pdf(), 422, "PDF"),
        (encoded(Image.new("RGB", (50, 50)), "GIF"), 422, "JPEG, PNG ou WebP"),
        (encoded(Image.new("RGB", (50, 50)), "BMP"), 422, "JPEG, PNG ou WebP"),
        (camera_jpeg()[:4000], 422, "incomplète"),
        (bomb_png(), 422, "trop de pixels"),
        (b"\xff\xd8" + b"\x00" * MAX_BYTES, 413, "5 Mo"),
    ],
    ids=["empty", "text", "pdf", "gif", "bmp", "truncated", "bomb", "too-big"],
)
def test_refusals_say_why_in_french(data, status, words):
    with pytest.raises(PhotoRefused) as refused:
        prepare(data)
    assert refused.value.status == status
    assert words in refused.value.message


@pytest.mark.parametrize(("side", "said"), [(20_000, "plus de 40"), (7_000, "49")])
def test_bombs_are_small_on_disk_and_refused_before_decoding(side, said):
    """400 million pixels (Pillow's own guard answers) or 49 million (ours does)."""
    data = bomb_png(side)
    assert len(data) < 100_000
    with pytest.raises(PhotoRefused, match=f"trop de pixels \\({said} millions"):
        prepare(data)
