"""Checking uploaded images before they reach storage.

The type is read from the content by Pillow, never from the file name or the browser's
content type, so a renamed text file or a GIF called ``cover.png`` is refused. Size and
pixel dimensions are capped: a small file can still decode to a huge bitmap
(decompression bomb), and the dimensions are read from the header without decoding.
"""

from __future__ import annotations

import warnings
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models.fields.files import FieldFile
from django.http import HttpRequest
from django.utils.deconstruct import deconstructible
from PIL import Image, UnidentifiedImageError
from rest_framework.request import Request

ALLOWED_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP"}
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
MAX_SIDE = 4000


def _readable(size: int) -> str:
    for unit, scale in (("MB", 1_048_576), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


def _sizes(size: int, limit: int) -> tuple[str, str]:
    """Both sizes for people, in exact bytes when rounding would make them look equal."""
    readable = _readable(size), _readable(limit)
    if readable[0] == readable[1]:
        return f"{size:,} bytes", f"{limit:,} bytes"
    return readable


def _size(file: Any) -> int:
    size: int | None = getattr(file, "size", None)
    if size is not None:
        return size
    position = file.tell()
    file.seek(0, 2)
    size = file.tell()
    file.seek(position)
    return size


def validate_image(file: IO[bytes] | Any, *, max_bytes: int | None = None) -> None:
    """Raise ``ValidationError`` unless ``file`` is a JPEG, PNG or WebP image of at most
    ``max_bytes`` (default: the ``IMAGE_MAX_BYTES`` setting) and at most
    ``MAX_SIDE``×``MAX_SIDE`` pixels. Leaves the file at its start, ready to be stored."""
    limit = settings.IMAGE_MAX_BYTES if max_bytes is None else max_bytes
    size = _size(file)
    if size > limit:
        shown_size, shown_limit = _sizes(size, limit)
        raise ValidationError(
            "The image is %(size)s; the largest allowed is %(limit)s.",
            code="image_too_large",
            params={"size": shown_size, "limit": shown_limit},
        )
    file.seek(0)
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its own pixel limit and twice that; refuse both.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(file) as image:
                kind, (width, height) = image.format, image.size
                if kind in ALLOWED_FORMATS and width <= MAX_SIDE and height <= MAX_SIDE:
                    image.verify()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise _too_many_pixels() from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationError(
            "This file is not an image that can be read (or it is damaged); "
            "upload a JPEG, PNG or WebP image.",
            code="image_invalid",
        ) from exc
    finally:
        file.seek(0)
    if kind not in ALLOWED_FORMATS:
        raise ValidationError(
            "Only JPEG, PNG and WebP images are accepted; this file is %(kind)s.",
            code="image_type",
            params={"kind": kind or "of an unknown type"},
        )
    if width > MAX_SIDE or height > MAX_SIDE:
        raise _too_many_pixels(width, height)


def image_extension(file: IO[bytes] | Any) -> str:
    """The file name extension that matches the content of an image ``validate_image``
    accepted ("jpg", "png" or "webp"), so storage serves it with the right content type
    whatever the uploader called it. Leaves the file at its start."""
    file.seek(0)
    try:
        with Image.open(file) as image:
            return EXTENSIONS[image.format]  # type: ignore[index]  # accepted: one of these
    finally:
        file.seek(0)


def _too_many_pixels(width: int | None = None, height: int | None = None) -> ValidationError:
    found = f" is {width}×{height} pixels" if width else " is far too large"
    return ValidationError(
        "The image%(found)s; at most %(side)s×%(side)s pixels are allowed.",
        code="image_dimensions",
        params={"found": found, "side": MAX_SIDE},
    )


@deconstructible(path="core.images.ImageValidator")
class ImageValidator:
    """``validate_image`` as a field validator: ``ImageField(validators=[ImageValidator()])``
    on a model, or ``forms.ImageField(validators=[...])``.

    A file already in storage (a model saved before, edited for another field) is not
    downloaded and checked again: it was checked when it was uploaded."""

    def __init__(self, max_bytes: int | None = None) -> None:
        self.max_bytes = max_bytes

    def __call__(self, value: Any) -> None:
        if not value:
            return
        if isinstance(value, FieldFile):
            if value._committed:  # type: ignore[attr-defined]  # Django's, undeclared
                return
            value = value.file
        validate_image(value, max_bytes=self.max_bytes)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ImageValidator) and other.max_bytes == self.max_bytes

    def __hash__(self) -> int:
        return hash(("ImageValidator", self.max_bytes))


def media_url(name: str | FieldFile | None, request: HttpRequest | Request) -> str | None:
    """A stored file's URL for an API answer: absolute, as the schema's ``format: uri``
    promises. Storage that serves from elsewhere (S3, a CDN) already answers absolute
    URLs, which stay as they are; local storage answers a path under ``MEDIA_URL``, made
    absolute against the host the request came to."""
    if not name:
        return None
    if isinstance(name, FieldFile):
        url = name.url
    else:
        from django.core.files.storage import default_storage

        url = default_storage.url(name)
    return request.build_absolute_uri(url)
