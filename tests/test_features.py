"""Feature capture: shapes against the architecture tables for every model, values against the
modules run by hand, hooks removed (also on error), real sparsity and a real edge detector with the
shared ImageNet weights, and the figures (colours, labels, speed)."""

from __future__ import annotations

import base64
import io
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from explainer.architectures import build_network
from explainer.errors import InvalidInputError
from explainer.features import (
    FeatureMaps,
    capture,
    capture_image,
    channel_activity,
    channel_structure,
    check_k,
    journey,
    stage_stats,
    top_channels,
)
from explainer.figures import features as figs
from explainer.models import MODEL_NAMES, build_model
from explainer.weights import load_pretrained, untrained

#: (model, width, resolution) variants whose captured shapes are checked against the tables.
VARIANTS = [(name, 1.0, 224) for name in MODEL_NAMES] + [
    ("mobilenet_v1", 0.5, 160), ("mobilenet_v2", 0.75, 192), ("mobilenet_v2", 1.4, 224),
    ("mobilenet_v3_large", 0.75, 224), ("mobilenet_v3_small", 1.0, 128),
]


def _hooks(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


def _random_batch(size: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(1, 3, size, size, generator=generator)


@pytest.fixture(scope="session")
def v2_real(weights_dir: Path):
    return load_pretrained("mobilenet_v2", weights_dir)


@pytest.fixture(scope="session")
def cat_maps(v2_real, shared_images) -> FeatureMaps:
    from explainer.images import load_image

    cat = next(p for p in shared_images if p.endswith("cat.jpg"))
    return capture_image(load_image(cat), v2_real)


@pytest.fixture(scope="session")
def random_v2_maps() -> FeatureMaps:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = build_model("mobilenet_v2")
    return capture(model, _random_batch(224), build_network("mobilenet_v2"))


# --------------------------------------------------------------------------
# Shapes and order against the architecture tables
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name,width,resolution", VARIANTS)
def test_captured_shapes_equal_the_tables(name: str, width: float, resolution: int) -> None:
    model = build_model(name, width=width)
    network = build_network(name, width, resolution)
    maps = capture(model, _random_batch(resolution), network)
    layers = [layer for layer in network.layers if layer.stage != "classifier"]
    non_residual = [r for r in maps.records if r.stage != "residual"]
    assert len(non_residual) == len(layers)
    for record, layer in zip(non_residual, layers):
        h, w, c = layer.output
        assert tuple(record.tensor.shape) == (c, h, w), (record.name, layer.name)  # PyTorch's own tensor
        assert (record.block, record.stage, record.name) == (layer.block, layer.stage, layer.name)
        assert (record.macs, record.params) == (layer.macs, layer.params)
    # one residual record per block whose torchvision module really adds its shortcut
    shortcuts = sum(1 for m in model.modules() if getattr(m, "use_res_connect", False))
    assert sum(r.stage == "residual" for r in maps.records) == shortcuts
    for record in maps.records:
        if record.stage == "residual":
            before = maps.records[record.index - 1]
            assert before.stage == "project" and before.block == record.block
            assert before.shape == record.shape == record.input_shape
    assert [r.index for r in maps.records] == list(range(len(maps.records)))
    # block costs: the sum of the table's layers of that block (classifier excluded)
    for record in maps.records:
        chosen = [l for l in network.layers if l.block == record.block and l.stage != "classifier"]
        assert record.block_macs == sum(l.macs for l in chosen)
        assert record.block_params == sum(l.params for l in chosen)
    assert _hooks(model) == 0


def test_v2_stages_block_by_block(random_v2_maps: FeatureMaps) -> None:
    maps = random_v2_maps
    assert maps.blocks == list(range(19))  # stem, 17 bottlenecks, last conv
    assert [r.stage for r in maps.block(0)] == ["stem"]
    assert [r.stage for r in maps.block(1)] == ["depthwise", "project"]  # t = 1: no expansion
    residual_blocks = [b for b in range(1, 18) if "residual" in [r.stage for r in maps.block(b)]]
    assert residual_blocks == [3, 5, 6, 8, 9, 10, 12, 13, 15, 16]  # stride 1 and same width in and out
    for block in range(2, 18):
        stages = [r.stage for r in maps.block(block)]
        assert stages[:3] == ["expand", "depthwise", "project"]
    assert [r.stage for r in maps.block(18)] == ["head"]
    assert maps.block_output(18).shape == (1280, 7, 7)
    # resolution 224 → 112 (stem) → … → 7, channels 32 → … → 1280
    sizes = [maps.block_output(b).shape[1] for b in maps.blocks]
    assert sizes[0] == 112 and sizes[-1] == 7 and sizes == sorted(sizes, reverse=True)


def test_v1_and_v3_stages() -> None:
    v1 = capture(build_model("mobilenet_v1"), _random_batch(224), build_network("mobilenet_v1"))
    assert [r.stage for r in v1.records] == ["stem"] + ["depthwise", "pointwise"] * 13
    v3 = capture(build_model("mobilenet_v3_small"), _random_batch(224), build_network("mobilenet_v3_small"))
    se_blocks = [r.block for r in v3.records if r.stage == "se"]
    # V3-Small as released: SE in blocks 1 and 4-11
    assert se_blocks == [1, 4, 5, 6, 7, 8, 9, 10, 11]
    for block in se_blocks:
        stages = [r.stage for r in v3.block(block)]
        assert stages.index("depthwise") < stages.index("se") < stages.index("project")


# --------------------------------------------------------------------------
# The recorded tensors are the stage outputs (recomputed by hand from the modules)
# --------------------------------------------------------------------------


def test_v2_records_are_the_stage_outputs(random_v2_maps: FeatureMaps) -> None:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = build_model("mobilenet_v2")
    maps = random_v2_maps
    block = model.features[3]  # expand 24→144, dw, project 144→24, shortcut
    x = maps.block_output(2).tensor.unsqueeze(0)
    with torch.inference_mode():
        expanded = nn.functional.relu6(block.conv[0][1](block.conv[0][0](x)))
        depthwise = block.conv[1](expanded)
        projected = block.conv[3](block.conv[2](depthwise))  # conv then batch norm, no activation
        logits = model(_random_batch(224))
    torch.testing.assert_close(maps.record(3, "expand").tensor, expanded[0])
    torch.testing.assert_close(maps.record(3, "depthwise").tensor, depthwise[0])
    torch.testing.assert_close(maps.record(3, "project").tensor, projected[0])
    torch.testing.assert_close(maps.record(3, "residual").tensor, (x + projected)[0])
    assert float(maps.record(3, "project").tensor.min()) < 0  # linear: negative values survive
    assert float(maps.record(3, "depthwise").tensor.min()) >= 0 and float(maps.record(3, "depthwise").tensor.max()) <= 6
    torch.testing.assert_close(maps.logits, logits, rtol=0, atol=0)  # the hooks change nothing


def test_v3_se_record_is_the_scaled_depthwise_output() -> None:
    model = build_model("mobilenet_v3_large")
    maps = capture(model, _random_batch(224), build_network("mobilenet_v3_large"))
    dw, se = maps.record(4, "depthwise"), maps.record(4, "se")
    module = model.features[4].block[2]  # SqueezeExcitation
    with torch.inference_mode():
        scale = module._scale(dw.tensor.unsqueeze(0))
    torch.testing.assert_close(se.tensor, (dw.tensor.unsqueeze(0) * scale)[0])


# --------------------------------------------------------------------------
# Hooks are removed, also on error
# --------------------------------------------------------------------------


def test_hooks_removed_after_success_and_on_error(monkeypatch: pytest.MonkeyPatch) -> None:
    model = build_model("mobilenet_v2")
    network = build_network("mobilenet_v2")
    capture(model, _random_batch(224), network)
    assert _hooks(model) == 0

    seen: list[int] = []

    def broken(self, x):  # block 10 fails mid-way: earlier hooks have already fired
        seen.append(_hooks(model))
        raise RuntimeError("boom")

    monkeypatch.setattr(type(model.features[10]), "forward", broken)
    with pytest.raises(RuntimeError, match="boom"):
        capture(model, _random_batch(224), network)
    assert seen and seen[0] > 50  # the hooks were really in place during the pass
    assert _hooks(model) == 0
    monkeypatch.undo()

    for bad in (torch.zeros(1, 4, 224, 224), torch.zeros(2, 3, 224, 224), torch.zeros(1, 3, 200, 200)):
        with pytest.raises(InvalidInputError):
            capture(model, bad, network)
        assert _hooks(model) == 0
    # a table that does not describe the model: a stage never runs → clear error, no hooks left
    other = build_model("mobilenet_v3_small")
    with pytest.raises(InvalidInputError):
        capture(other, _random_batch(224), network)
    assert _hooks(other) == 0


# --------------------------------------------------------------------------
# Statistics, ranking, compaction
# --------------------------------------------------------------------------


def test_stats_are_exact_and_survive_compaction(random_v2_maps: FeatureMaps) -> None:
    for record in random_v2_maps.records[:8]:
        values = record.tensor.double()
        stats = stage_stats(record.tensor)
        assert stats.zero_fraction == pytest.approx(float((values == 0).double().mean()), abs=1e-12)
        assert stats.mean == pytest.approx(float(values.mean()), rel=1e-5, abs=1e-7)
        assert (stats.min, stats.max) == (float(values.min()), float(values.max()))
    compact = random_v2_maps.compact()
    assert all(r.tensor.dtype == torch.float16 for r in compact.records)
    assert compact.nbytes * 2 == random_v2_maps.nbytes
    for before, after in zip(random_v2_maps.records, compact.records):
        assert after.stats == before.summary()  # computed from the float32 values
        torch.testing.assert_close(after.tensor.float(), before.tensor, rtol=1e-3, atol=1e-2)
    restored = pickle.loads(pickle.dumps(compact))  # what st.cache_data stores
    assert restored.records[5].stats == compact.records[5].stats
    assert torch.equal(restored.records[5].tensor, compact.records[5].tensor)


def test_channel_activity_is_the_mean_absolute_value(random_v2_maps: FeatureMaps) -> None:
    record = random_v2_maps.record(3, "project")  # signed values: |x| matters
    activity = record.tensor.abs().mean(dim=(1, 2))
    np.testing.assert_allclose(channel_activity(record), activity.numpy(), rtol=1e-6)
    assert top_channels(record, 64) == top_channels(record, 24)  # capped at the 24 channels there are
    for bad in (0, 65, 2.5, True, "8"):
        with pytest.raises(InvalidInputError):
            check_k(bad)


def _record_of(planes: torch.Tensor, activation: str | None = "relu6"):
    from explainer.features import StageRecord

    c, h, w = planes.shape
    return StageRecord(index=0, block=1, stage="depthwise", name="b1.dw", shape=(c, h, w), input_shape=(c, h, w),
                       tensor=planes, activation=activation, macs=0, params=0, block_macs=0, block_params=0,
                       module="m")


def test_the_clearest_channel_is_neither_saturated_nor_noise() -> None:
    """Three channels every plausible wrong rule ranks differently: 0 is ReLU6 saturated (6 nearly everywhere:
    the largest mean |value|, the largest maximum), 1 is pixel noise (the largest raw spread and the largest
    gradients), 2 is a photo-like edge: dark left, bright right. Only channel 2 shows structure."""
    gen = torch.Generator().manual_seed(0)
    saturated = torch.full((28, 28), 6.0)
    saturated[::5, ::5] = 0.0
    noise = torch.rand((28, 28), generator=gen) * 6.0
    edge = torch.zeros((28, 28))
    edge[:, 14:] = 3.0
    record = _record_of(torch.stack([saturated, noise, edge]))
    planes = record.tensor
    wrong = {"mean |value|": planes.abs().mean(dim=(1, 2)), "max": planes.amax(dim=(1, 2)),
             "spread": planes.flatten(1).std(dim=1),
             "gradient": (planes[:, :, 1:] - planes[:, :, :-1]).abs().mean(dim=(1, 2))}
    for name, score in wrong.items():
        assert int(score.argmax()) != 2, name
    assert top_channels(record, 3)[0] == 2
    assert channel_structure(record)[0] < channel_structure(record)[2]
    # a linear stage (no clip): values at 6 are not discounted
    linear = _record_of(torch.stack([edge * 2, edge]), activation=None)
    assert top_channels(linear, 2) == [0, 1]


def test_the_pages_open_on_a_channel_with_structure(random_v2_maps: FeatureMaps) -> None:
    compact = random_v2_maps.compact()
    for full, small in zip(random_v2_maps.records, compact.records):
        np.testing.assert_allclose(channel_structure(small), channel_structure(full), rtol=1e-6)


def test_journey_one_channel_per_block(random_v2_maps: FeatureMaps) -> None:
    steps = journey(random_v2_maps)
    assert [r.block for r, _ in steps] == random_v2_maps.blocks
    for record, channel in steps:
        assert channel == top_channels(record, 1)[0]
    assert steps[-1][0].stage == "head"


# --------------------------------------------------------------------------
# Real weights: sparsity, the linear bottleneck, an edge detector
# --------------------------------------------------------------------------


def test_real_weights_relu6_sparsity_and_linear_projections(cat_maps: FeatureMaps, v2_real) -> None:
    relu = [r for r in cat_maps.records if r.activation == "relu6"]
    linear = [r for r in cat_maps.records if r.stage in ("project", "residual")]
    assert len(relu) == 1 + 16 + 17 + 1 and len(linear) == 17 + 10
    zeros = [r.summary().zero_fraction for r in relu]
    assert all(z > 0.05 for z in zeros), zeros  # every ReLU6 switches off a real share of values
    assert float(np.mean(zeros)) > 0.3
    assert max(r.summary().max for r in relu) == 6.0  # ReLU6 saturates somewhere
    for record in linear:  # no activation: hardly any exact zeros, negative values present
        s = record.summary()
        assert s.zero_fraction < 0.01 and s.min < 0 < s.max, record.name
    # the capture's logits are the classification of the same photo
    top1 = int(cat_maps.logits.argmax())
    assert v2_real.categories[top1] in {"tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat"}


def _edge_photo(column: int, vertical: bool = True, low: int = 96, high: int = 160) -> Image.Image:
    """256×256 grey photo, darker left of ``column``, lighter from it on (Resize 256 keeps it, CenterCrop 224
    cuts 16 pixels per side, the stride-2 stem halves it: the edge lands at stem column (column-16)//2)."""
    pixels = np.full((256, 256, 3), low, dtype=np.uint8)
    pixels[:, column:] = high
    if not vertical:
        pixels = pixels.transpose(1, 0, 2).copy()
    return Image.fromarray(pixels)


def _best_edge_channel(stem: np.ndarray, edge: int, margin: int = 6) -> tuple[int, float, float]:
    """The stem channel whose peak at the edge (±1 column) is largest relative to its largest response on
    the flat parts of the interior: ``(channel, peak, ratio)``."""
    profile = stem[:, margin:-margin, :].mean(axis=1)
    best = (-1, 0.0, 0.0)
    for c, p in enumerate(profile):
        peak = float(p[edge - 1:edge + 2].max())
        flat = float(np.abs(np.concatenate([p[margin:edge - 2], p[edge + 3:-margin]])).max())
        ratio = peak / (flat + 1e-3)
        if ratio > best[2]:
            best = (c, peak, ratio)
    return best


def _edge_detector(loaded, column: int) -> tuple[int, float, float, np.ndarray]:
    stem = capture_image(_edge_photo(column), loaded).record(0, "stem").tensor.numpy()
    return (*_best_edge_channel(stem, (column - 16) // 2), stem)


def test_real_stem_has_a_vertical_edge_detector(v2_real) -> None:
    channel, peak, ratio, stem = _edge_detector(v2_real, 128)
    edge = (128 - 16) // 2  # stem column 56
    assert peak > 0.5 and ratio > 4, (channel, peak, ratio)  # strong at the edge, ~silent on flat grey
    rows = stem[channel, 6:-6, 6:-6]
    assert np.mean(np.abs(rows.argmax(axis=1) + 6 - edge) <= 1) > 0.95  # along the whole edge, row by row
    # it follows the edge when the edge moves …
    moved, moved_peak, _, moved_stem = _edge_detector(v2_real, 144)
    assert moved == channel
    assert abs(int(moved_stem[channel, 6:-6, :].mean(axis=0).argmax()) - (144 - 16) // 2) <= 1
    # … and it is orientation selective: a horizontal edge of the same contrast hardly moves it
    horizontal = capture_image(_edge_photo(128, vertical=False), v2_real).record(0, "stem").tensor.numpy()
    assert float(horizontal[channel, 6:-6, 6:-6].max()) < 0.5 * peak


def test_the_edge_assertion_fails_with_random_weights() -> None:
    """The same criterion does not hold for the untrained network: the test above can fail."""
    _, peak, ratio, _ = _edge_detector(untrained("mobilenet_v2"), 128)
    assert not (peak > 0.5 and ratio > 4)


def test_v1_released_weights_shapes(weights_dir: Path, v1_npz: Path, shared_images) -> None:
    from explainer.images import load_image

    loaded = load_pretrained("mobilenet_v1", weights_dir)
    dragonfly = next(p for p in shared_images if p.endswith("dragonfly.jpg"))
    maps = capture_image(load_image(dragonfly), loaded)
    network = build_network("mobilenet_v1", 0.75, 192)
    assert (maps.width, maps.resolution) == (0.75, 192)
    shapes = [tuple(r.tensor.shape) for r in maps.records]
    assert shapes == [(l.output[2], l.output[0], l.output[1]) for l in network.layers if l.stage != "classifier"]
    assert shapes[0] == (24, 96, 96) and shapes[-1] == (768, 6, 6)
    assert loaded.categories[int(maps.logits.argmax())] in {"dragonfly", "damselfly"}


# --------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------


def test_grid_colours_follow_the_normalisation(cat_maps: FeatureMaps) -> None:
    record = cat_maps.record(0, "stem")
    channels = top_channels(record, 8)
    viridis = figs.lut("viridis")
    per_channel = figs.mosaic(record, channels, normalise="channel")
    shared = figs.mosaic(record, channels, normalise="shared")
    assert per_channel.cmap == "viridis" and per_channel.reduce == 1 and per_channel.tile == 112
    data = record.tensor[channels].float().numpy()
    for i, c in enumerate(channels):
        x, y = per_channel.origin(i)
        tile = per_channel.pixels[y:y + 112, x:x + 112]
        values = data[i]
        if values.max() > values.min():  # own range: the tile spans the whole colour map
            assert (tile == viridis[255]).all(axis=-1).any() and (tile == viridis[0]).all(axis=-1).any()
        # the pixel with the largest value gets the colour its normalised value says
        yy, xx = np.unravel_index(values.argmax(), values.shape)
        expected = figs.colorize(values[yy:yy + 1, xx:xx + 1], shared.low, shared.high, "viridis")[0, 0]
        assert (shared.pixels[y + yy, x + xx] == expected).all()
    assert (shared.low, shared.high) == (float(data.min()), float(data.max()))


def test_projection_uses_a_diverging_map_centred_on_zero(cat_maps: FeatureMaps) -> None:
    record = cat_maps.record(3, "project")
    assert figs.colormap_of(record) == "RdBu_r"
    grid = figs.mosaic(record, top_channels(record, 4), normalise="shared")
    assert grid.low == -grid.high < 0
    zero = figs.colorize(np.zeros((1, 1)), grid.low, grid.high, "RdBu_r")[0, 0]
    assert zero.min() > 240  # white-ish at zero
    assert figs.colormap_of(cat_maps.record(3, "depthwise")) == "viridis"


def test_bottleneck_strip_counts_and_channels(cat_maps: FeatureMaps) -> None:
    block = cat_maps.block(3)
    assert figs.channel_counts(block) == (24, 144, 24)  # M → tM → N of the 3rd bottleneck (t = 6)
    assert figs.channel_counts(cat_maps.block(1)) == (32, 32, 16)  # t = 1
    panels = figs.path_panels(block)
    assert [p.record.stage for p in panels] == ["expand", "depthwise", "project", "residual"]
    assert panels[0].channel == panels[1].channel  # the depthwise filter's own input channel
    assert panels[2].channel == panels[3].channel == top_channels(block[2], 1)[0]
    figure = figs.path_strip(block, lang="en")
    heatmaps = [t for t in figure.data if t.type == "heatmap"]
    assert len(heatmaps) == 4
    assert heatmaps[2].zmin == -heatmaps[2].zmax and heatmaps[2].showscale  # diverging, with a colour bar
    assert heatmaps[1].zmin >= 0
    texts = " ".join(a.text for a in figure.layout.annotations)
    assert "56×56×144" in texts and "56×56×24" in texts


def test_journey_strip_labels(cat_maps: FeatureMaps) -> None:
    figure = figs.journey_strip(cat_maps, lang="zh")
    texts = [a.text for a in figure.layout.annotations]
    assert texts[0].endswith("224×224×3") and texts[1].endswith("112×112×32") and texts[-1].endswith("7×7×1280")
    assert len(figure.data) == 1 + 19


@pytest.mark.parametrize("normalise", ["channel", "shared"])
def test_64_channel_grid_of_the_largest_stage(cat_maps: FeatureMaps, normalise: str) -> None:
    """The page's biggest grid: 64 of the 96 channels of 112×112 of block 2's expansion, as Streamlit sends it.
    (How long it takes is a benchmark figure: ``bench/features.py``.)"""
    record = cat_maps.record(2, "expand")
    assert record.shape == (96, 112, 112)
    channels = top_channels(record, 64)
    grid = figs.mosaic(record, channels, normalise=normalise)
    # 64 tiles of 112×112 would exceed the pixel budget: each tile averages 2×2 map pixels (56×56), 8 × 8 tiles
    side = 8 * 56 + 7 * figs.GAP
    assert (grid.reduce, grid.factor, grid.tile, grid.columns, grid.cmap) == (2, 1, 56, 8, "viridis")
    assert grid.pixels.shape == (side, side, 3) and side * side <= figs.MAX_GRID_PIXELS
    values = record.tensor[list(channels)].float().numpy()
    for i in (0, 37, 63):  # a tile shows its channel averaged over 2×2 blocks, coloured by its own or the shared range
        x, y = grid.origin(i)
        low, high = (grid.low, grid.high) if normalise == "shared" else (float(values[i].min()), float(values[i].max()))
        expected = figs.colorize(values[i].reshape(56, 2, 56, 2).mean(axis=(1, 3)), low, high, "viridis")
        assert (grid.pixels[y:y + 56, x:x + 56] == expected).all()
    assert (grid.low, grid.high) == (float(values.min()), float(values.max()))

    data = json.loads(figs.channel_grid(record, channels, normalise=normalise).to_json())  # what Streamlit sends
    picture = data["data"][0]
    assert picture["type"] == "image"
    png = base64.b64decode(picture["source"].removeprefix("data:image/png;base64,"))
    assert (np.asarray(Image.open(io.BytesIO(png))) == grid.pixels).all()  # the mosaic, pixel for pixel
    labels = data["layout"]["annotations"]
    assert [a["text"] for a in labels] == [f"#{c}" for c in channels]  # one label per tile, in rank order
    assert [(a["x"], a["y"]) for a in labels] == [(x + 2, y + 2) for x, y in map(grid.origin, range(64))]
    colour_bars = [t for t in data["data"][1:] if t.get("showscale")]
    if normalise == "shared":  # one colour bar gives the common scale
        assert len(colour_bars) == 1 and (colour_bars[0]["zmin"], colour_bars[0]["zmax"]) == (grid.low, grid.high)
    else:
        assert colour_bars == []


def test_block_png_and_enlarged_channel(cat_maps: FeatureMaps) -> None:
    sheet = figs.block_png(cat_maps.block(3), k=16)
    assert sheet.mode == "RGB" and sheet.width >= 8 * 56
    photo = cat_maps.input_image
    assert photo.shape == (224, 224, 3) and photo.dtype == np.uint8
    figure = figs.channel_figure(cat_maps.record(0, "stem"), 5, photo=photo)
    heat = figure.data[-1]
    assert heat.dx == 2.0 and heat.opacity < 1  # 112 map stretched over the 224 photo


def test_other_threads_using_the_shared_model_do_not_leak_into_a_capture() -> None:
    """The app shares one model between all sessions: forward passes of other threads on other images,
    running while the hooks are in place, must not overwrite this capture's records."""
    import threading

    model = build_model("mobilenet_v3_small")
    network = build_network("mobilenet_v3_small")
    mine, theirs = _random_batch(224, seed=1), _random_batch(224, seed=2)
    alone = capture(model, mine, network)
    stop = threading.Event()
    passes = [0]

    def other_student() -> None:
        while not stop.is_set():
            with torch.inference_mode():
                model(theirs)
            passes[0] += 1

    worker = threading.Thread(target=other_student)
    worker.start()
    try:
        results = [capture(model, mine, network) for _ in range(15)]
    finally:
        stop.set()
        worker.join()
    assert passes[0] > 0
    for result in results:
        for a, b in zip(alone.records, result.records):
            assert torch.equal(a.tensor, b.tensor), a.name
    assert _hooks(model) == 0
