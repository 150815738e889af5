"""Transfer learning (explainer.transfer) with the real MobileNetV2 weights and the real ants/bees photos.

The 245 photos' features are computed once per test session (``ants_bees_run``) and reused; everything
else (heads, evaluations, the CLI run in-process) reads them from the feature cache.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from explainer.errors import AssetError, ImageError, InvalidInputError
from explainer.transfer import cam as cams
from explainer.transfer.datasets import (ANTS_BEES, LabelledSet, Photo, balance, check_trainable, demo_folder,
                                         holdout_split, read_image_folder, read_zip, sha256_bytes)
from explainer.transfer.embed import CACHE, embed_photos, pooled_features
from explainer.transfer.head import (check_head_fits, evaluate, head_bytes, load_head, read_head, save_head,
                                     train_head)
from explainer.transfer.pca import pca_2d
from tests.conftest import run_cli


@pytest.fixture(scope="session")
def ants_bees_dir(datasets_dir: Path) -> Path:
    """The shared ants/bees training photos (through the ``datasets_dir`` fixture, so the run counts their use)."""
    return datasets_dir / "ants_bees" / "train"


@pytest.fixture(scope="session")
def v2(weights_dir: Path):
    from explainer.weights import load_pretrained

    return load_pretrained("mobilenet_v2", weights_dir, download=False)


@pytest.fixture(scope="session")
def ants_bees_run(ants_bees_dir: Path, v2):
    """The whole set read, embedded (once per session) and trained on with the automatic hold-out."""
    from explainer.transfer.teach import fit

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the app does: far faster than 2 threads on a busy 2-core machine
    try:
        return fit(read_image_folder(ants_bees_dir), v2)
    finally:
        torch.set_num_threads(threads)


# --------------------------------------------------------------------------
# Reading folders and zips
# --------------------------------------------------------------------------


def test_real_folder_skips_and_reports_the_gif_placeholder(ants_bees_dir: Path) -> None:
    data = read_image_folder(ants_bees_dir)
    assert data.classes == ("ants", "bees")
    assert data.counts() == [123, 121]  # 124 ant files, one of them the GIF placeholder
    assert [s.name for s in data.skipped] == ["ants/imageNotFound.gif"]
    assert "GIF" in data.skipped[0].as_dict()["reason"]
    names = {p.name for p in data.photos}
    assert "ants/ant photos.jpg" in names and "ants/formica.jpeg" in names  # a space, a .jpeg suffix
    assert all(p.data is None and p.path is not None for p in data.photos)  # folders stay on disk
    assert data.photos[0].digest == sha256_bytes(data.photos[0].path.read_bytes())
    # The folder holding train/ is read from train/.
    assert read_image_folder(ants_bees_dir.parent).counts() == [123, 121]


def test_holdout_split_is_every_fifth_photo_per_class() -> None:
    labels = np.array([0] * 123 + [1] * 121)
    train, held = holdout_split(labels)
    assert len(held) == 24 + 24 and len(train) == 244 - 48
    assert set(train).isdisjoint(held) and sorted([*train, *held]) == list(range(244))
    assert list(held[:3]) == [4, 9, 14] and 123 + 4 in held
    small_train, small_held = holdout_split([0, 0, 1, 1, 1])
    assert list(small_held) == [1, 4] and list(small_train) == [0, 2, 3]


def _photo_bytes(ants_bees_dir: Path, cls: str, n: int) -> list[tuple[str, bytes]]:
    files = sorted(p for p in (ants_bees_dir / cls).iterdir() if p.suffix == ".jpg")[:n]
    return [(p.name, p.read_bytes()) for p in files]


def test_zip_in_imagefolder_layout(ants_bees_dir: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        for cls in ("ants", "bees"):
            for name, data in _photo_bytes(ants_bees_dir, cls, 3):
                zipped.writestr(f"hymenoptera_data/train/{cls}/{name}", data)
                zipped.writestr(f"hymenoptera_data/val/{cls}/{name}", data)
        zipped.writestr("hymenoptera_data/train/ants/notes.jpg", b"this is text, not a photo")
        zipped.writestr("hymenoptera_data/train/readme.txt", b"loose file")
        zipped.writestr("__MACOSX/hymenoptera_data/train/ants/._x.jpg", b"junk")
        zipped.writestr("../evil/ants/x.jpg", b"escape attempt")
    data = read_zip(buffer.getvalue(), "set.zip")
    assert data.classes == ("ants", "bees") and data.counts() == [3, 3]  # train/ chosen over val/
    skipped = {s.name: s for s in data.skipped}
    assert "ants/notes.jpg" in skipped and "../evil/ants/x.jpg" in skipped
    assert all(p.data is not None for p in data.photos)  # in memory, nothing extracted to disk


def test_bad_zips(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InvalidInputError) as err:
        read_zip(b"PK\x03\x04 not really a zip", "x.zip")
    assert err.value.key == "transfer.bad_zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("a/1.jpg", b"\0" * 10_000)
        zipped.writestr("b/1.jpg", b"\0" * 10_000)
    monkeypatch.setattr("explainer.transfer.datasets.MAX_ZIP_BYTES", 5_000)
    with pytest.raises(InvalidInputError) as err:
        read_zip(buffer.getvalue(), "bomb.zip")
    assert err.value.key == "transfer.zip_too_large"
    flat = io.BytesIO()
    with zipfile.ZipFile(flat, "w") as zipped:
        zipped.writestr("1.jpg", b"x")
    with pytest.raises(InvalidInputError) as err:
        read_zip(flat.getvalue(), "flat.zip")
    assert err.value.key == "transfer.zip_layout"


def test_checks_name_the_problem(tmp_path: Path, ants_bees_dir: Path, photos_dir: Path) -> None:
    (tmp_path / "cats").mkdir()
    (tmp_path / "dogs").mkdir()
    (tmp_path / "empty_dir").mkdir()
    cat = (photos_dir / "cat.jpg").read_bytes()
    (tmp_path / "cats" / "1.jpg").write_bytes(cat)
    (tmp_path / "cats" / "2.jpg").write_bytes(cat[: len(cat) // 2])  # truncated: header fine, pixels broken
    (tmp_path / "dogs" / "1.jpg").write_bytes(b"not a photo")
    data = read_image_folder(tmp_path)
    assert data.classes == ("cats", "dogs", "empty_dir")
    assert [s.name for s in data.skipped] == ["dogs/1.jpg"]
    with pytest.raises(InvalidInputError) as err:
        check_trainable(data)
    assert err.value.key == "transfer.empty_class" and err.value.params["name"] == "dogs"
    with pytest.raises(InvalidInputError) as err:  # a class folder with one photo
        check_trainable(LabelledSet(("a", "b"), (Photo("x", 0, "1"), Photo("y", 1, "2"), Photo("z", 1, "3"))))
    assert err.value.key == "transfer.too_few_photos" and err.value.params["name"] == "a"
    with pytest.raises(InvalidInputError) as err:
        read_image_folder(tmp_path / "missing")
    assert err.value.key == "transfer.no_folder"
    with pytest.raises(InvalidInputError) as err:
        read_image_folder(tmp_path / "empty_dir")
    assert err.value.key == "transfer.empty_folder"
    assert balance(LabelledSet(("a", "b"), (Photo("x", 0, "1"), Photo("y", 0, "2"), Photo("z", 0, "3"),
                                            Photo("w", 1, "4")))).ratio == 3.0


def test_broken_pixels_are_skipped_when_embedding(tmp_path: Path, v2, photos_dir: Path) -> None:
    cat = (photos_dir / "cat.jpg").read_bytes()
    broken = cat[: len(cat) // 3]
    photos = [Photo("ok.jpg", 0, sha256_bytes(cat), cat), Photo("broken.jpg", 0, sha256_bytes(broken), broken)]
    result = embed_photos(photos, v2, cache=None)
    assert list(result.kept) == [0] and result.features.shape == (1, 1280)
    assert [s.name for s in result.skipped] == ["broken.jpg"] and isinstance(result.skipped[0].error, ImageError)


# --------------------------------------------------------------------------
# Features, head, accuracy (real weights, real photos)
# --------------------------------------------------------------------------


def test_features_are_what_the_imagenet_classifier_reads(v2, photos_dir: Path) -> None:
    from explainer.classify import preprocess
    from explainer.images import load_image

    batch = preprocess(load_image(photos_dir / "cat.jpg"), v2)
    features = pooled_features(v2, batch)
    assert features.shape == (1, 1280)
    linear = v2.model.classifier[1]
    with torch.no_grad():
        logits = v2.model(batch)
        torch.testing.assert_close(features @ linear.weight.T + linear.bias, logits, rtol=1e-4, atol=1e-4)


def test_held_out_accuracy_on_ants_and_bees(ants_bees_run) -> None:
    run = ants_bees_run
    assert (len(run.train_idx), len(run.holdout_idx)) == (196, 48)
    assert run.holdout.accuracy >= 0.92, run.holdout.accuracy
    confusion = run.holdout.confusion
    assert confusion.sum() == 48 and np.trace(confusion) == round(run.holdout.accuracy * 48)
    assert confusion.sum(axis=1).tolist() == [24, 24]  # rows = true class
    wrong = run.holdout.misclassified
    assert len(wrong) == 48 - np.trace(confusion)
    assert all(run.holdout.labels[i] != run.holdout.predicted[i] for i in wrong)
    assert len(run.trained.curve) > 5 and run.trained.curve[-1].loss < run.trained.curve[0].loss
    assert [s.name for s in run.data.skipped] == ["ants/imageNotFound.gif"]


def test_five_photos_per_class(ants_bees_run) -> None:
    run = ants_bees_run
    labels = run.labels
    train = np.concatenate([np.flatnonzero(labels == c)[:5] for c in (0, 1)])
    rest = np.setdiff1d(np.arange(len(labels)), train)
    trained = train_head(run.features[train], labels[train], run.data.classes, model="mobilenet_v2")
    accuracy = evaluate(trained.head, run.features[rest], labels[rest]).accuracy
    assert accuracy >= 0.80, accuracy


def test_head_is_deterministic_and_optimal(ants_bees_run) -> None:
    """Two trainings give the same weights, and the result satisfies the optimality condition of the
    regularised logistic regression: the gradient of the objective vanishes (computed independently here)."""
    run = ants_bees_run
    x, y = run.features[run.train_idx], run.labels[run.train_idx]
    again = train_head(x, y, run.data.classes, model="mobilenet_v2", weights_id=run.trained.head.weights_id)
    assert torch.equal(again.head.weight, run.trained.head.weight) and torch.equal(again.head.bias, run.trained.head.bias)
    w = run.trained.head.weight.double().clone().requires_grad_(True)
    b = run.trained.head.bias.double().clone().requires_grad_(True)
    xt = torch.as_tensor(x, dtype=torch.float64)
    loss = torch.nn.functional.cross_entropy(xt @ w.T + b, torch.as_tensor(y)) + 0.5 * 1e-3 * (w * w).sum()
    gw, gb = torch.autograd.grad(loss, (w, b))
    assert float(gw.abs().max()) < 1e-4 and float(gb.abs().max()) < 1e-4


def test_head_file_round_trip_and_bad_files(ants_bees_run, tmp_path: Path) -> None:
    head = ants_bees_run.trained.head
    path = save_head(head, tmp_path / "head.pt")
    assert path.stat().st_size < 20_000
    back = load_head(path)
    assert (back.model, back.classes, back.weights_id) == (head.model, head.classes, head.weights_id)
    assert torch.equal(back.weight, head.weight) and torch.equal(back.bias, head.bias)
    features = ants_bees_run.features[:5]
    np.testing.assert_array_equal(back.probabilities(features), head.probabilities(features))
    with pytest.raises(InvalidInputError) as err:
        check_head_fits(back, "mobilenet_v3_small", 576)
    assert err.value.key == "transfer.head_other_model"
    bad = [b"", b"garbage", head_bytes(head)[:200]]
    buffer = io.BytesIO()
    torch.save({"format": "something-else", "weight": head.weight}, buffer)
    bad.append(buffer.getvalue())
    buffer = io.BytesIO()
    torch.save({"format": "mobilenet-explainer-head", "version": 1, "model": "mobilenet_v2", "classes": ["a"],
                "weight": head.weight, "bias": head.bias}, buffer)  # one class for a two-row matrix
    bad.append(buffer.getvalue())
    for data in bad:
        with pytest.raises(InvalidInputError) as err:
            read_head(data, "x.pt")
        assert err.value.key == "transfer.corrupt_head"


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo should-never-run",))


def test_head_file_with_code_is_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    torch.save({"format": "mobilenet-explainer-head", "payload": _Evil()}, buffer)
    with pytest.raises(InvalidInputError) as err:
        read_head(buffer.getvalue(), "evil.pt")
    assert err.value.key == "transfer.corrupt_head"


def test_feature_cache_is_hit(ants_bees_run, v2) -> None:
    photos = ants_bees_run.data.photos[:10]
    result = embed_photos(photos, v2)
    assert result.computed == 0 and CACHE.hits >= 10
    np.testing.assert_array_equal(result.features, ants_bees_run.features[:10])


def test_pca_agrees_with_the_covariance_eigenvectors(ants_bees_run) -> None:
    x = ants_bees_run.features.astype(np.float64)
    projection = pca_2d(x)
    centred = x - x.mean(axis=0)
    # The covariance's nonzero eigenvalues are those of the small N×N Gram matrix, / (N - 1).
    eigenvalues = np.linalg.eigvalsh(centred @ centred.T)[::-1] / (len(x) - 1)
    np.testing.assert_allclose(projection.explained, eigenvalues[:2] / eigenvalues.clip(0).sum(), rtol=1e-6)
    np.testing.assert_allclose(projection.points.var(axis=0, ddof=1), eigenvalues[:2], rtol=1e-6)
    np.testing.assert_allclose(projection.project(x[:3]), projection.points[:3], atol=1e-9)


# --------------------------------------------------------------------------
# Class-activation maps
# --------------------------------------------------------------------------


def _pasted(photo: Path, corner: str, size: int = 448) -> Image.Image:
    """``photo`` shrunk into one quadrant of a plain grey canvas."""
    canvas = Image.new("RGB", (size, size), (128, 128, 128))
    tile = Image.open(photo).convert("RGB").resize((size // 2, size // 2))
    x = 0 if "left" in corner else size // 2
    y = 0 if "top" in corner else size // 2
    canvas.paste(tile, (x, y))
    return canvas


def _assert_on_quadrant(result, corner: str) -> None:
    """The map's peak lies in the quadrant holding the photo, and most of its mass too (uniform: 1/4)."""
    heat = result.upsampled()
    half = heat.shape[0] // 2
    quadrants = {"top-left": heat[:half, :half], "top-right": heat[:half, half:],
                 "bottom-left": heat[half:, :half], "bottom-right": heat[half:, half:]}
    mass = {name: float(part.sum() / heat.sum()) for name, part in quadrants.items()}
    assert max(mass, key=mass.get) == corner and mass[corner] > 0.4, mass
    row, col = result.peak()
    assert (row <= 0.5 and col <= 0.5) if corner == "top-left" else (row >= 0.5 and col >= 0.5), (row, col)


@pytest.mark.parametrize("corner", ["top-left", "bottom-right"])
def test_imagenet_cam_peaks_on_the_cat(v2, corner: str, photos_dir: Path) -> None:
    state = {k: v.clone() for k, v in v2.model.state_dict().items()}
    from explainer.classify import classify_image

    cat = photos_dir / "cat.jpg"
    top = classify_image(Image.open(cat).convert("RGB"), v2, 1).predictions[0]  # the class of the photo alone
    assert top.label in ("tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat")
    result = cams.imagenet_cam(_pasted(cat, corner), v2, top.index)
    assert result.class_name == top.label
    _assert_on_quadrant(result, corner)
    # The shared model is untouched: same weights, no gradients left behind, no hooks.
    assert all(torch.equal(state[k], v) for k, v in v2.model.state_dict().items())
    assert all(p.grad is None for p in v2.model.parameters())
    assert not any(m._forward_hooks or m._backward_hooks for m in v2.model.modules())


def test_grad_cam_equals_cam_for_a_linear_classifier(v2, photos_dir: Path) -> None:
    """MobileNetV2's classifier is linear on pooled features, so autograd's Grad-CAM must equal the
    class-activation map computed from the classifier's weights."""
    from explainer.classify import preprocess
    from explainer.transfer.head import Head

    image = Image.open(photos_dir / "bird.jpg").convert("RGB")
    grad = cams.imagenet_cam(image, v2)
    linear = v2.model.classifier[1]
    as_head = Head("mobilenet_v2", v2.weights_id, tuple(f"c{i}" for i in range(1000)), linear.weight.detach(),
                   linear.bias.detach())
    direct = cams.head_cam(image, v2, as_head, grad.class_index)
    np.testing.assert_allclose(grad.cam, direct.cam, atol=1e-5)
    assert preprocess(image, v2).shape[-1] == grad.input_image.shape[0]


def test_head_cam_finds_the_ant_and_the_bee(ants_bees_run, v2) -> None:
    """An unseen ant (top-left) and an unseen bee (bottom-right) on one grey canvas: the map of class
    "ants" lies on the ant, the map of class "bees" on the bee."""
    run = ants_bees_run
    head = run.trained.head
    held = run.holdout_idx
    ants = [run.data.photos[i].path for i in held if run.labels[i] == 0][:3]
    bees = [run.data.photos[i].path for i in held if run.labels[i] == 1][:3]
    for ant, bee in zip(ants, bees):
        canvas = _pasted(ant, "top-left")
        canvas.paste(_pasted(bee, "bottom-right").crop((224, 224, 448, 448)), (224, 224))
        _assert_on_quadrant(cams.head_cam(canvas, v2, head, head.classes.index("ants")), "top-left")
        result = cams.head_cam(canvas, v2, head, head.classes.index("bees"))
        _assert_on_quadrant(result, "bottom-right")
    shown = cams.overlay(result.input_image, result.cam, 0.5)
    assert shown.shape == result.input_image.shape and shown.dtype == np.uint8


# --------------------------------------------------------------------------
# Fine-tuning (small: 8 photos per class, one epoch)
# --------------------------------------------------------------------------


@pytest.mark.slow
def test_fine_tune_last_block_leaves_the_shared_model_alone(ants_bees_run, v2) -> None:
    from explainer.transfer.finetune import fine_tune

    run = ants_bees_run
    labels = run.labels
    train = np.concatenate([np.flatnonzero(labels == c)[:8] for c in (0, 1)])
    held = np.concatenate([np.flatnonzero(labels == c)[8:12] for c in (0, 1)])
    state = {k: v.clone() for k, v in v2.model.state_dict().items()}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = fine_tune(run.data.photos, labels, train, held, v2, run.trained.head, blocks=1, epochs=1)
    finally:
        torch.set_num_threads(threads)
    last = v2.model.features[-1]  # 1×1 conv 320 → 1280 + batch norm: what blocks=1 trains
    expected = sum(p.numel() for p in last.parameters()) + 2 * 1280 + 2
    assert result.trainable_params == expected == 320 * 1280 + 2 * 1280 + 2 * 1280 + 2
    assert len(result.curve) == 1 and 0.0 <= result.holdout_accuracy <= 1.0 and result.seconds > 0
    assert all(torch.equal(state[k], v) for k, v in v2.model.state_dict().items())
    assert all(p.grad is None for p in v2.model.parameters())


# --------------------------------------------------------------------------
# Demo set through the data chain
# --------------------------------------------------------------------------


def test_demo_set_asset_and_folder_setting(ants_bees_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert ANTS_BEES.size == 47_286_322 and len(ANTS_BEES.sha256) == 64 and ANTS_BEES.unpack
    assert ANTS_BEES.url == "https://download.pytorch.org/tutorial/hymenoptera_data.zip"
    monkeypatch.setenv("EXPLAINER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("EXPLAINER_OFFLINE", "1")
    for folder in (ants_bees_dir, ants_bees_dir.parent):  # class folders directly, or a train/ subfolder
        monkeypatch.setenv("EXPLAINER_DATA_DIR", str(folder))
        assert demo_folder() == ants_bees_dir
    monkeypatch.setenv("EXPLAINER_DATA_DIR", str(tmp_path))
    with pytest.raises(AssetError) as err:
        demo_folder()
    assert err.value.key == "assets.offline" and "hymenoptera_data.zip" in err.value.message("en")


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def test_cli_train_evaluate_classify(ants_bees_run, ants_bees_dir: Path, with_weights, tmp_path: Path, capsys) -> None:
    out = tmp_path / "head.pt"
    status, stdout, stderr = run_cli(capsys, "train", ants_bees_dir, "--out", out, "--json")
    assert status == 0, stderr
    report = json.loads(stdout)
    assert set(report) == {"model", "classes", "n_train", "n_holdout", "holdout_accuracy", "seconds", "skipped", "out"}
    assert report["classes"] == ["ants", "bees"] and (report["n_train"], report["n_holdout"]) == (196, 48)
    assert report["holdout_accuracy"] == ants_bees_run.holdout.accuracy
    assert report["skipped"][0]["file"] == "ants/imageNotFound.gif" and report["out"] == str(out)
    status, stdout, stderr = run_cli(capsys, "evaluate", out, ants_bees_dir, "--json")
    assert status == 0, stderr
    evaluation = json.loads(stdout)
    assert set(evaluation) == {"accuracy", "n", "classes", "confusion"} and evaluation["n"] == 244
    assert sum(map(sum, evaluation["confusion"])) == 244 and evaluation["accuracy"] > 0.95
    bee = sorted((ants_bees_dir / "bees").glob("*.jpg"))[-1]
    status, stdout, stderr = run_cli(capsys, "classify", bee, "--head", out, "--json")
    assert status == 0, stderr
    result = json.loads(stdout)
    assert [p["label"] for p in result["predictions"]][0] == "bees"
    assert sorted(p["label"] for p in result["predictions"]) == ["ants", "bees"]
    assert abs(sum(p["prob"] for p in result["predictions"]) - 1.0) < 1e-9


def test_cli_bad_inputs(tmp_path: Path, with_weights, ants_bees_run, capsys, photos_dir: Path) -> None:
    one = tmp_path / "one" / "cats"
    one.mkdir(parents=True)
    (one / "1.jpg").write_bytes((photos_dir / "cat.jpg").read_bytes())
    empty = tmp_path / "empty"
    empty.mkdir()
    nophoto = tmp_path / "nophoto"
    (nophoto / "a").mkdir(parents=True)
    (nophoto / "b").mkdir()
    (nophoto / "a" / "1.jpg").write_bytes((photos_dir / "cat.jpg").read_bytes())
    (nophoto / "a" / "2.jpg").write_bytes((photos_dir / "bird.jpg").read_bytes())
    (nophoto / "b" / "x.jpg").write_bytes(b"text")
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"not a head")
    other = tmp_path / "other.pt"
    head = ants_bees_run.trained.head
    from explainer.transfer.head import Head

    save_head(Head("mobilenet_v3_small", "x", head.classes, torch.zeros(2, 576), torch.zeros(2)), other)
    cat = photos_dir / "cat.jpg"
    cases = [
        (("train", tmp_path / "one"), "classes"),
        (("train", empty), "no class folders"),
        (("train", nophoto), "no readable photo"),
        (("train", tmp_path / "nowhere"), "not a folder"),
        (("classify", cat, "--head", corrupt), "not a head file"),
        (("classify", cat, "--head", other, "--model", "mobilenet_v2"), "mobilenet_v3_small"),
        (("evaluate", corrupt, tmp_path / "one"), "not a head file"),
        (("train", nophoto, "--fine-tune-blocks", "9"), "between"),
    ]
    for argv, fragment in cases:
        status, stdout, stderr = run_cli(capsys, *argv)
        assert status == 2, (argv, stderr)
        assert stderr.startswith("error: ") and stderr.count("\n") == 1 and fragment in stderr, (argv, stderr)
