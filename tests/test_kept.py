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
    assert len(at.session_state["quant_cal_upload_kept"]) == 32
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
    assert len(at.session_state["quant_cal_upload_kept"]) == 32
    at.button(key="quant_cal_upload_clear").click().run()
    assert not at.exception and at.session_state["quant_cal_upload_kept"] == []
    assert t("quant.calibration_waiting", "en") in [i.value for i in at.info]


# --------------------------------------------------------------------------- kept heads


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path, monkeypatch) -> str:
    """The shared store as the app finds it (``EXPLAINER_DATABASE_URL``): an SQLite file, or a real PostgreSQL."""
    from explainer.lecture import store

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'lecture.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
    monkeypatch.setenv(store.DATABASE_URL_ENV, url)
    yield url
    if request.param == "sqlite":
        store.forget_engine(url)
    else:
        from explainer.lecture.kept import KeptHeads, kept_heads

        with KeptHeads(url).engine.begin() as connection:
            connection.execute(kept_heads.delete())


def _head(classes=("ants", "bees"), dim: int = 1280, seed: int = 0):
    from explainer.transfer.head import Head

    generator = torch.Generator().manual_seed(seed)
    return Head("mobilenet_v2", "test", tuple(classes), torch.randn(len(classes), dim, generator=generator),
                torch.randn(len(classes), generator=generator))


CRAFTED_TOKENS = ["", "x", "A" * 31, "A" * 33, "../../etc/passwd", "' OR 1=1 --", "A" * 100_000,
                  "ÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄ", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", None, 12345]


def test_kept_heads_round_trip_bounds_and_tokens(database) -> None:
    from sqlalchemy import select

    from explainer.errors import InvalidInputError
    from explainer.lecture import kept
    from explainer.transfer.head import head_bytes

    head = _head()
    token = kept.new_token()
    assert kept.valid_token(token) and kept.new_token() != token
    assert kept.keep_head(token, head)
    back = kept.kept_head(token)
    assert back is not None and back.classes == head.classes
    assert torch.equal(back.weight, head.weight) and torch.equal(back.bias, head.bias)
    features = np.random.default_rng(1).normal(size=(3, 1280)).astype(np.float32)
    assert np.array_equal(back.probabilities(features), head.probabilities(features))
    # only the token's hash is stored: the database gives no working link
    with kept.KeptHeads().engine.connect() as connection:
        stored = [row[0] for row in connection.execute(select(kept.kept_heads.c.token_hash))]
    assert token not in stored and len(stored[0]) == 64
    # unknown and crafted tokens: nothing, never an error
    assert kept.kept_head(kept.new_token()) is None
    for crafted in CRAFTED_TOKENS:
        assert kept.kept_head(crafted) is None
    # a stored entry that is not a valid head file (or a hostile one) goes through read_head's checks: nothing
    bad = kept.new_token()
    kept.KeptHeads().put(bad, b"PK\x03\x04 not a head")
    assert kept.kept_head(bad) is None
    # one entry is bounded; a too-large one is refused in one line, and keep_head says False
    with pytest.raises(InvalidInputError):
        kept.KeptHeads().put(kept.new_token(), b"x" * (kept.MAX_ENTRY_BYTES + 1))
    with pytest.raises(InvalidInputError):
        kept.KeptHeads().put("../../x", b"x")
    big = _head(classes=[f"c{i}" for i in range(10)], dim=4096)
    assert len(head_bytes(big)) > kept.MAX_ENTRY_BYTES and not kept.keep_head(kept.new_token(), big)
    assert len(head_bytes(_head(classes=[f"c{i}" for i in range(10)]))) < kept.MAX_ENTRY_BYTES  # the largest real one


def test_kept_heads_expire_and_the_table_is_bounded(database, monkeypatch) -> None:
    from explainer.lecture import kept

    now = [1_000_000.0]
    store = kept.KeptHeads(clock=lambda: now[0])
    first = kept.new_token()
    store.put(first, b"first")
    now[0] += kept.EXPIRY_HOURS * 3600 - 1
    assert store.get(first) == b"first"
    now[0] += 2
    assert store.get(first) is None  # expired
    assert store.count() == 1
    store.put(kept.new_token(), b"second")  # a write purges what expired
    assert store.count() == 1
    monkeypatch.setattr(kept, "MAX_ENTRIES", 3)
    tokens = []
    for i in range(5):
        now[0] += 1
        tokens.append(kept.new_token())
        store.put(tokens[-1], f"entry {i}".encode())
    assert store.count() == 3  # the oldest went first
    assert [store.get(tok) for tok in tokens] == [None, None, b"entry 2", b"entry 3", b"entry 4"]
    store.put(tokens[2], b"replaced")  # the same token again replaces its entry
    assert store.get(tokens[2]) == b"replaced" and store.count() == 3


def _probabilities(at) -> dict[str, float]:
    import json

    chart = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if c.proto.id and "tl_probs" in c.proto.id)
    bar = chart["data"][0]
    return dict(zip(bar["y"], bar["x"])) if bar.get("orientation") == "h" else dict(zip(bar["x"], bar["y"]))


@pytest.mark.slow
def test_trained_head_survives_a_worker_restart(database, datasets_dir, with_weights) -> None:
    """Train on the page; a new session opened with only the URL (the worker died) gets the head back: the same
    probabilities on the same photo, and one line saying so. Crafted tokens: one line, no traceback."""
    from streamlit.testing.v1 import AppTest

    from explainer.lecture import kept
    from tests.conftest import ROOT

    folder = datasets_dir / "ants_bees" / "train"
    at = run_page("pages/transfer.py", "en", timeout=600)
    for i, cls in enumerate(("ants", "bees")):
        photos = sorted((folder / cls).iterdir())[:6]
        at.file_uploader(key=f"tl_up_{i}").set_value([(p.name, p.read_bytes(), "image/jpeg") for p in photos])
    at.run()
    at.button(key="tl_train").click().run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    token = at.query_params.get("kept")
    token = token[0] if isinstance(token, list) else token
    assert kept.valid_token(token) and token == at.session_state["tl_kept_token"]
    trained = at.session_state["tl_run"]["run"].trained.head
    before = _probabilities(at)
    assert len(before) == 2

    fresh = AppTest.from_file(str(ROOT / "pages/transfer.py"), default_timeout=600)  # the worker died
    fresh.session_state["lang"] = "en"
    fresh.query_params["kept"] = token
    fresh.run()
    assert not fresh.exception and not fresh.error, (fresh.exception, [e.value for e in fresh.error])
    names = ", ".join(t("transfer.default_class", "en", k=k) for k in (1, 2))
    assert [s.value for s in fresh.success] == [t("kept.head_restored", "en", classes=names)]
    assert "tl_run" not in fresh.session_state
    restored = fresh.session_state["tl_restored"]
    assert torch.equal(restored.weight, trained.weight) and torch.equal(restored.bias, trained.bias)
    assert _probabilities(fresh) == before  # the same photo, the same numbers
    fresh.run()  # a rerun keeps it (and the token stays in the URL)
    assert _probabilities(fresh) == before and fresh.query_params.get("kept") in (token, [token])

    for crafted in ("nope", "A" * 32, "<script>alert(1)</script>", kept.new_token()):
        other = AppTest.from_file(str(ROOT / "pages/transfer.py"), default_timeout=600)
        other.session_state["lang"] = "zh"
        other.query_params["kept"] = crafted
        other.run()
        assert not other.exception and not other.error
        infos = [i.value for i in other.info]
        assert infos.count(t("kept.head_none", "zh", hours=kept.EXPIRY_HOURS)) == 1 and not other.success
        assert t("transfer.train_first", "zh") in [i.value for i in other.info]



# --------------------------------------------------------------------------- the Export page's calibration uploads


def test_working_copy_gives_the_originals_pixels_exactly(photos_dir) -> None:
    files = _odd_photos(photos_dir)
    for name, data in files:
        original = images.load_image(data, name, min_side=images.WORKING_MIN_SIDE)
        again = images.load_image(images.working_copy(data, name))
        assert again.size == original.size and again.tobytes() == original.tobytes(), name


@pytest.mark.slow
def test_export_page_keeps_copies_that_calibrate_exactly_at_every_resolution(photos_dir, with_weights,
                                                                                 monkeypatch) -> None:
    """Uploaded calibration photos on the Export page: copies kept, uploads released, and the batch at two
    resolutions is exactly the originals' (the copies are at working size, not one resolution's)."""
    from explainer.deploy import pte

    if not pte.executorch_available():
        pytest.skip("ExecuTorch is not installed")
    from pages.caches import export as cached

    uploads = large_jpegs(photos_dir / "bird.jpg", 8)
    calls = []
    real = cached.uploaded_photos

    def recording(digest, resolution, weights_id, _files, _network, copies=False):
        result = real(digest, resolution, weights_id, _files, _network, copies)
        calls.append((resolution, result[0], _network))
        return result

    monkeypatch.setattr(cached, "uploaded_photos", recording)
    at = run_page("pages/export.py", "en", timeout=600, w=0.5, res=112, dtype="int8", cal="uploads")
    assert not at.exception, at.exception
    before = held_by_session(at)
    at.file_uploader(key="export_cal_upload").set_value(
        [(f"p{i}.jpg", data, "image/jpeg") for i, data in enumerate(uploads)]).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    at.run()
    assert at.file_uploader(key="export_cal_upload_g1").value == []
    held = held_by_session(at) - before
    print(f"\n8 uploads of {sum(map(len, uploads)) / 2**20:.1f} MB: the Export session holds {held / 2**20:.2f} MB")
    assert held < 8 * 600 * 1024
    originals = [images.load_image(data, "x.jpg", min_side=images.WORKING_MIN_SIDE) for data in uploads]
    resolution, batch, network = calls[-1]
    assert resolution == 112 and torch.equal(batch, network.batch(originals))
    at.select_slider(key="res").set_value(160).run()
    assert not at.exception
    resolution, batch, network = calls[-1]
    assert resolution == 160 and torch.equal(batch, network.batch(originals))


def test_the_token_stays_out_of_shared_links(monkeypatch) -> None:
    """The share panel's link carries the page's settings, never this browser's ``kept`` token."""
    from streamlit.testing.v1 import AppTest

    from pages import url_state

    monkeypatch.setenv(url_state.PUBLIC_URL_ENV, "http://hall.example:8501")
    script = """
import streamlit as st
from pages.url_state import share_url
st.query_params["kept"] = "A" * 32
st.query_params["res"] = "160"
st.text(share_url("export"))
"""
    at = AppTest.from_string(script, default_timeout=60)
    at.session_state["lang"] = "en"
    at.run()
    assert not at.exception, at.exception
    assert at.text[0].value == "http://hall.example:8501/export?res=160"
