"""Results that must not depend on storage order, items that drop out mid-pipeline, and a selection rule.

- The same data set gives the same classes, labels, photo order and hold-out split whatever the order of a zip's
  members or of a folder listing (fixtures elsewhere are always written in sorted order, which hides that).
- A photo that passes the header check but cannot be decoded drops out during embedding: the labels, the features
  and the hold-out indices of the photos that remain must stay aligned (core and CLI), and the skipped files'
  report must name it.
- The convolution trace draws "the input channel that contributes most": checked on a case where the plausible
  wrong rules (signed instead of absolute, sum of |products| instead of |sum|, smallest, first, last) all pick a
  different channel.
"""

from __future__ import annotations

import io
import json
import random
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from explainer.transfer.datasets import holdout_split, read_image_folder, read_zip
from tests.conftest import run_cli


def _jpeg(seed: int, size: int = 64) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = (rng.random((size, size, 3)) * 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=85)
    return out.getvalue()


def _broken_jpeg() -> bytes:
    """A JPEG whose header is fine (the size check passes) but whose data stops after a third."""
    whole = _jpeg(999, 256)
    return whole[: len(whole) // 3]


#: class → {file name: bytes}; "b" sorts before "ants" would in reversed order; 03 of "bees" is broken.
FILES = {
    "bees": {f"{i:02d}.jpg": (_broken_jpeg() if i == 3 else _jpeg(100 + i)) for i in range(7)},
    "ants": {f"{i:02d}.jpg": _jpeg(i) for i in range(6)},
    "wasps": {f"{i:02d}.jpg": _jpeg(200 + i) for i in range(5)},
}


def _zip(order: list[tuple[str, str]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for cls, name in order:
            archive.writestr(f"photos/{cls}/{name}", FILES[cls][name])
    return out.getvalue()


def _summary(data) -> tuple:
    return (data.classes, [(p.name, p.label, p.digest) for p in data.photos], sorted(s.name for s in data.skipped))


def test_zip_member_order_does_not_change_the_set() -> None:
    members = [(cls, name) for cls in FILES for name in FILES[cls]]
    shuffled = members[:]
    random.Random(4).shuffle(shuffled)
    first, second = read_zip(_zip(members)), read_zip(_zip(shuffled))
    assert first.classes == ("ants", "bees", "wasps")
    assert _summary(first) == _summary(second)
    assert holdout_split(first.labels)[1].tolist() == holdout_split(second.labels)[1].tolist()


def _folder(tmp_path: Path) -> Path:
    for cls, files in FILES.items():
        (tmp_path / cls).mkdir(parents=True)
        for name, data in files.items():
            (tmp_path / cls / name).write_bytes(data)
    return tmp_path


def test_folder_listing_order_does_not_change_the_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _folder(tmp_path)
    listed = read_image_folder(folder)
    iterdir, rglob = Path.iterdir, Path.rglob
    monkeypatch.setattr(Path, "iterdir", lambda self: iter(sorted(iterdir(self), reverse=True)))
    monkeypatch.setattr(Path, "rglob", lambda self, pattern: iter(sorted(rglob(self, pattern), reverse=True)))
    reversed_listing = read_image_folder(folder)
    assert listed.classes == ("ants", "bees", "wasps")
    assert _summary(listed) == _summary(reversed_listing)
    # the folder and the zip of the same files are the same set
    assert _summary(listed) == _summary(read_zip(_zip([(c, n) for c in FILES for n in FILES[c]])))


@pytest.fixture(scope="module")
def untrained_v2():
    from explainer.weights import untrained

    return untrained("mobilenet_v2")


def _own_features(loaded, data: bytes, name: str) -> torch.Tensor:
    """The photo's features computed alone (no batch, no cache)."""
    from explainer.classify import preprocess
    from explainer.images import WORKING_MIN_SIDE, load_image
    from explainer.transfer.embed import pooled_features

    return pooled_features(loaded, preprocess(load_image(data, name, min_side=WORKING_MIN_SIDE), loaded))[0]


def test_a_photo_that_fails_to_decode_keeps_labels_features_and_holdout_aligned(untrained_v2) -> None:
    from explainer.transfer.teach import fit

    data = read_zip(_zip([(c, n) for c in FILES for n in FILES[c]]))
    assert "photos/bees/03.jpg" not in {s.name for s in data.skipped}  # the header check lets it through
    run = fit(data, untrained_v2)
    kept = run.data
    assert [s.name for s in kept.skipped if s.name.endswith("bees/03.jpg")], "the broken photo is not reported"
    names = [p.name.split("/")[-2] + "/" + p.name.split("/")[-1] for p in kept.photos]
    assert "bees/03.jpg" not in names and len(names) == 17
    # every row: the right label and the photo's own features
    for index, photo in enumerate(kept.photos):
        cls, file = photo.name.split("/")[-2:]
        assert kept.classes[photo.label] == cls
        own = _own_features(untrained_v2, FILES[cls][file], file)
        assert torch.allclose(torch.as_tensor(run.features[index]).float(), own, atol=1e-4), photo.name
    # the hold-out: every fifth remaining photo of each class, by the labels of the remaining photos
    train, holdout = holdout_split(kept.labels)
    assert run.train_idx.tolist() == train.tolist() and run.holdout_idx.tolist() == holdout.tolist()
    held = [names[i] for i in run.holdout_idx]
    assert held == ["ants/04.jpg", "bees/05.jpg", "wasps/04.jpg"]  # bees: 00 01 02 04 05 06 → the 5th is 05
    assert run.holdout.n == 3


def test_cli_train_reports_the_dropped_photo_and_counts_the_rest(tmp_path: Path, capsys, with_weights) -> None:
    folder = _folder(tmp_path / "set")
    status, out, err = run_cli(capsys, "train", str(folder), "--json")
    assert status == 0, err
    report = json.loads(out)
    assert [s["file"] for s in report["skipped"]] == ["bees/03.jpg"]
    assert report["classes"] == ["ants", "bees", "wasps"]
    assert report["n_train"] + report["n_holdout"] == 17 and report["n_holdout"] == 3


# ------------------------------------------------------------------ a selection rule


def test_main_input_channel_is_the_largest_absolute_sum() -> None:
    from explainer.trace import ConvTrace, main_input_channel

    # products per input channel (kernel of ones: the window is the products), 2×2 windows:
    products = np.array([
        [[0.25, 0.25], [0.25, 0.25]],  # channel 10: sum 1
        [[-2.25, -2.25], [-2.25, -2.25]],  # channel 11: sum −9 → |sum| 9: the right pick
        [[2.0, 2.0], [2.0, 2.0]],  # channel 12: sum 8 (largest signed sum)
        [[6.0, -6.0], [6.0, -6.5]],  # channel 13: sum −0.5 (smallest |sum|), but Σ|products| = 24.5 (largest)
    ])
    trace = ConvTrace(model="m", stage="s", kind="pointwise", kernel_size=2, stride=1, padding=0, channel=0, y=0,
                      x=0, input_shape=(4, 2, 2), output_shape=(1, 1, 1), input_channels=(10, 11, 12, 13),
                      rows=(0, 1), cols=(0, 1), window=products, kernel=np.ones_like(products), bias=0.0,
                      activation="none", batch_norm=False, reference_output=float(products.sum()), layer_macs=16)
    assert main_input_channel(trace) == 11
