"""A hall of strangers (issue 26): no upload, link or click can take a worker's memory or CPU, inject Markdown
or HTML, or show a traceback; each finding with its test. Memory is measured in a fresh subprocess (peak RSS
growth over the RSS before the step, so other tests cannot disturb it) against :data:`LIMIT_MB`."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest
import torch
from PIL import Image

from explainer.errors import ImageError, InvalidInputError
from explainer.i18n import t
from explainer.safe_text import code_text, markdown_text, plotly_text, printable
from explainer.singleflight import SingleFlight
from explainer.transfer import datasets as ds
from explainer.transfer.head import FORMAT, VERSION, Head, head_bytes, read_head
from tests.conftest import ROOT, run_page

#: The most one upload or click may grow a worker's memory.
LIMIT_MB = 300

# Peak RSS is read from /proc/self/status (VmHWM, reset to the current RSS before the step where the kernel
# allows it): getrusage's ru_maxrss is carried over from the parent across fork and exec, so a subprocess of a
# large pytest process would report the parent's peak.
PROBE = """
import json, sys
sys.path.insert(0, {root!r})
def status(field):
    for line in open('/proc/self/status'):
        if line.startswith(field + ':'):
            return int(line.split()[1]) / 1024
{setup}
try:
    with open('/proc/self/clear_refs', 'w') as handle:
        handle.write('5')
except OSError:
    pass
before = status('VmRSS')
try:
{step}
    outcome = "ok"
except Exception as err:  # the step's one-line error, if any
    outcome = type(err).__name__ + ": " + str(err)
print(json.dumps({{"growth_mb": status('VmHWM') - before, "outcome": outcome}}))
"""


def probe(setup: str, step: str) -> dict:
    """Run ``setup`` then ``step`` in a fresh Python; the peak RSS growth of ``step`` and its outcome."""
    code = PROBE.format(root=str(ROOT), setup=setup, step="\n".join("    " + line for line in step.splitlines()))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def stride0_head(rows: int = 200_000, cols: int = 100_000) -> bytes:
    """A 2 KB head file whose weight is a stride-0 view declaring rows × cols floats (80 GB here)."""
    buffer = io.BytesIO()
    torch.save({"format": FORMAT, "version": VERSION, "model": "mobilenet_v2", "weights_id": "", "classes": ["a", "b"],
                "weight": torch.zeros(1).expand(rows, cols), "bias": torch.zeros(1).expand(rows)}, buffer)
    return buffer.getvalue()


def one_line_error(err: Exception) -> None:
    text = str(err)
    assert text and "\n" not in text and "Traceback" not in text and "/work" not in text and "/tmp" not in text


# --------------------------------------------------------------------------- head files


def test_stride0_head_file_is_refused_before_any_tensor_op_within_the_memory_limit(tmp_path: Path) -> None:
    data = stride0_head()
    assert len(data) < 4096
    with pytest.raises(InvalidInputError) as info:
        read_head(data, "shared.pt")
    assert info.value.key == "transfer.corrupt_head"
    one_line_error(info.value)
    path = tmp_path / "h.pt"
    path.write_bytes(data)
    result = probe("from explainer.transfer.head import load_head", f"load_head({str(path)!r})")
    assert result["outcome"].startswith("InvalidInputError") and result["growth_mb"] < LIMIT_MB, result


@pytest.mark.parametrize("change", ["model", "classes_md", "control", "non_contiguous", "float64", "too_wide"])
def test_head_file_fields_are_validated(change: str) -> None:
    weight, bias = torch.randn(2, 1280), torch.randn(2)
    fields = {"format": FORMAT, "version": VERSION, "model": "mobilenet_v2", "weights_id": "w",
              "classes": ["ants", "bees"], "weight": weight, "bias": bias}
    if change == "model":
        fields["model"] = "[evil](http://x)"
    elif change == "classes_md":  # Markdown in a name is allowed, but only ever shown escaped (next test)
        fields["classes"] = ["![x](http://e/i.png)", "<b>bees</b>"]
    elif change == "control":
        fields["classes"] = ["ants\x1b[2J", "bees"]
    elif change == "non_contiguous":
        fields["weight"] = torch.randn(1280, 2).T
    elif change == "float64":
        fields["weight"] = weight.double()
    elif change == "too_wide":
        fields["weight"], fields["bias"] = torch.zeros(2, 5000), torch.zeros(2)
    buffer = io.BytesIO()
    torch.save(fields, buffer)
    if change == "classes_md":
        assert read_head(buffer.getvalue()).classes == ("![x](http://e/i.png)", "<b>bees</b>")
        return
    with pytest.raises(InvalidInputError) as info:
        read_head(buffer.getvalue())
    assert info.value.key == "transfer.corrupt_head"


def test_own_head_file_still_round_trips() -> None:
    head = Head("mobilenet_v2", "IMAGENET1K_V2", ("ants", "bees"), torch.randn(2, 1280), torch.randn(2))
    again = read_head(head_bytes(head))
    assert again.classes == head.classes and torch.equal(again.weight, head.weight)


# --------------------------------------------------------------------------- text from users, files and links


def test_names_are_shown_as_text() -> None:
    assert markdown_text("![x](http://e/i.png)") == "\\!\\[x\\]\\(http\\://e/i.png\\)"
    assert markdown_text("www.evil.com") == "www\\.evil.com" and markdown_text("- a") == "\\- a"
    assert markdown_text(":red[big] $x$") == "\\:red\\[big\\] \\$x\\$"
    assert markdown_text("notes.jpg") == "notes.jpg"
    assert plotly_text('<a href="http://e">bees</a>') == '&lt;a href="http://e"&gt;bees&lt;/a&gt;'
    assert printable("a\x1b[31mb\u202ec\nd") == "a[31mbc d" and len(printable("x" * 500)) == 80
    assert code_text("dk=`x`") == "`dk='x'`"


def test_error_messages_show_user_names_as_text() -> None:
    err = ImageError("image.corrupt", name="[click](http://evil)")
    assert "[click](http" not in err.markdown_message("en") and "\\[click\\]" in err.markdown_message("en")


def test_crafted_link_values_are_shown_as_short_code_text() -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params.update({"dk": "![x](http://evil.example/i.png)", "m": "[go](http://evil.example)" + "x" * 200})
    at.switch_page("pages/cost.py").run()
    assert not at.exception
    notices = [w.value for w in at.warning if "could not be used" in w.value]
    assert len(notices) == 1 and "\n" not in notices[0]
    assert "`dk=![x](http://evil.example/i.png)`" in notices[0]
    assert "`m=[go](http://evil.example)" + "x" * 12 + "…`" in notices[0]  # cut to 40 characters


def test_error_details_are_off_for_users() -> None:
    config = (ROOT / ".streamlit" / "config.toml").read_text()
    assert 'showErrorDetails = "none"' in config


def test_share_panel_too_long_for_a_qr_code_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("EXPLAINER_PUBLIC_URL", "http://lecture.example/" + "a" * 4000)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["share_qr"] = True
    at.run()
    assert not at.exception
    shown = [c.value for c in at.caption]
    assert t("limits.qr_too_long", "en", n=len("http://lecture.example/" + "a" * 4000)) in shown


def test_cli_filters_control_characters_from_names(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for name, count in (("\x1b[2Jevil\x07", 1), ("bees", 2)):
        (data / name).mkdir(parents=True)
        for k in range(count):
            Image.new("RGB", (40, 30), (k * 40, 90, 20)).save(data / name / f"{k}.jpg")
    done = subprocess.run([sys.executable, "-m", "explainer", "train", str(data)], capture_output=True, text=True,
                          cwd=ROOT, timeout=300, env={**os.environ, "EXPLAINER_OFFLINE": "1"})
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "[2Jevil" in lines[0]
    assert "\x1b" not in done.stderr and "\x07" not in done.stderr


# --------------------------------------------------------------------------- CPU and memory


def test_cost_timing_refuses_huge_weights_before_allocating() -> None:
    result = probe("from explainer.timing import time_convolutions", "time_convolutions(11, 2048, 2048, 1, 1)")
    # 0.5 G MACs (within the MAC limit) but 2 GB of standard-convolution weights: refused by the tensor budget
    assert result["outcome"].startswith("InvalidInputError") and "MB of tensors" in result["outcome"], result
    assert result["growth_mb"] < 100, result


def test_largest_allowed_timing_stays_within_the_memory_limit() -> None:
    from explainer.timing import MAX_TIMED_BYTES, timed_bytes

    wide, large = (3, 2048, 1024, 14, 1), (3, 256, 256, 112, 1)  # heavy weights; a large unfolded input
    assert all(MAX_TIMED_BYTES * 0.75 < timed_bytes(*shape) <= MAX_TIMED_BYTES for shape in (wide, large))
    assert timed_bytes(3, 2048, 2048, 14, 1) > MAX_TIMED_BYTES  # refused
    result = probe("from explainer.timing import time_convolutions; time_convolutions(3, 8, 8, 8, 1)",
                   f"time_convolutions(*{wide})\ntime_convolutions(*{large})")
    assert result["outcome"] == "ok" and result["growth_mb"] < LIMIT_MB, result


def test_one_timing_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    from explainer import timing

    monkeypatch.setattr(timing, "WAIT_SECONDS", 0.05)
    assert timing.TIMING_LOCK.acquire()
    try:
        with pytest.raises(InvalidInputError) as info:
            timing.time_convolutions(3, 8, 8, 8, 1)
        assert info.value.key == "limits.timing_busy"
    finally:
        timing.TIMING_LOCK.release()
    assert timing.time_convolutions(3, 8, 8, 8, 1).standard.repeats >= 3


def test_large_png_is_kept_at_working_size(tmp_path: Path) -> None:
    """A 40 MP RGBA PNG (the largest accepted) decodes within the limit and is kept at most 1 MP."""
    path = tmp_path / "big.png"
    Image.new("RGBA", (8000, 5000), (10, 20, 30, 128)).save(path)
    result = probe("from explainer.images import load_image", f"""image = load_image({str(path)!r}, min_side=320)
assert image.width * image.height <= 1_000_000 and min(image.size) >= 320, image.size
assert image.getpixel((5, 5)) == (132, 137, 142), image.getpixel((5, 5))""")
    assert result["outcome"] == "ok" and result["growth_mb"] < LIMIT_MB, result


def test_zip_of_large_1bit_pngs_is_refused_by_its_pixel_budget() -> None:
    png = io.BytesIO()
    Image.new("1", (8000, 5000)).save(png, "PNG", optimize=True)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for k in range(12):
            z.writestr(f"{'ab'[k % 2]}/{k}.png", png.getvalue())
    assert len(archive.getvalue()) < 100_000
    with pytest.raises(InvalidInputError) as info:
        ds.read_zip(archive.getvalue(), "bomb.zip")
    assert info.value.key == "limits.zip_pixels"
    one_line_error(info.value)
    # within budget: read (headers only), and the small copies are made
    assert len(ds.read_zip(archive.getvalue(), "ok.zip", max_decode_pixels=10**9).photos) == 12


def test_singleflight_runs_shared_work_once() -> None:
    flight: SingleFlight[int] = SingleFlight()
    started, release = threading.Event(), threading.Event()
    calls = []

    def work() -> int:
        calls.append(1)
        started.set()
        release.wait(30)
        return 42

    results = []
    threads = [threading.Thread(target=lambda: results.append(flight.run("vgg16", work))) for _ in range(8)]
    threads[0].start()
    assert started.wait(30)
    for thread in threads[1:]:
        thread.start()
    assert flight.running("vgg16")
    release.set()
    for thread in threads:
        thread.join(30)
    assert results == [42] * 8 and len(calls) == 1 and flight.computed == 1


def test_compression_cli_reads_at_most_32_calibration_photos(tmp_path: Path) -> None:
    from explainer.quant.compare import MAX_CALIBRATION_PHOTOS, collect_photos

    for k in range(40):
        Image.new("RGB", (64, 48), (k, 2 * k, 3 * k)).save(tmp_path / f"{k:02d}.jpg")
    folder = collect_photos(tmp_path, limit=MAX_CALIBRATION_PHOTOS)
    assert MAX_CALIBRATION_PHOTOS == 32 and len(folder.photos) == 32 and folder.not_read == 8


def test_calibration_cache_keeps_no_file_names() -> None:
    from pages.caches import quantize as cached

    files = (("alice_secret.jpg", b"not a photo"),)
    batch, kept, skipped = cached.calibration.__wrapped__(cached.files_digest(files), files, "w", None)
    assert batch is None and kept == () and [i for i, _ in skipped] == [0]
    assert "alice" not in repr(skipped) and "alice" not in str(skipped[0][1].params)


def test_reconnect_into_a_fresh_session_is_told_in_one_line() -> None:
    from streamlit.proto.WidgetStates_pb2 import WidgetStates
    from streamlit.testing.v1 import AppTest

    first = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    first.run()
    assert t("limits.reconnected", "en") not in [w.value for w in first.warning]
    states = WidgetStates()  # what the browser sends when it reconnects: the widget values it still shows
    state = states.widgets.add()
    state.id, state.string_value = "$$ID-0123456789abcdef-lang", "en"
    fresh = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    fresh._run(states)  # noqa: SLF001 - AppTest's public run() cannot send a first run's widget states
    assert not fresh.exception
    assert [w.value for w in fresh.warning].count(t("limits.reconnected", "en")) == 1


# --------------------------------------------------------------------------- the transfer page


@pytest.mark.slow
def test_transfer_page_hostile_head_and_uploads(with_weights) -> None:
    at = run_page("pages/transfer.py", "zh", timeout=300)
    # a stride-0 head file: one line in the user's language, parsed once
    at.file_uploader(key="tl_import").set_value([("shared.pt", stride0_head(), "application/octet-stream")]).run()
    assert not at.exception
    assert [e.value for e in at.error] == [t("errors.transfer.corrupt_head", "zh", name="shared.pt")]
    parsed = at.session_state["tl_import_parsed"]
    at.run()
    assert at.session_state["tl_import_parsed"] is parsed  # not parsed again on a rerun
    # a shared head whose class names carry Markdown and HTML: shown as text
    head = Head("mobilenet_v2", "x", ("![i](http://evil.example/i.png)", "<a href='http://e'>bees</a>"),
                torch.zeros(2, 1280), torch.zeros(2))
    at.file_uploader(key="tl_import").set_value([("h.pt", head_bytes(head), "application/octet-stream")]).run()
    assert not at.exception and not at.error
    captions = " ".join(c.value for c in at.caption)
    assert "![i](http" not in captions and "\\!\\[i\\]" in captions
    labels = json.dumps([json.loads(c.proto.spec) for c in at.get("plotly_chart")])
    assert "<a href" not in labels and "&lt;a href" in labels
    # an uploaded photo: kept as a small copy, the upload itself released (the uploader starts empty)
    photo = io.BytesIO()
    Image.new("RGB", (1200, 900), (200, 30, 40)).save(photo, "PNG")
    at.file_uploader(key="tl_up_0").set_value([("red.png", photo.getvalue(), "image/png")]).run()
    assert not at.exception
    photos = at.session_state["tl_photos"]
    assert len(photos) == 1 and len(photos[0].data) < 60_000
    at.run()  # the next run shows the uploader under its new key, empty; the photo stays
    assert at.file_uploader(key="tl_up_0_g1").value == [] and len(at.session_state["tl_photos"]) == 1
    assert "tl_up_0" not in [u.key for u in at.get("file_uploader")]


# --------------------------------------------------------------------------- instruments


def test_load_test_students_upload_distinct_bytes(shared_images) -> None:
    from bench.loadtest import distinct_photo, shared_photos

    photos = shared_photos()
    mine = [distinct_photo(photos[i % len(photos)], i) for i in range(60)]
    assert len({p.data for p in mine}) == 60  # no two simulated students send the same file
    for original, copy in zip(photos, mine):
        before, after = Image.open(io.BytesIO(original.data)), Image.open(io.BytesIO(copy.data))
        assert 0 < before.width - after.width <= 24 and 0 < before.height - after.height <= 24
        assert copy.accepted == original.accepted


@pytest.mark.slow
def test_load_test_copies_are_still_recognised(shared_images, weights_dir) -> None:
    """The cropped copies keep their photo's answer: the load test's check (an accepted label in the top-5) holds."""
    from bench.loadtest import distinct_photo, shared_photos
    from explainer.classify import classify_source
    from explainer.weights import load_pretrained

    loaded = load_pretrained("mobilenet_v2", weights_dir)
    photos = shared_photos()
    for i in range(2 * len(photos)):
        copy = distinct_photo(photos[i % len(photos)], i)
        labels = [p.label for p in classify_source(copy.data, loaded, name=copy.name).predictions]
        assert set(labels) & set(copy.accepted), (copy.name, labels)


def test_browser_tests_cover_the_compression_page() -> None:
    from tests.e2e.helpers import PAGES

    assert PAGES["quantize"] == "pages/quantize.py"


def test_cost_page_refuses_a_link_that_would_allocate_gigabytes() -> None:
    """dk=11, M=N=2048, D_F=1 is within every slider and the MAC limit, but its weights alone are 2 GB."""
    at = run_page("pages/cost.py", "zh", dk=11, m=2048, n=2048, df=1)
    assert not at.exception and not at.error
    at.button(key="cost_time").click().run()
    assert not at.exception
    assert len(at.error) == 1 and "\n" not in at.error[0].value
    assert at.error[0].value == t("errors.limits.timing_memory", "zh", mb="3,907", limit=192)


def test_zoo_page_measures_each_network_once_for_everyone(monkeypatch: pytest.MonkeyPatch) -> None:
    from explainer.zoo import roofline
    from pages.caches.zoo import layer_time_store

    layer_time_store.clear()  # a fresh process's store

    monkeypatch.setenv("EXPLAINER_ZOO_LATENCY", "off")
    calls: list[str] = []

    def fake_time_layers(model: str, resolution: int = 224, repeats: int = 7) -> dict[str, float]:
        calls.append(model)
        return {}

    monkeypatch.setattr(roofline, "time_layers", fake_time_layers)
    for _ in range(2):  # two students press "Measure" for MobileNetV2
        at = run_page("pages/zoo.py", "en", timeout=300)
        assert not at.exception
        buttons = [b for b in at.button if b.key == "roof_time"]
        if buttons:
            buttons[0].click().run()
            assert not at.exception
    assert calls.count("mobilenet_v2") == 1 and calls.count("vgg16") == 1
