"""What a session keeps, and keeps small (issue 26): the Compression page's calibration uploads become lossless
copies at the size preprocessing crops from (identical tensors, bounded session memory), and a trained head of
"Teach it new classes" survives a worker restart in the shared store under an unguessable token."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.transforms import InterpolationMode

from explainer import images
from explainer.errors import ImageError
from explainer.i18n import t
from tests.conftest import run_page

#: 32 uploads of this many pixels each (JPEG, noisy: a few MB each, as phone photos are).
LARGE_SIZE = (4000, 3000)
#: The most the Compression page's session may hold in bytes after 32 large uploads (32 copies of ~150 KB).
SESSION_LIMIT_BYTES = 8 * 2**20


def session_bytes(value, seen: set[int] | None = None) -> int:
    """Bytes of file content reachable from ``value`` (bytes, buffers, uploaded files, containers, objects)."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return 0
    seen.add(id(value))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return len(value)
    if isinstance(value, io.BytesIO):  # Streamlit's UploadedFile is one
        return value.getbuffer().nbytes
    if isinstance(value, Image.Image):
        return len(value.tobytes()) if value.size[0] * value.size[1] else 0
    if isinstance(value, torch.Tensor):
        return value.numel() * value.element_size()
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, dict):
        return sum(session_bytes(k, seen) + session_bytes(v, seen) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return sum(session_bytes(v, seen) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sum(session_bytes(getattr(value, f.name), seen) for f in dataclasses.fields(value))
    if hasattr(value, "__dict__") and not isinstance(value, type) and type(value).__module__.startswith(
            ("explainer", "streamlit.runtime.uploaded_file_manager")):
        return session_bytes(vars(value), seen)
    return 0


def held_by_session(at) -> int:
    """Bytes of file content an AppTest session holds: every value in its session state (widgets included)."""
    state = at.session_state._state._state  # noqa: SLF001 - AppTest's SafeSessionState's SessionState
    total = 0
    seen: set[int] = set()
    for store in (state._old_state, state._new_session_state, state._new_widget_state.states):  # noqa: SLF001
        total += session_bytes(dict(store), seen)
    return total


def test_the_measure_sees_raw_uploads() -> None:
    """The session measure counts an uploaded file held in session state (so a page keeping raw uploads fails)."""
    from streamlit.runtime.uploaded_file_manager import UploadedFile, UploadedFileRec

    upload = UploadedFile(UploadedFileRec("id", "a.jpg", "image/jpeg", b"x" * 123_456), None)
    assert session_bytes({"quant_cal_upload": [upload], "n": 3}) == 123_456


def large_jpegs(photo: Path, n: int) -> list[bytes]:
    """``n`` distinct large JPEGs made from a real photo (upscaled, with noise: a few MB each)."""
    base = np.asarray(Image.open(photo).convert("RGB").resize(LARGE_SIZE, Image.BILINEAR), dtype=np.int16)
    noise = np.random.default_rng(0).integers(-12, 13, size=base.shape, dtype=np.int16)
    out = []
    for i in range(n):
        pixels = np.clip(base + np.roll(noise, 97 * i, axis=1), 0, 255).astype(np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, "JPEG", quality=95)
        out.append(buffer.getvalue())
    return out


# --------------------------------------------------------------------------- calibration copies


def _odd_photos(photos_dir: Path) -> list[tuple[str, bytes]]:
    """Photos whose decoding takes every path: a draft-decoded JPEG, an EXIF-rotated one, a large PNG reduced
    after decoding, a tiny one (upscaled by preprocessing), a panorama (trimmed), RGBA and grayscale."""
    cat = Image.open(photos_dir / "cat.jpg").convert("RGB")
    out = []

    def save(name, image, fmt, **kw):
        buffer = io.BytesIO()
        image.save(buffer, fmt, **kw)
        out.append((name, buffer.getvalue()))

    save("big.jpg", cat.resize((2600, 1900)), "JPEG", quality=92)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90° by the camera
    save("rotated.jpg", cat.resize((1500, 1100)), "JPEG", exif=exif.tobytes())
    save("large.png", cat.resize((2100, 1700)), "PNG")
    save("square.jpg", cat.resize((1279, 1279)), "JPEG")
    save("tiny.png", cat.resize((90, 70)), "PNG")
    save("panorama.jpg", cat.resize((3000, 300)), "JPEG")
    save("alpha.png", cat.resize((800, 600)).convert("RGBA"), "PNG")
    save("gray.webp", cat.resize((700, 500)).convert("L"), "WEBP", lossless=True)
    out.append(("bird.jpg", (photos_dir / "bird.jpg").read_bytes()))
    return out


@pytest.mark.parametrize("transform", ["weights", "v1_192"])
def test_calibration_copy_gives_the_originals_tensors_exactly(transform, photos_dir, with_weights) -> None:
    from types import SimpleNamespace

    from torchvision.transforms._presets import ImageClassification

    from explainer.quant.compare import batch_of, calibration_copy
    from explainer.weights import load_pretrained

    if transform == "weights":  # MobileNetV2's own preprocessing (resize 232, bilinear, crop 224)
        loaded = load_pretrained("mobilenet_v2", with_weights, download=False)
    else:  # V1's at 192 (resize 219, bicubic): another size and filter
        loaded = SimpleNamespace(transform=ImageClassification(crop_size=192, resize_size=219,
                                                               interpolation=InterpolationMode.BICUBIC))
    files = _odd_photos(photos_dir)
    originals = [images.load_image(data, name, min_side=images.WORKING_MIN_SIDE) for name, data in files]
    copies = [calibration_copy(data, name, loaded) for name, data in files]
    decoded = [images.load_image(copy) for copy in copies]
    assert torch.equal(batch_of(decoded, loaded), batch_of(originals, loaded))
    resize = int(loaded.transform.resize_size[0])
    assert all(min(im.size) == resize for im in decoded)  # the size preprocessing resizes to, not smaller
    assert max(len(c) for c in copies) < 400_000
    with pytest.raises(ImageError):
        calibration_copy(b"not a photo", "notes.jpg", loaded)


@pytest.mark.slow
def test_compression_page_keeps_small_copies_of_32_large_uploads(photos_dir, with_weights, monkeypatch) -> None:
    """32 large uploads: the session holds their small copies only (measured), the uploader starts empty, and
    the page calibrates on exactly the tensors the originals give."""
    from explainer.quant.compare import batch_of
    from pages.caches import quantize as cached

    uploads = large_jpegs(photos_dir / "cat.jpg", 32)
    uploaded_bytes = sum(map(len, uploads))
    assert uploaded_bytes > 32 * 2**20
    batches = []
    real = cached.calibration

    def record_then_stop(*args, **kwargs):
        import streamlit as st

        batch, kept, skipped = real(*args, **kwargs)
        batches.append((batch, kept, skipped))
        st.stop()  # the calibration batch is what this test checks: no need to quantize 32 photos here

    monkeypatch.setattr(cached, "calibration", record_then_stop)
    at = run_page("pages/quantize.py", "en", timeout=600)
    at.radio(key="cal").set_value("uploads").run()
    assert not at.exception
    before = held_by_session(at)
    at.file_uploader(key="quant_cal_upload").set_value(
        [(f"photo{i:02d}.jpg", data, "image/jpeg") for i, data in enumerate(uploads)]).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    at.run()  # the next run shows the uploader under its new key, empty; the copies stay
    assert not at.exception
    assert at.file_uploader(key="quant_cal_upload_g1").value == []
    held = held_by_session(at) - before
    print(f"\n32 uploads of {uploaded_bytes / 2**20:.1f} MB: the session holds {held / 2**20:.2f} MB "
          f"({held / 32 / 1024:.0f} KB per photo)")
    assert held < SESSION_LIMIT_BYTES
    assert len(at.session_state["quant_cal_kept"]) == 32
    assert t("kept.calibration_count", "en", n=32, limit=32) in [c.value for c in at.caption]
    batch, kept, skipped = batches[-1]
    assert kept == tuple(range(32)) and not skipped
    originals = [images.load_image(data, "x.jpg", min_side=images.WORKING_MIN_SIDE) for data in uploads]
    from explainer.weights import load_pretrained

    loaded = load_pretrained("mobilenet_v2", with_weights, download=False)
    assert torch.equal(batch, batch_of(originals, loaded))
    # a 33rd photo is refused in one line; "clear" empties the set
    at.file_uploader(key="quant_cal_upload_g1").set_value([("one_more.jpg", uploads[0], "image/jpeg")]).run()
    assert not at.exception
    assert t("errors.limits.calibration_too_many", "en", n=33, limit=32) in [e.value.replace("\\", "") for e in at.error]
    assert len(at.session_state["quant_cal_kept"]) == 32
    at.button(key="quant_cal_clear").click().run()
    assert not at.exception and at.session_state["quant_cal_kept"] == []
    assert t("quant.calibration_waiting", "en") in [i.value for i in at.info]
