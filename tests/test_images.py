"""The safe image loader against a corpus of bad and unusual files generated here.

Each file is either handled correctly (checked against what PIL / numpy say
the pixels must be) or rejected with its one-line ``errors.image.*`` message.
The same corpus (:func:`corpus`) is pushed through the CLI
(``test_cli_classify.py``) and the Classify page (``test_page_classify.py``).
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest
from PIL import Image, ImageFile

from explainer.errors import ImageError
from explainer.i18n import catalog
from explainer.images import MAX_PIXELS, WORKING_MIN_SIDE, image_header, load_image


# --------------------------------------------------------------------------
# The corpus
# --------------------------------------------------------------------------


def _save(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def _gradient(width: int, height: int) -> Image.Image:
    x = np.linspace(0, 255, width, dtype=np.float64)[None, :].repeat(height, 0)
    y = np.linspace(0, 255, height, dtype=np.float64)[:, None].repeat(width, 1)
    return Image.fromarray(np.stack([x, y, 255 - x], axis=-1).astype(np.uint8), "RGB")


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width × height`` RGB pixels (a decompression bomb's header)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def _exif_rotated_jpeg() -> bytes:
    # Stored 60×40 (landscape), red block in the stored top-left corner, EXIF orientation 6:
    # "rotate 90° clockwise to display", so the viewer shows 40×60 with the red block top-right.
    array = np.full((40, 60, 3), 255, np.uint8)
    array[:10, :10] = (255, 0, 0)
    image = Image.fromarray(array, "RGB")
    exif = Image.Exif()
    exif[0x0112] = 6
    return _save(image, "JPEG", quality=95, exif=exif.tobytes())


def _palette_with_transparency() -> bytes:
    image = Image.new("P", (8, 8), 0)
    image.putpalette([0, 0, 255] + [255, 0, 0] + [0] * (254 * 3))  # index 0 blue, index 1 red
    image.paste(1, (0, 0, 4, 8))  # left half red, right half blue
    return _save(image, "PNG", transparency=0)  # blue (index 0) is transparent


def _rgba() -> bytes:
    array = np.zeros((8, 8, 4), np.uint8)
    array[:, :4] = (255, 0, 0, 255)  # opaque red
    array[:, 4:] = (0, 0, 0, 0)  # fully transparent black
    return _save(Image.fromarray(array, "RGBA"), "PNG")


def _png16() -> bytes:
    array = np.zeros((4, 4), np.uint16)
    array[0, 0], array[0, 1], array[0, 2] = 65535, 32768, 256
    image = Image.fromarray(array)
    assert image.mode == "I;16"
    return _save(image, "PNG")


def _animated_gif() -> bytes:
    frames = [Image.new("RGB", (16, 16), (255, 0, 0)), Image.new("RGB", (16, 16), (0, 0, 255))]
    return _save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def _animated_webp() -> bytes:
    frames = [Image.new("RGB", (16, 16), (0, 255, 0)), Image.new("RGB", (16, 16), (0, 0, 255))]
    return _save(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100, lossless=True)


@dataclass(frozen=True)
class Case:
    """One corpus file: its name, bytes, and either the error key it must raise or a check of the result."""

    name: str
    data: bytes
    error: str | None = None  # e.g. "image.corrupt"
    check: Callable[[Image.Image], None] | None = None


def _near(pixel, expected, tol=12) -> bool:
    return all(abs(int(a) - int(b)) <= tol for a, b in zip(pixel, expected))


def _check_exif(image: Image.Image) -> None:
    assert image.size == (40, 60)
    assert _near(image.getpixel((35, 4)), (255, 0, 0), 40), "red block must be top-right after orientation 6"
    assert _near(image.getpixel((4, 4)), (255, 255, 255), 40)


def _check_cmyk(image: Image.Image) -> None:
    assert _near(image.getpixel((5, 5)), (255, 0, 0), 30)


def _check_png16(image: Image.Image) -> None:
    assert image.getpixel((0, 0)) == (255, 255, 255)
    assert image.getpixel((1, 0)) == (128, 128, 128)  # 32768 / 65535 * 255 = 127.5 -> 128
    assert image.getpixel((2, 0)) == (1, 1, 1)  # 256 / 65535 * 255 = 0.996 -> 1
    assert image.getpixel((3, 3)) == (0, 0, 0)


def _check_left_red_right_white(image: Image.Image) -> None:
    assert image.getpixel((1, 1)) == (255, 0, 0)
    assert image.getpixel((6, 6)) == (255, 255, 255)


def _check_first_frame(color):
    def check(image: Image.Image) -> None:
        assert image.size == (16, 16)
        assert _near(image.getpixel((8, 8)), color, 8)

    return check


def _check_size(size):
    def check(image: Image.Image) -> None:
        assert image.size == size

    return check


def corpus() -> list[Case]:
    """The bad / unusual files, generated in memory (deterministic)."""
    photo = _save(_gradient(320, 240), "JPEG", quality=90)
    gray = _gradient(32, 32).convert("L")
    return [
        Case("truncated.jpg", photo[: len(photo) // 2], error="image.corrupt"),
        Case("empty.jpg", b"", error="image.empty"),
        Case("notes.jpg", b"These are my lecture notes, not a photo.\n" * 20, error="image.not_an_image"),
        Case("bomb.png", png_claiming(40_000, 40_000), error="image.too_many_pixels"),
        Case("big.png", _save(Image.new("L", (8000, 6000)), "PNG"), error="image.too_many_pixels"),
        Case("scan.png", _save(_gradient(16, 16), "TIFF"), error="image.unsupported"),  # a TIFF named .png
        Case("cmyk.jpg", _save(Image.new("RGB", (16, 16), (255, 0, 0)).convert("CMYK"), "JPEG", quality=95),
             check=_check_cmyk),
        Case("deep.png", _png16(), check=_check_png16),
        Case("rgba.png", _rgba(), check=_check_left_red_right_white),
        Case("palette.png", _palette_with_transparency(), check=_check_left_red_right_white),
        Case("animated.gif", _animated_gif(), check=_check_first_frame((255, 0, 0))),
        Case("animated.webp", _animated_webp(), check=_check_first_frame((0, 255, 0))),
        Case("rotated.jpg", _exif_rotated_jpeg(), check=_check_exif),
        Case("dot.png", _save(Image.new("RGB", (1, 1), (10, 200, 30)), "PNG"), check=_check_size((1, 1))),
        Case("thin.png", _save(_gradient(10000, 2), "PNG"), check=_check_size((10000, 2))),
        Case("gray.jpg", _save(gray, "JPEG"), check=_check_size((32, 32))),
        Case("photo.bmp", _save(_gradient(20, 10), "BMP"), check=_check_size((20, 10))),
    ]


CASES = corpus()
BAD = [c for c in CASES if c.error]
GOOD = [c for c in CASES if not c.error]


# --------------------------------------------------------------------------
# The loader
# --------------------------------------------------------------------------


@pytest.mark.parametrize("case", BAD, ids=[c.name for c in BAD])
def test_bad_files_are_rejected_with_one_line(case: Case) -> None:
    with pytest.raises(ImageError) as info:
        load_image(case.data, case.name)
    err = info.value
    assert err.key == case.error
    for lang in ("en", "zh"):
        message = err.message(lang)
        assert "\n" not in message and case.name in message
        assert message == catalog(lang)[f"errors.{case.error}"].format(**err.params)


@pytest.mark.parametrize("case", GOOD, ids=[c.name for c in GOOD])
def test_unusual_files_are_handled(case: Case) -> None:
    image = load_image(case.data, case.name)
    assert image.mode == "RGB"
    case.check(image)


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every pixel decode PIL starts during the test (``load()``); a header refused must start none."""
    calls: list[str] = []
    for cls in (Image.Image, ImageFile.ImageFile):
        def load(self, _original=cls.load):
            calls.append(f"{self.format} {self.size}")
            return _original(self)

        monkeypatch.setattr(cls, "load", load)
    return calls


def test_bomb_header_is_rejected_before_decoding(decodes: list[str]) -> None:
    # 1.6 gigapixels claimed: decoding would need ~4.8 GB; the check must use the header only.
    data = png_claiming(40_000, 40_000)
    with pytest.raises(ImageError) as info:
        load_image(data, "bomb.png")
    assert decodes == []
    assert "1,600,000,000" in info.value.message("en")
    load_image(_save(_gradient(8, 8), "PNG"), "small.png")  # the probe does see a decode
    assert decodes
    assert image_header(png_claiming(100, 50)) == ("PNG", 100, 50)


def test_pixel_cap_is_checked_from_the_header() -> None:
    # Exactly at the cap passes the header check; one row more is refused.
    width = 8000
    height = MAX_PIXELS // width
    assert image_header(png_claiming(width, height)) == ("PNG", width, height)
    with pytest.raises(ImageError) as info:
        image_header(png_claiming(width, height + 1))
    assert info.value.key == "image.too_many_pixels"


def test_paths_and_missing_files(tmp_path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(_save(_gradient(30, 20), "PNG"))
    assert load_image(path).size == (30, 20)
    assert load_image(str(path)).size == (30, 20)
    with pytest.raises(ImageError) as info:
        load_image(tmp_path / "nope.jpg")
    assert info.value.key == "image.not_found"


def test_rgb_photo_pixels_are_unchanged() -> None:
    original = _gradient(64, 48)
    decoded = load_image(_save(original, "PNG"))
    assert np.array_equal(np.asarray(decoded), np.asarray(original))


@pytest.mark.parametrize("size", [(4000, 3000), (3000, 4000), (1030, 700), (600, 400)])
def test_draft_mode_keeps_the_shorter_side_large_enough(size) -> None:
    data = _save(_gradient(*size), "JPEG", quality=85)
    image = load_image(data, min_side=WORKING_MIN_SIDE)
    short = min(image.size)
    assert short >= min(WORKING_MIN_SIDE, min(size))
    # Scaled by 1, 1/2, 1/4 or 1/8 (JPEG DCT scaling), never below the minimum.
    scale = size[0] / image.size[0]
    assert min(abs(scale - s) for s in (1, 2, 4, 8)) < 0.01
    if min(size) >= 2 * WORKING_MIN_SIDE:
        assert short < 2 * WORKING_MIN_SIDE  # actually reduced
    # Same picture: compare with a full decode resized to the same size.
    full = Image.open(io.BytesIO(data)).convert("RGB").resize(image.size, Image.BILINEAR)
    diff = np.abs(np.asarray(full, np.int16) - np.asarray(image, np.int16))
    assert diff.mean() < 3


# --------------------------------------------------------------------------
# The promise: photos up to 40 megapixels open, larger ones are refused from the header alone.
# The number is written here, not read from explainer.images, so lowering the cap in the code fails.
# --------------------------------------------------------------------------

PROMISED_MAX_PIXELS = 40_000_000


def _jpeg_segment(marker: int, data: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(data) + 2) + data


def jpeg_claiming(width: int, height: int) -> bytes:
    """A 53-byte baseline JPEG header declaring ``width × height`` (3 components), with no pixel data."""
    sof = struct.pack(">BHHB", 8, height, width, 3) + bytes([1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1])
    sos = bytes([3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0])
    return b"\xff\xd8" + _jpeg_segment(0xC0, sof) + _jpeg_segment(0xDA, sos) + b"\x00" * 16 + b"\xff\xd9"


UNDER_CAP = [("PNG", png_claiming, 8000, 5000), ("PNG", png_claiming, 39, 1_025_641),  # 40,000,000 and 39,999,999
             ("JPEG", jpeg_claiming, 8000, 5000), ("JPEG", jpeg_claiming, 6325, 6324)]  # … and 39,999,300
OVER_CAP = [("PNG", png_claiming, 53, 754_717), ("PNG", png_claiming, 8000, 5001),  # 40,000,001 and 40,008,000
            ("JPEG", jpeg_claiming, 6325, 6325), ("JPEG", jpeg_claiming, 5001, 8000)]  # 40,005,625 and 40,008,000


@pytest.mark.parametrize("fmt,make,width,height", UNDER_CAP, ids=[f"{c[0]}-{c[2]}x{c[3]}" for c in UNDER_CAP])
def test_headers_up_to_40_megapixels_are_accepted(fmt: str, make, width: int, height: int) -> None:
    assert width * height <= PROMISED_MAX_PIXELS
    data = make(width, height)
    assert len(data) < 100  # a header only: nothing is decoded
    assert image_header(data, "big") == (fmt, width, height)
    # load_image passes the pixel check too and only then finds no pixel data
    with pytest.raises(ImageError) as info:
        load_image(data, "big")
    assert info.value.key == "image.corrupt"


@pytest.mark.parametrize("fmt,make,width,height", OVER_CAP, ids=[f"{c[0]}-{c[2]}x{c[3]}" for c in OVER_CAP])
def test_headers_over_40_megapixels_are_refused(fmt: str, make, width: int, height: int,
                                                decodes: list[str]) -> None:
    assert width * height > PROMISED_MAX_PIXELS
    data = make(width, height)
    for read in (image_header, load_image):
        with pytest.raises(ImageError) as info:
            read(data, "big")
        assert decodes == []  # refused from the header: no decoding started
        assert info.value.key == "image.too_many_pixels"
    assert info.value.message("en") == (f'"big" is too large ({width:,}×{height:,} pixels); '
                                        "the limit is 40 megapixels.")
    assert "40" in info.value.message("zh") and f"{width:,}×{height:,}" in info.value.message("zh")
