"""A photo sent by an editor, made safe to publish: decoded, checked, re-encoded, bare.

The upload is never kept as sent. Its *content* must decode as JPEG, PNG or WebP (the
file name and the announced type are ignored: a PDF renamed ``.jpg`` is refused); its
pixel count is bounded before any pixel is decoded (a 50 kB PNG can unpack to
gigabytes: a decompression bomb); a truncated file is refused. The EXIF orientation is
applied, then the pixels alone are copied into a new image, so no metadata survives
(EXIF with its GPS position, ICC profile, comments, XMP). The result is resized so its
long side is at most `MAX_SIDE` pixels and re-encoded as JPEG; a thumbnail of at most
`THUMB_SIDE` pixels goes with it. Both are named after the SHA-256 of the re-encoded
photo, so a name says what a file holds and a browser may keep it for ever.

Pure: bytes in, bytes out, no files, no Flask (`geoapp.store.photos` keeps the files).
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from geoapp.errors import GeoappError

MAX_PHOTOS = 5  # per experiment
MAX_BYTES = 5 * 1024 * 1024  # per uploaded file, as sent
MAX_PIXELS = 40_000_000  # width × height before decoding (a 40-megapixel camera fits)
MAX_SIDE = 1600  # pixels, long side of the published photo
THUMB_SIDE = 400  # pixels, long side of the thumbnail
QUALITY = 85
THUMB_QUALITY = 80
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
MAX_CAPTION = 200
# What a stored photo or its thumbnail is called: the digest of the photo's bytes.
FILE_NAME = re.compile(r"(?P<digest>[0-9a-f]{64})(?P<thumb>-vignette)?\.jpg")

NOT_AN_IMAGE = (
    "Ce fichier n’est pas une photo lisible : envoyez une image JPEG, PNG ou WebP "
    "(un PDF ou un document renommé en .jpg est refusé)."
)
TRUNCATED = "Cette image est incomplète ou abîmée (fichier tronqué) : envoyez-la à nouveau."
TOO_BIG = "La photo dépasse 5 Mo : réduisez-la (ou exportez-la en JPEG) avant de l’envoyer."
TOO_MANY_PIXELS = (
    "Cette image compte trop de pixels ({pixels} millions, {limit} millions au plus) : "
    "réduisez sa taille avant de l’envoyer."
)


class PhotoRefused(GeoappError):
    """An upload that cannot become a published photo (French message, 413 or 422)."""


@dataclass(frozen=True)
class Photo:
    """A photo ready to store: JPEG bytes without metadata, its size, its thumbnail."""

    data: bytes
    thumbnail: bytes
    width: int
    height: int

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def file(self) -> str:
        """The photo's file name (`FILE_NAME`)."""
        return f"{self.digest}.jpg"

    @property
    def thumbnail_file(self) -> str:
        return thumbnail_name(self.file)


def thumbnail_name(file: str) -> str:
    """The thumbnail's file name beside the photo ``file``."""
    return file.removesuffix(".jpg") + "-vignette.jpg"


def prepare(data: bytes) -> Photo:
    """Turn uploaded bytes into a `Photo`, or raise `PhotoRefused` saying why in French."""
    if len(data) > MAX_BYTES:
        raise PhotoRefused(TOO_BIG, 413)
    image = _decode(data)
    image = _srgb(ImageOps.exif_transpose(image))
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    photo = _bare(image)
    data = _jpeg(photo, QUALITY)
    if max(photo.size) <= THUMB_SIDE:  # small already: the thumbnail is the photo
        return Photo(data=data, thumbnail=data, width=photo.width, height=photo.height)
    small = photo.copy()
    small.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    thumbnail = _jpeg(small, THUMB_QUALITY)
    return Photo(data=data, thumbnail=thumbnail, width=photo.width, height=photo.height)


def _decode(data: bytes) -> Image.Image:
    """The image in ``data`` fully decoded (first frame of an animation), its format
    found from its content among `ACCEPTED_FORMATS` and its pixel count bounded first."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
            pixels = image.width * image.height
            if pixels > MAX_PIXELS:
                raise _too_many(pixels)
            image.load()
    except PhotoRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many(None) from exc
    except UnidentifiedImageError as exc:
        raise PhotoRefused(NOT_AN_IMAGE, 422) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:  # what decoders raise
        raise PhotoRefused(TRUNCATED, 422) from exc
    return image


def _too_many(pixels: int | None) -> PhotoRefused:
    shown = "plus de 40" if pixels is None else f"{pixels / 1e6:.0f}"
    return PhotoRefused(TOO_MANY_PIXELS.format(pixels=shown, limit=MAX_PIXELS // 10**6), 422)


def _srgb(image: Image.Image) -> Image.Image:
    """Colours converted to sRGB when the file carries another ICC profile (a phone's
    Display P3), since the profile itself is dropped; unchanged without one."""
    profile = image.info.get("icc_profile")
    if not profile or image.mode not in ("RGB", "RGBA"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"))
    except (ImageCms.PyCMSError, OSError):  # an unreadable profile: keep the pixels
        return image


def _bare(image: Image.Image) -> Image.Image:
    """The pixels alone in a new RGB image: no ``info`` (EXIF, GPS, ICC, comments, XMP)
    can follow; transparency is laid on white, as the page shows it."""
    rgba = image.convert("RGBA")
    bare = Image.new("RGB", rgba.size, "white")
    bare.paste(rgba, mask=rgba.getchannel("A"))
    return bare


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
    return out.getvalue()
