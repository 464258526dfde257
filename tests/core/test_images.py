"""Image uploads are judged by their content: type, size and pixel dimensions."""

from __future__ import annotations

import io

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from core.images import ImageValidator, image_extension, validate_image


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (40, 30), mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color=(200, 40, 40) if mode == "RGB" else 1).save(buffer, fmt)
    return buffer.getvalue()


def upload(content: bytes, name: str = "cover.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/png")


def _error(file, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        validate_image(file, **kwargs)
    return caught.value


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_a_small_jpeg_png_or_webp_passes_and_is_left_at_its_start(fmt):
    file = upload(image_bytes(fmt), name="anything.bin")

    validate_image(file)

    assert file.tell() == 0
    assert file.read() == image_bytes(fmt)


def test_a_plain_binary_stream_without_size_works_too():
    stream = io.BytesIO(image_bytes())
    stream.seek(10)

    validate_image(stream)

    assert stream.tell() == 0


def test_a_gif_is_refused_by_its_content_whatever_its_name():
    error = _error(upload(image_bytes("GIF", mode="P"), name="cover.png"))

    assert error.code == "image_type"
    assert error.messages == ["Only JPEG, PNG and WebP images are accepted; this file is GIF."]


def test_a_text_file_named_png_is_refused():
    error = _error(upload(b"just some text, not a picture\n" * 20, name="cover.png"))

    assert error.code == "image_invalid"
    assert error.messages == [
        "This file is not an image that can be read (or it is damaged); "
        "upload a JPEG, PNG or WebP image."
    ]


def test_a_truncated_png_is_refused():
    error = _error(upload(image_bytes()[:60]))

    assert error.code == "image_invalid"


def test_a_file_over_the_size_limit_is_refused_before_it_is_decoded(settings):
    settings.IMAGE_MAX_BYTES = 2 * 1_048_576
    oversized = upload(b"\0" * (3 * 1_048_576 + 524_288))  # not even an image

    error = _error(oversized)

    assert error.code == "image_too_large"
    assert error.messages == ["The image is 3.5 MB; the largest allowed is 2 MB."]


def test_a_file_just_over_the_limit_is_told_in_bytes(settings):
    settings.IMAGE_MAX_BYTES = 2 * 1_048_576

    error = _error(upload(b"\0" * (2 * 1_048_576 + 10)))

    assert error.messages == [
        "The image is 2,097,162 bytes; the largest allowed is 2,097,152 bytes."
    ]


def test_the_size_limit_comes_from_the_setting_or_else_the_argument(settings):
    content = image_bytes()
    settings.IMAGE_MAX_BYTES = len(content) - 1

    from_setting = _error(upload(content))
    validate_image(upload(content), max_bytes=len(content))
    from_argument = _error(upload(b"\0" * 3000), max_bytes=1536)

    assert from_setting.code == "image_too_large"
    assert from_argument.messages == ["The image is 2.9 KB; the largest allowed is 1.5 KB."]


@pytest.mark.parametrize("size", [(4001, 10), (10, 4001)])
def test_an_image_over_4000_pixels_on_a_side_is_refused(size):
    error = _error(upload(image_bytes(size=size)))

    assert error.code == "image_dimensions"
    width, height = size
    assert error.messages == [
        f"The image is {width}×{height} pixels; at most 4000×4000 pixels are allowed."
    ]


def test_exactly_4000_pixels_on_a_side_passes():
    validate_image(upload(image_bytes(size=(4000, 1))))


def test_a_decompression_bomb_is_refused_before_pillow_decodes_it(monkeypatch):
    # Pillow's own guard fires first for pixel counts past Image.MAX_IMAGE_PIXELS.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)

    error = _error(upload(image_bytes(size=(20, 10))))

    assert error.code == "image_dimensions"
    assert error.messages == ["The image is far too large; at most 4000×4000 pixels are allowed."]


def test_the_validator_works_on_a_form_image_field():
    class CoverForm(forms.Form):
        image = forms.ImageField(validators=[ImageValidator()])

    good = CoverForm(files={"image": upload(image_bytes("WEBP"), name="cover.webp")})
    gif = CoverForm(files={"image": upload(image_bytes("GIF", mode="P"), name="cover.gif")})

    assert good.is_valid(), good.errors
    assert not gif.is_valid()
    assert gif.errors["image"] == ["Only JPEG, PNG and WebP images are accepted; this file is GIF."]


def test_the_validator_deconstructs_for_migrations_and_compares_by_limit():
    path, args, kwargs = ImageValidator(max_bytes=1000).deconstruct()

    assert (path, args, kwargs) == ("core.images.ImageValidator", (), {"max_bytes": 1000})
    assert ImageValidator(max_bytes=1000) == ImageValidator(max_bytes=1000)
    assert ImageValidator() != ImageValidator(max_bytes=1000)


def test_the_validator_skips_empty_values_and_files_already_stored():
    from django.db.models.fields.files import FieldFile

    from catalogue.models import Product

    stored = FieldFile(Product(), Product._meta.get_field("image"), "products/old.png")
    validator = ImageValidator()

    validator(None)
    validator("")
    validator(stored)  # would fail if it tried to open the (missing) file


@pytest.mark.parametrize(("fmt", "extension"), [("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp")])
def test_the_extension_follows_the_content_not_the_name(fmt, extension):
    file = upload(image_bytes(fmt), name="cover.gif")

    assert image_extension(file) == extension
    assert file.tell() == 0
