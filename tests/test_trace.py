"""One output value of a real convolution, recomputed by hand (explainer.trace), against PyTorch.

Independent sources: the value the forward pass produced (a hook on the real network), PyTorch's own
``F.unfold`` for the window (padding included), ``torch.nn.utils.fusion.fuse_conv_bn_eval`` for the folded
kernel and bias, the activation modules themselves, ``explainer.counting`` (a meta-device count of the real
module) and the architecture tables for the multiplication count.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from explainer import trace as T
from explainer.architectures import build_network
from explainer.counting import conv_kind, count_module
from explainer.errors import InvalidInputError
from explainer.features import capture
from explainer.images import load_image
from explainer.models import build_model
from tests.conftest import run_cli

V1_NPZ = "mobilenet_v1_0.75_192_imagenet.npz"
TABLE_ACTIVATION = {"relu6": "relu6", "relu": "relu", "hswish": "hardswish", None: "none"}


_UNFOLDED: dict = {}


def _tolerance(tr: T.ConvTrace) -> float:
    """float32 rounding of a sum of C_w·K² products plus batch norm: relative to the sizes summed."""
    return 1e-5 * (float(np.abs(tr.products).sum()) + abs(tr.bias) + abs(tr.reference_output) + 1.0)


def _positions(layer, rng: random.Random, extra: int = 2) -> list[tuple[int, int, int]]:
    """The four corners, a border middle, and random positions of random channels."""
    h, w, c = layer.output
    spots = [(0, 0), (0, w - 1), (h - 1, 0), (h - 1, w - 1), (h // 2, 0)]
    spots += [(rng.randrange(h), rng.randrange(w)) for _ in range(extra)]
    return [(rng.randrange(c), y, x) for y, x in spots]


def _check(tr: T.ConvTrace, maps, model: nn.Module, layer) -> None:
    # the recomputation reproduces the forward pass, and each step follows from the one before
    assert tr.abs_error <= _tolerance(tr), (tr.stage, tr.channel, tr.y, tr.x, tr.output, tr.reference_output)
    assert tr.sum_of_products == pytest.approx(float(np.sum(tr.window * tr.kernel)), abs=1e-12)
    assert tr.running_sums[-1] == pytest.approx(tr.sum_of_products, abs=1e-9)
    assert tr.pre_activation == tr.sum_of_products + tr.bias
    assert tr.output == T.activate(tr.pre_activation, tr.activation)
    assert tr.window.shape == tr.kernel.shape
    # the window is exactly what PyTorch's convolution slides over (F.unfold pads with zeros the same way)
    k = tr.kernel_size
    key = (id(maps), tr.stage)
    if key not in _UNFOLDED:
        record = next(r for r in maps.records if r.name == tr.stage)
        _UNFOLDED.clear()  # one stage at a time: the tests trace stage by stage
        _UNFOLDED[key] = F.unfold(record.input[None], k, padding=tr.padding, stride=tr.stride)[0].double()
    columns = _UNFOLDED[key]  # [M·K·K, H·W]
    out_w = tr.output_shape[2]
    expected = columns[:, tr.y * out_w + tr.x].reshape(-1, k, k)[list(tr.input_channels)].numpy()
    np.testing.assert_array_equal(tr.window, expected)
    # kind, activation and count agree with the real module, the table and the meta-device counter
    conv = model.get_submodule(layer.module)
    assert tr.kind == {"standard": "standard", "depthwise": "depthwise", "pointwise": "pointwise"}[conv_kind(conv)]
    assert tr.activation == TABLE_ACTIVATION[layer.activation]
    c, h, w = tr.output_shape
    assert tr.multiplications * c * h * w == layer.macs == tr.layer_macs
    expected_count = {"standard": k * k * tr.input_shape[0], "depthwise": k * k, "pointwise": tr.input_shape[0]}
    assert tr.multiplications == expected_count[tr.kind]


# --------------------------------------------------------------------------
# Real weights: MobileNetV2 (torchvision layout) and the released MobileNetV1 0.75/192
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def v2(weights_dir: Path):
    from explainer.weights import load_pretrained

    return load_pretrained("mobilenet_v2", weights_dir, download=False)


@pytest.fixture(scope="module")
def v1(weights_dir: Path):
    from explainer.weights import load_pretrained

    if not (weights_dir / V1_NPZ).is_file():
        pytest.skip(f"{V1_NPZ} not in the weights folder")
    return load_pretrained("mobilenet_v1", weights_dir, download=False)


@pytest.fixture(scope="module")
def photos(shared_images) -> list:
    return [load_image(path) for path in sorted(shared_images)[:2]]


@pytest.fixture(scope="module")
def v2_maps(v2, photos) -> list:
    return [T.capture_for_trace(photo, v2) for photo in photos]


@pytest.fixture(scope="module")
def v1_maps(v1, photos) -> list:
    return [T.capture_for_trace(photo, v1) for photo in photos]


@pytest.mark.slow
def test_every_v2_convolution_reproduces_the_forward_pass(v2, v2_maps) -> None:
    rng = random.Random(9)
    network = T.network_of(v2_maps[0])
    layers = T.conv_layers(network)
    assert len(layers) == 52 and {T.kind_of(layer) for layer in layers} == set(T.KINDS)
    assert any(layer.stride == 2 and layer.type == "depthwise" for layer in layers)
    traced = 0
    for maps in v2_maps:
        for layer in layers:
            for channel, y, x in _positions(layer, rng):
                _check(T.trace(maps, v2.model, layer.name, channel, y, x), maps, v2.model, layer)
                traced += 1
    assert traced == 2 * 52 * 7


@pytest.mark.slow
def test_every_v1_convolution_of_the_released_weights(v1, v1_maps) -> None:
    rng = random.Random(1)
    network = T.network_of(v1_maps[0])
    assert (network.width, network.resolution) == (0.75, 192)
    layers = T.conv_layers(network)
    assert [T.kind_of(layer) for layer in layers] == ["standard"] + ["depthwise", "pointwise"] * 13
    for maps in v1_maps:
        for layer in layers:
            for channel, y, x in _positions(layer, rng):
                tr = T.trace(maps, v1.model, layer.name, channel, y, x)
                _check(tr, maps, v1.model, layer)
                assert not tr.batch_norm  # released V1: batch norm already folded into the conv's bias


def test_the_linear_bottleneck_has_no_activation_and_goes_negative(v2, v2_maps) -> None:
    maps = v2_maps[0]
    record = next(r for r in maps.records if r.name == "b4.project")
    c, y, x = np.unravel_index(int(torch.argmin(record.tensor)), record.tensor.shape)
    tr = T.trace(maps, v2.model, "b4.project", int(c), int(y), int(x))
    assert tr.activation == "none" and tr.output < 0 and tr.output == tr.pre_activation
    assert tr.abs_error <= _tolerance(tr)
    # a ReLU6 layer clips: an output of exactly 0 has a negative pre-activation
    dw = next(r for r in maps.records if r.name == "b4.dw")
    zero = (dw.tensor == 0).nonzero()[0].tolist()
    tr = T.trace(maps, v2.model, "b4.dw", *zero)
    assert tr.output == 0.0 == tr.reference_output and tr.pre_activation < 0


def test_padding_zeros_at_the_border_and_stride_2(v2, v2_maps) -> None:
    maps = v2_maps[0]
    stem = T.trace(maps, v2.model, "stem", 5, 0, 0)  # 3×3, stride 2, padding 1: 224 → 112
    assert (stem.stride, stem.padding, stem.rows, stem.cols) == (2, 1, (-1, 0, 1), (-1, 0, 1))
    assert stem.padded_positions == 5 and stem.multiplications == 27
    assert np.all(stem.window[:, stem.padding_mask] == 0) and np.all(stem.window[:, ~stem.padding_mask] != 0)
    last = T.trace(maps, v2.model, "stem", 5, 111, 111)  # rows 221..223: inside, the bottom padding unused
    assert last.rows == (221, 222, 223) and last.padded_positions == 0
    dw = T.trace(maps, v2.model, "b2.dw", 7, 55, 0)  # stride 2 on 112×112
    assert dw.stride == 2 and dw.rows == (109, 110, 111) and dw.cols == (-1, 0, 1) and dw.padded_positions == 3
    dw1 = T.trace(maps, v2.model, "b3.dw", 7, 55, 55)  # stride 1 on 56×56: bottom-right corner
    assert dw1.rows == (54, 55, 56) and dw1.padded_positions == 5
    assert T.trace(maps, v2.model, "b3.project", 0, 0, 0).padded_positions == 0  # 1×1: never padding


def test_the_count_is_the_cost_engines_per_layer_macs(v2, v2_maps) -> None:
    """multiplications = MACs / (C·H·W), MACs from the tables and from counting the real module."""
    counted = {layer.name: layer for layer in count_module(v2.model).layers}
    maps = v2_maps[0]
    for layer in T.conv_layers(T.network_of(maps)):
        tr = T.trace(maps, v2.model, layer.name, 0, 0, 0)
        c, h, w = tr.output_shape
        assert tr.multiplications == layer.macs // (c * h * w) == counted[layer.module].macs // (c * h * w)
        assert layer.macs % (c * h * w) == 0


def test_cli_json_keys_and_values(v2, v2_maps, weights_dir: Path, shared_images, capsys) -> None:
    path = sorted(shared_images)[0]
    status, out, err = run_cli(capsys, "trace", path, "--model", "mobilenet_v2", "--stage", "b4.dw",
                               "--channel", 81, "--y", 10, "--x", 12, "--weights-dir", weights_dir, "--json")
    assert status == 0, err
    data = json.loads(out)
    assert set(data) == {"model", "stage", "kind", "kernel_size", "stride", "multiplications", "window", "kernel",
                         "sum_of_products", "bias", "pre_activation", "activation", "output", "reference_output",
                         "abs_error"}
    assert (data["model"], data["stage"], data["kind"], data["kernel_size"], data["stride"]) == \
        ("mobilenet_v2", "b4.dw", "depthwise", 3, 2)
    assert data["multiplications"] == 9 and data["activation"] == "relu6"
    assert np.asarray(data["window"]).shape == np.asarray(data["kernel"]).shape == (1, 3, 3)
    expected = T.trace(v2_maps[0], v2.model, "b4.dw", 81, 10, 12).as_dict()
    assert data == json.loads(json.dumps(expected))  # the CLI prints the core's numbers for the same photo
    assert data["abs_error"] <= 1e-5 * (abs(data["reference_output"]) + 1)
    status, out, _ = run_cli(capsys, "trace", path, "--stage", "stem", "--channel", 0, "--y", 0, "--x", 0,
                             "--weights-dir", weights_dir)
    assert status == 0 and "multiplications for this output: 27" in out and "batch norm folded in" in out


@pytest.mark.parametrize("argv, needle", [
    (["--stage", "b4.dw", "--channel", 144, "--y", 0, "--x", 0], "channel must be between 0 and 143, got 144"),
    (["--stage", "b4.dw", "--channel", 0, "--y", 28, "--x", 0], "y must be between 0 and 27, got 28"),
    (["--stage", "b4.dw", "--channel", 0, "--y", 0, "--x", -1], "x must be between 0 and 27, got -1"),
    (["--stage", "fc", "--channel", 0, "--y", 0, "--x", 0], "\"fc\" is not a convolution of mobilenet_v2"),
    (["--stage", "b2.residual", "--channel", 0, "--y", 0, "--x", 0], "choose one of: stem, b1.dw, b1.project"),
    (["--stage", "b4.dw", "--channel", "x", "--y", 0, "--x", 0], "invalid int value"),
])
def test_cli_bad_input_is_one_line_exit_2(argv, needle, capsys, offline, shared_images) -> None:
    status, out, err = run_cli(capsys, "trace", sorted(shared_images)[0], *argv)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and needle in err, err


def test_v3_stage_names_need_the_v3_model(capsys, offline, shared_images) -> None:
    status, _, err = run_cli(capsys, "trace", sorted(shared_images)[0], "--model", "mobilenet_v3_small",
                             "--stage", "b1.se", "--channel", 0, "--y", 0, "--x", 0)
    assert status == 2 and "b1.dw" in err and err.count("\n") == 1


# --------------------------------------------------------------------------
# Batch norm really folded: random networks with non-trivial running statistics (the shared V2 file's batch
# norms are identity plus bias), V3 for h-swish, ReLU and 5×5 kernels
# --------------------------------------------------------------------------


def _with_random_bn(name: str, seed: int) -> nn.Module:
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_model(name).eval()
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            n = module.num_features
            module.weight.data = 0.5 + torch.rand(n, generator=generator)
            module.bias.data = torch.randn(n, generator=generator) * 0.3
            module.running_mean = torch.randn(n, generator=generator) * 0.2
            module.running_var = 0.3 + torch.rand(n, generator=generator)
    return model


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mobilenet_v2", "mobilenet_v3_large"])
def test_batch_norm_folding_matches_pytorch(name: str) -> None:
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    model = _with_random_bn(name, seed=3)
    network = build_network(name)
    batch = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(4))
    maps = capture(model, batch, network, keep_inputs=True)
    rng = random.Random(5)
    activations = set()
    for layer in T.conv_layers(network):
        conv = T.fold(model, layer)
        assert conv.batch_norm
        bn = T._following(model, layer.module)[0]
        fused = fuse_conv_bn_eval(copy.deepcopy(model.get_submodule(layer.module)), copy.deepcopy(bn))
        np.testing.assert_allclose(conv.kernel, fused.weight.detach().double().numpy(), rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(conv.bias, fused.bias.detach().double().numpy(), rtol=1e-6, atol=1e-6)
        for channel, y, x in _positions(layer, rng, extra=1):
            tr = T.trace(maps, model, layer.name, channel, y, x)
            _check(tr, maps, model, layer)
            activations.add(tr.activation)
    expected = {"relu6", "none"} if name == "mobilenet_v2" else {"hardswish", "relu", "none"}
    assert activations == expected
    if name == "mobilenet_v3_large":
        assert {T.fold(model, layer).kernel_size for layer in T.conv_layers(network)} == {1, 3, 5}


def test_hardswish_and_relu6_are_pytorchs() -> None:
    values = torch.linspace(-8, 8, 161, dtype=torch.float64)
    for name, module in (("hardswish", nn.Hardswish()), ("relu6", nn.ReLU6()), ("relu", nn.ReLU())):
        ours = torch.tensor([T.activate(float(v), name) for v in values], dtype=torch.float64)
        torch.testing.assert_close(ours, module(values), rtol=0, atol=1e-12)
    assert T.activate(-2.5, "none") == -2.5


def test_capture_without_inputs_is_unchanged_and_compact_keeps_working() -> None:
    model = build_model("mobilenet_v3_small").eval()
    network = build_network("mobilenet_v3_small")
    batch = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    plain = capture(model, batch, network)
    kept = capture(model, batch, network, keep_inputs=True)
    assert all(r.input is None for r in plain.records)
    convs = [r for r in kept.records if r.stage not in ("se", "residual")]
    assert all(r.input is not None for r in convs) and all(r.input is None for r in kept.records if r not in convs)
    for a, b in zip(plain.records, kept.records):
        assert torch.equal(a.tensor, b.tensor)
    assert torch.equal(kept.records[0].input, batch[0])
    small = kept.compact()
    assert small.records[1].input.dtype == torch.float16
    with pytest.raises(ValueError):
        T.trace(small, model, "b1.dw", 0, 0, 0)  # float16 copies cannot give an exact trace


def test_other_threads_do_not_leak_into_the_kept_inputs() -> None:
    import threading

    model = build_model("mobilenet_v3_small").eval()
    network = build_network("mobilenet_v3_small")
    mine = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    theirs = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(2))
    alone = capture(model, mine, network, keep_inputs=True)
    stop = threading.Event()

    def other_student() -> None:
        while not stop.is_set():
            with torch.inference_mode():
                model(theirs)

    worker = threading.Thread(target=other_student)
    worker.start()
    try:
        results = [capture(model, mine, network, keep_inputs=True) for _ in range(8)]
    finally:
        stop.set()
        worker.join()
    for result in results:
        for a, b in zip(alone.records, result.records):
            assert (a.input is None) == (b.input is None)
            assert a.input is None or torch.equal(a.input, b.input), a.name


# --------------------------------------------------------------------------
# What the page shows around a trace
# --------------------------------------------------------------------------


def test_standard_vs_separable_comparison_is_exact() -> None:
    network = build_network("mobilenet_v2")
    pair = T.comparison(network, "b4.dw")  # block 4: depthwise 3×3 on 144 channels, project 144 → 32
    assert (pair.kernel_size, pair.in_channels, pair.out_channels) == (3, 144, 32)
    assert (pair.depthwise, pair.pointwise) == ("b4.dw", "b4.project")
    assert pair.standard_per_output == 9 * 144 == 1296
    assert pair.standard_per_position == 9 * 144 * 32
    assert pair.separable_per_position == 9 * 144 + 144 * 32
    assert pair.separable_per_output == T.Fraction(9 * 144, 32) + 144  # 184.5: not 9 + 144
    assert pair.ratio == T.Fraction(1, 32) + T.Fraction(1, 9)
    assert T.comparison(network, "b4.expand") == pair and T.comparison(network, "b4.project") == pair
    stem = T.comparison(network, "stem")
    assert (stem.kernel_size, stem.in_channels, stem.out_channels, stem.depthwise) == (3, 3, 32, None)
    assert T.comparison(network, "head") is None
    v1 = T.comparison(build_network("mobilenet_v1"), "b13.pw")
    assert (v1.in_channels, v1.out_channels, v1.depthwise) == (1024, 1024, "b13.dw")


def test_cost_link_is_the_layers_shape() -> None:
    network = build_network("mobilenet_v2")
    assert T.cost_link(network.layer("b3.dw")) == {"dk": 3, "m": 144, "n": 144, "df": 56, "s": 1}
    assert T.cost_link(network.layer("stem")) == {"dk": 3, "m": 3, "n": 32, "df": 224, "s": 2}
    assert T.cost_link(network.layer("b4.project")) == {"dk": 1, "m": 144, "n": 32, "df": 28, "s": 1}


def test_sliding_window_band_follows_the_stride(v2, v2_maps) -> None:
    maps = v2_maps[0]
    tr = T.trace(maps, v2.model, "b2.dw", 3, 20, 30)  # 3×3, stride 2, padding 1: 112 → 56
    band = T.slide_band(maps, tr, T.main_input_channel(tr), half=5)
    record = next(r for r in maps.records if r.name == "b2.dw")
    assert band.input_channel == 3 and len(band.steps) == 56 and [s.x for s in band.steps] == list(range(56))
    assert all(s.top == 39 and s.left == 2 * s.x - 1 for s in band.steps)
    assert band.steps[30].value == float(record.tensor[3, 20, 30])
    assert (band.output_top, band.output_band.shape) == (15, (11, 56))
    np.testing.assert_array_equal(band.output_band, record.tensor[3, 15:26].double().numpy())
    # input rows of output rows 15..25: 2·15 - 1 = 29 … 2·25 - 1 + 2 = 51, all 112 columns plus the padding
    assert (band.input_top, band.input_left, band.input_band.shape) == (29, -1, (23, 114))
    step = band.steps[30]
    rows = slice(step.top - band.input_top, step.top - band.input_top + 3)
    cols = slice(step.left - band.input_left, step.left - band.input_left + 3)
    np.testing.assert_array_equal(band.input_band[rows, cols], tr.window[0])
    first = T.slide_band(maps, T.trace(maps, v2.model, "b2.dw", 3, 0, 0), 3)
    assert first.input_top == -1 and np.all(first.input_band[0] == 0) and np.all(first.input_band[:, 0] == 0)


def test_figures_carry_the_trace(v2, v2_maps) -> None:
    from explainer.figures import trace as figs

    maps = v2_maps[0]
    tr = T.trace(maps, v2.model, "stem", 4, 0, 5)
    panels = figs.step_panels(tr, ["w", "k", "p"], "pad 0", ["a", "b", "c"]).to_dict()
    texts = panels["data"][0]["text"]
    assert len(texts) == 3 * 3 + 2 and texts[0] == ["pad 0"] * 3  # 3 channels of 3×3, blank rows between
    assert sum(row.count("pad 0") for row in texts) == 3 * 3  # the top row of each channel is padding
    plane = next(r for r in maps.records if r.name == "stem").tensor[4].numpy()
    clickable = figs.output_map(plane, 0, 5, "t", "h").to_dict()["data"][1]
    assert clickable["type"] == "scatter" and clickable["opacity"] == 0.01
    band = T.slide_band(maps, tr, T.main_input_channel(tr))
    anim = figs.slide_animation(band, 3, tr.x, tr.input_shape[1:], {k: k for k in
                                                                    ("input", "output", "play", "pause", "step")})
    spec = anim.to_dict()
    assert len(spec["frames"]) == 112 and all(f["traces"] == [2, 3] for f in spec["frames"])
    assert spec["frames"][7]["data"][1]["x"] == [6.5, 7.5, 7.5, 6.5, 6.5]  # the output cell x = 7
    assert spec["layout"]["updatemenus"][0]["buttons"][0]["args"][1]["frame"]["redraw"] is True


def test_errors_name_the_valid_range(v2, v2_maps) -> None:
    maps = v2_maps[0]
    with pytest.raises(InvalidInputError) as err:
        T.trace(maps, v2.model, "b4.dw", 0, 0, 28)
    assert err.value.message("en") == "x must be between 0 and 27, got 28."
    assert "0" in err.value.message("zh") and "27" in err.value.message("zh")
    with pytest.raises(InvalidInputError):
        T.trace(maps, v2.model, "b4.dw", True, 0, 0)


def test_v3_projection_record_is_not_overwritten_by_the_in_place_shortcut() -> None:
    """torchvision's V3 block does ``result += input``: the projection's record must stay the projection."""
    model = _with_random_bn("mobilenet_v3_large", seed=6)
    network = build_network("mobilenet_v3_large")
    batch = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(7))
    maps = capture(model, batch, network, keep_inputs=True)
    project = next(r for r in maps.records if r.name == "b3.project")
    residual = next(r for r in maps.records if r.name == "b3.residual")
    block_input = next(r for r in maps.records if r.name == "b3.expand").input
    torch.testing.assert_close(residual.tensor, project.tensor + block_input)
    assert not torch.equal(project.tensor, residual.tensor)


@pytest.mark.parametrize("stage, channels", [("b2.expand", 16), ("b8.expand", 64), ("b3.project", 144),
                                             ("b15.project", 960)])
def test_a_1x1_convolution_is_a_dot_product_over_channels(v2, v2_maps, stage: str, channels: int) -> None:
    from explainer.figures import trace as figs

    maps = v2_maps[0]
    tr = T.trace(maps, v2.model, stage, 3, 2, 5)
    assert tr.kernel_size == 1 and len(tr.input_channels) == channels
    dot = T.channel_contributions(tr)
    products = tr.window.reshape(-1) * tr.kernel.reshape(-1)
    # independent: PyTorch's own dot product of the input column and the folded weights
    column = next(r for r in maps.records if r.name == stage).input[:, 2 * tr.stride, 5 * tr.stride].double()
    assert float(column @ torch.from_numpy(tr.kernel.reshape(-1))) == pytest.approx(dot.total, abs=1e-9)
    listed = len(dot.channels)
    assert listed == (channels if channels <= T.TOP_CONTRIBUTIONS + 1 else T.TOP_CONTRIBUTIONS)
    assert listed + dot.rest_count == channels
    assert dot.listed_sum + dot.rest_sum == pytest.approx(tr.sum_of_products, abs=1e-9)
    sizes = [abs(p) for p in dot.products]
    assert sizes == sorted(sizes, reverse=True)
    rest = np.delete(products, list(dot.channels))
    assert np.all(np.abs(rest) <= sizes[-1])  # the listed ones really are the largest
    for c, inp, w, p in zip(dot.channels, dot.inputs, dot.weights, dot.products):
        assert (inp, w, p) == (tr.window[c, 0, 0], tr.kernel[c, 0, 0], products[c])
    spec = figs.channel_bars(dot, channels, {"channel": "ch {channel}", "rest": "{n} more", "total": "all {m}",
                                             "x": "x"}).to_dict()
    rows = listed + (1 if dot.rest_count else 0) + 1
    assert len(spec["layout"]["yaxis"]["ticktext"]) == rows == len(spec["layout"]["annotations"])
    assert spec["layout"]["yaxis"]["ticktext"][-1] == f"all {channels}"
