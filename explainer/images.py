"""One safe way to turn an upload or a file into an RGB photo.

Every page and the command line open images through :func:`load_image`.
It never lets a broken or hostile file reach the rest of the app:

* **rejected** with an :class:`~explainer.errors.ImageError` (one line, in
  the user's language): zero bytes, files that are not images (a text file
  named ``.jpg``), truncated or corrupt files, formats other than JPEG, PNG,
  WebP, BMP and GIF, files over :data:`MAX_FILE_BYTES`, and decompression
  bombs — the pixel count is read from the header and checked against
  :data:`MAX_PIXELS` *before* any pixel is decoded;
* **handled**: EXIF orientation (the photo is turned the way the camera
  held it), palette and alpha (composited on white), grayscale, CMYK,
  16-bit, animated GIF/WebP (the first frame is used).

Large JPEGs decode fast with PIL's draft mode: pass ``min_side`` and the
JPEG decoder scales by 1/2, 1/4 or 1/8 in the DCT domain while keeping the
shorter side at least ``min_side`` pixels. Other formats cannot be decoded
at a reduced scale: with ``min_side`` they are reduced by a whole factor right
after decoding (shorter side still at least ``min_side``), and any working
image holds at most :data:`WORKING_MAX_PIXELS` pixels — what the app caches
is never a full-resolution PNG.
"""

from __future__ import annotations

import base64
import io
import re
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from explainer.errors import ImageError

#: Largest accepted image, in pixels (width × height), checked before decoding.
MAX_PIXELS = 40_000_000
#: Largest accepted file, in bytes (the app's upload limit is 20 MB, see .streamlit/config.toml).
MAX_FILE_BYTES = 50 * 1024 * 1024
#: Formats accepted (PIL's names). MPO is the JPEG variant some cameras write.
FORMATS: dict[str, str] = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WebP", "BMP": "BMP", "GIF": "GIF"}
#: Shorter side the app and the CLI decode large JPEGs down to (draft mode, by 1/2, 1/4 or 1/8): above
#: every model's preprocessing resize (256 at most, then a 224 crop) with some headroom. A 4000×3000
#: photo decodes at 1/8 (500×375) in about a third of the full decode time.
WORKING_MIN_SIDE = 320
#: Most pixels a working-size decode (``min_side`` given) keeps: the app caches decoded photos for every
#: session, so a large PNG must not stay in memory at full size (40 MP RGB would be 120 MB per photo).
#: Ordinary photos are far below it (a phone JPEG drafts to about 500×375 = 0.19 MP).
WORKING_MAX_PIXELS = 1_000_000
#: File extensions offered by the upload widget.
UPLOAD_EXTENSIONS: tuple[str, ...] = ("jpg", "jpeg", "png", "webp", "bmp", "gif")


def _read(source: bytes | str | Path, name: str | None) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), name or "image"
    path = Path(source)
    label = name or path.name
    if not path.is_file():
        raise ImageError("image.not_found", name=str(path))
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ImageError("image.file_too_large", name=label, mb=f"{size / 2**20:.1f}", limit=MAX_FILE_BYTES // 2**20)
    try:
        return path.read_bytes(), label
    except OSError as err:
        raise ImageError("image.unreadable", name=label, detail=err.strerror or type(err).__name__) from err


def image_header(source: bytes | str | Path, name: str | None = None) -> tuple[str, int, int]:
    """``(format, width, height)`` read from the header only; raises :class:`ImageError` for a non-image."""
    data, label = _read(source, name)
    image = _open(data, label)
    try:
        return FORMATS[image.format or ""], image.width, image.height
    finally:
        image.close()


def _open(data: bytes, label: str) -> Image.Image:
    """Open (header only) and check size and format; no pixel is decoded yet."""
    if len(data) == 0:
        raise ImageError("image.empty", name=label)
    if len(data) > MAX_FILE_BYTES:
        raise ImageError("image.file_too_large", name=label, mb=f"{len(data) / 2**20:.1f}", limit=MAX_FILE_BYTES // 2**20)
    try:
        with warnings.catch_warnings():
            # We check the pixel count ourselves (below), with our own limit.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as err:
        # PIL's own hard limit (2 × Image.MAX_IMAGE_PIXELS) fired while reading the header; it names the count.
        found = re.search(r"\((\d+) pixels\)", str(err))
        size = f"{int(found.group(1)):,}" if found else "?"
        raise ImageError("image.too_many_pixels", name=label, size=size, limit=MAX_PIXELS // 1_000_000) from err
    except UnidentifiedImageError as err:
        raise ImageError("image.not_an_image", name=label) from err
    except (OSError, SyntaxError, ValueError, EOFError, TypeError, IndexError, KeyError) as err:
        raise ImageError("image.corrupt", name=label) from err
    if image.format not in FORMATS:
        fmt = image.format or "?"
        image.close()
        raise ImageError("image.unsupported", name=label, format=fmt)
    width, height = image.size
    if width <= 0 or height <= 0:
        image.close()
        raise ImageError("image.corrupt", name=label)
    if width * height > MAX_PIXELS:
        image.close()
        raise ImageError(
            "image.too_many_pixels", name=label, size=f"{width:,}×{height:,}", limit=MAX_PIXELS // 1_000_000
        )
    return image


def _to_rgb(image: Image.Image) -> Image.Image:
    """Any PIL mode to 8-bit RGB; alpha is composited on white, 16-bit is scaled down."""
    mode = image.mode
    if mode == "RGB":
        return image
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        array = np.asarray(image, dtype=np.int64)
        # 16-bit grayscale (PNG stores it as I;16 or I): scale 0…65535 to 0…255, rounding to nearest.
        top = 65535 if mode.startswith("I;16") or array.max(initial=0) > 255 else 255
        array = (np.clip(array, 0, top) * 255 + top // 2) // top
        return Image.fromarray(array.astype(np.uint8), "L").convert("RGB")
    if mode == "F":
        array = np.asarray(image, dtype=np.float64)
        low, high = float(np.nanmin(array)), float(np.nanmax(array))
        scaled = np.zeros_like(array) if high <= low else (array - low) / (high - low)
        return Image.fromarray(np.nan_to_num(scaled * 255).astype(np.uint8), "L").convert("RGB")
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in image.info)
    if mode in ("L", "1", "P") and "transparency" in image.info and mode != "P":
        has_alpha = True
    if has_alpha:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def decode_pixels(fmt: str, width: int, height: int, min_side: int | None = WORKING_MIN_SIDE) -> int:
    """Pixels :func:`load_image` decodes for a photo of this format and size (the CPU and memory it costs):
    a JPEG decodes at its draft scale (1/2, 1/4 or 1/8, shorter side still at least ``min_side``), any other
    format at full size. For budgets read from the header (:func:`image_header`) before anything is decoded."""
    if fmt != "JPEG" or not min_side:
        return width * height
    scale = 1
    while scale < 8 and min(width, height) // (scale * 2) >= min_side:
        scale *= 2
    return -(-width // scale) * -(-height // scale)


def _reduce_in_strips(image: Image.Image, factor: int, rows: int = 64) -> Image.Image:
    """:meth:`PIL.Image.Image.reduce` by ``factor``, ``rows`` output rows at a time: reduce() copies an RGBA image
    whole (premultiplied) first, and a 40 MP one would need another 160 MB; a strip needs a few MB."""
    width, height = image.width // factor, image.height // factor
    out: Image.Image | None = None
    for top in range(0, height, rows):
        bottom = min(height, top + rows)
        strip = image.crop((0, top * factor, width * factor, bottom * factor)).reduce(factor)
        if out is None:
            out = Image.new(strip.mode, (width, height))
        out.paste(strip, (0, top))
    assert out is not None
    return out


def _working_size(image: Image.Image, min_side: int, reduce_by_side: bool) -> Image.Image:
    """``image`` shrunk by a whole factor (box filter, :meth:`PIL.Image.Image.reduce`) so that its shorter side
    stays at least ``min_side`` (when ``reduce_by_side``) and it holds at most :data:`WORKING_MAX_PIXELS`
    pixels (even if the shorter side then drops below ``min_side``: a 100000×400 strip)."""
    width, height = image.size
    factor = max(1, min(width, height) // min_side) if reduce_by_side else 1
    while (width // factor) * (height // factor) > WORKING_MAX_PIXELS:
        factor += 1
    if factor <= 1:
        return image
    if image.mode == "1":
        image = image.convert("L")
    elif image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif image.mode.startswith("I;16"):
        image = image.convert("I")
    reduced = _reduce_in_strips(image, factor)
    reduced.info.update({k: v for k, v in image.info.items() if k in ("exif", "transparency")})
    return reduced


def load_image(source: bytes | str | Path, name: str | None = None, *, min_side: int | None = None) -> Image.Image:
    """Decode ``source`` (the file's bytes, or a path) into an upright 8-bit RGB image.

    ``name`` is how the file is called in error messages (default: the file
    name, or ``"image"`` for bytes). With ``min_side``, a JPEG is decoded at
    a reduced scale (1/2, 1/4 or 1/8, PIL's draft mode) as long as its
    shorter side stays at least ``min_side`` pixels — several times faster for
    large photos; other formats are decoded at full size and reduced by a whole factor at once (shorter side
    still at least ``min_side``; at most :data:`WORKING_MAX_PIXELS` pixels either way). Raises
    :class:`~explainer.errors.ImageError` for anything that is not a usable
    photo.
    """
    data, label = _read(source, name)
    image = _open(data, label)
    try:
        if min_side and image.format in ("JPEG", "MPO"):
            short = min(image.size)
            if short > min_side:
                # draft() keeps both sides >= the requested box; ask for a box scaled like the photo.
                factor = min_side / short
                image.draft(None, (max(1, int(image.width * factor)), max(1, int(image.height * factor))))
        if getattr(image, "n_frames", 1) > 1:
            image.seek(0)  # animated GIF / WebP: the first frame
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image.load()
            working = image
            if min_side:
                # JPEGs were drafted already (only an extreme strip is reduced further); any other format is
                # decoded at full size, then reduced at once, so no full-size copy outlives this call.
                working = _working_size(image, min_side, reduce_by_side=image.format not in ("JPEG", "MPO"))
            try:
                upright = ImageOps.exif_transpose(working) or working
            except Exception:  # noqa: BLE001 - a broken EXIF block: keep the pixels as stored
                upright = image
            rgb = _to_rgb(upright)
            rgb.load()
    except ImageError:
        raise
    except MemoryError as err:
        raise ImageError("image.too_many_pixels", name=label, size=f"{image.width:,}×{image.height:,}",
                         limit=MAX_PIXELS // 1_000_000) from err
    except Exception as err:  # noqa: BLE001 - any decoder failure is a broken file for the user
        raise ImageError("image.corrupt", name=label) from err
    if rgb is not image:
        image.close()
    return rgb


#: Longest side of the photo previews the pages show.
PREVIEW_MAX_SIDE = 1024


def preview(image: Image.Image, max_side: int = PREVIEW_MAX_SIDE) -> Image.Image:
    """A copy for display, the longer side at most ``max_side`` and every side at least 1 pixel.

    Streamlit's own downscaling of very wide images (e.g. 10000×2) rounds the
    height to 0 and fails; previews made here never do.
    """
    width, height = image.size
    scale = min(1.0, max_side / max(width, height))
    if scale >= 1.0:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return image.resize(size, Image.BILINEAR, reducing_gap=3.0)


def data_uri(data: bytes, mime: str = "image/jpeg") -> str:
    """Encoded image bytes as a ``data:`` URI, for showing an image inline (``st.image``, an ``<img>``).

    An image given to ``st.image`` as bytes becomes a media file that the browser fetches in a second
    request; a rerun that replaces it (a slider moved twice quickly) can drop that file before the browser
    asks for it (a broken image). Inline, it costs no request and cannot go missing; Streamlit's message
    cache keeps a browser from receiving the same large image twice.
    """
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def jpeg_bytes(image: Image.Image | np.ndarray, quality: int = 90) -> bytes:
    """``image`` (PIL or ``uint8`` ``H×W×3``) encoded once as a JPEG, for showing it without re-encoding.

    The app encodes each photo's preview once and shows it inline (a ``data:`` URI made
    from these bytes, cached per photo), so 60 students shown the same sample photo cost
    one encoding.
    """
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    if image.mode != "RGB":
        image = image.convert("RGB")
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def png_bytes(image: Image.Image) -> bytes:
    """``image`` as a lossless PNG (the same bytes for the same pixels): decoded again (``load_image`` without
    ``min_side``) it gives back exactly these pixels."""
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=6)
    return out.getvalue()


def working_copy(data: bytes, name: str = "image") -> bytes:
    """What a page keeps of an uploaded photo it decodes later at any preprocessing size: a lossless PNG of the
    working image (:func:`load_image` at :data:`WORKING_MIN_SIDE`; at most :data:`WORKING_MAX_PIXELS` pixels,
    about 0.2-0.5 MB for a phone photo of any file size). ``load_image(copy)`` (no ``min_side``) gives back
    exactly those pixels. Raises :class:`~explainer.errors.ImageError` for a file that is not a photo."""
    return png_bytes(load_image(data, name, min_side=WORKING_MIN_SIDE))
