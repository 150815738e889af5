"""The layer tables against the papers' printed figures (no torch needed here)."""

from __future__ import annotations

import math

import pytest

from explainer import architectures as arch
from explainer import costs, published
from explainer.errors import InvalidInputError


def net(name: str, width: float = 1.0, resolution: int = 224, twin: bool = False) -> arch.Network:
    return arch.build_network(name, width, resolution, twin)


# --- totals against the papers (α = 1, 224) ---------------------------------


def test_v1_totals_match_paper_table1():
    v1 = net("mobilenet_v1")
    assert v1.macs == 568_740_352  # paper: 569M
    assert round(v1.macs / 1e6) == 569
    assert v1.weights == 4_209_088  # paper: 4.2M (weights only, as its Table 2)
    assert round(v1.params / 1e6, 1) == 4.2
    assert v1.total_params == 4_231_976  # with BN scale/shift, like sum(p.numel())


def test_v1_penultimate_stride_is_one():
    """Table 1 prints s2 for the 13th depthwise layer; only s1 keeps 7×7 and gives 569M."""
    v1 = net("mobilenet_v1")
    dw13 = v1.layer("b13.dw")
    assert dw13.stride == 1 and dw13.input[:2] == dw13.output[:2] == (7, 7)
    stride2 = dict(enumerate(arch.V1_BLOCKS, 1))
    assert [i for i, (_, s) in stride2.items() if s == 2] == [2, 4, 6, 12]


@pytest.mark.parametrize("width, macs_m, params_m", [(1.0, 569, 4.2), (0.75, 325, 2.6), (0.5, 149, 1.3), (0.25, 41, 0.5)])
def test_v1_width_rows_table6(width, macs_m, params_m):
    v1 = net("mobilenet_v1", width)
    assert round(v1.macs / 1e6) == macs_m
    assert round(v1.params / 1e6, 1) == params_m


@pytest.mark.parametrize("resolution, macs_m", [(224, 569), (192, 418), (160, 290), (128, 186)])
def test_v1_resolution_rows_table7(resolution, macs_m):
    v1 = net("mobilenet_v1", 1.0, resolution)
    if resolution == 160:
        # exact 290.68M, printed 290: the paper truncates this one; all others round to the printed digits
        assert math.floor(v1.macs / 1e6) == macs_m and "v1_1.0_160" in published.KNOWN_GAPS
    else:
        assert round(v1.macs / 1e6) == macs_m
    assert round(v1.params / 1e6, 1) == 4.2  # resolution does not change parameters


def test_v1_breakdown_table2():
    shares = net("mobilenet_v1").breakdown(weights_only=True)
    for kind, (macs_pct, params_pct) in published.V1_TABLE2.items():
        assert round(shares[kind].params_pct, 2) == params_pct
        if kind == "conv":
            # printed 1.19 %: a digit swap of the exact 1.91 % (the printed column sums to 99.29 %)
            assert round(shares[kind].macs_pct, 2) == published.V1_TABLE2_STEM_EXACT
        else:
            assert round(shares[kind].macs_pct, 2) == macs_pct
    assert sum(s.macs_pct for s in shares.values()) == pytest.approx(100)
    assert sum(v[0] for v in published.V1_TABLE2.values()) == pytest.approx(99.29)


def test_v1_conv_twin_table4():
    twin = net("mobilenet_v1", twin=True)
    assert twin.macs == 4_867_293_184  # paper: 4866M ...
    conv_only = twin.macs - twin.layer("fc").macs
    assert round(conv_only / 1e6) == 4866  # ... counts the convolutions only (the FC layer adds 1.02M)
    assert round(twin.params / 1e6, 1) == 29.3
    assert {layer.type for layer in twin.layers} == {"conv", "fc"}


@pytest.mark.parametrize("name, macs_m, params_m", [
    ("mobilenet_v2", 300, 3.4), ("mobilenet_v3_large", 219, 5.4),
])
def test_v2_v3_totals_within_tolerance(name, macs_m, params_m):
    n = net(name)
    assert abs(n.macs / (macs_m * 1e6) - 1) < 0.02
    assert abs(n.params / (params_m * 1e6) - 1) < 0.04


def test_exact_totals_of_released_architectures():
    # sum(p.numel()) of torchvision's models: 3,504,872 / 5,483,032 / 2,542,856
    assert net("mobilenet_v2").total_params == 3_504_872
    assert net("mobilenet_v3_large").total_params == 5_483_032
    assert net("mobilenet_v3_small").total_params == 2_542_856
    assert net("mobilenet_v2").macs == 300_774_272
    assert net("mobilenet_v3_large").macs == 216_589_760
    assert net("mobilenet_v3_small").macs == 56_510_400


def test_v3_small_known_gap_to_paper():
    small = net("mobilenet_v3_small")
    paper = published.headline("mobilenet_v3_small")
    assert (paper.macs_m, paper.params_m) == (66, 2.9)
    assert round(small.macs / 1e6, 1) == 56.5 and round(small.params / 1e6, 2) == 2.53
    assert "v3s_1.0_224" in published.KNOWN_GAPS


def test_v2_has_17_bottleneck_blocks():
    v2 = net("mobilenet_v2")
    assert v2.num_blocks == 17  # the text's "19 layers" count stem and head too
    assert sum(n for _, _, n, _ in arch.V2_ROWS) == 17
    assert not any(layer.stage == "expand" for layer in v2.layers if layer.block == 1)  # t = 1


def test_v2_madds_formula_only_for_stride_one():
    """h·w·d'·t(d'+k²+d'') equals the real count for stride 1, t > 1 — not for stride 2."""
    v2 = net("mobilenet_v2")
    for block in range(2, 18):
        layers = [layer for layer in v2.layers if layer.block == block]
        h, _, d_in = layers[0].input
        d_out = layers[-1].output[2]
        t = layers[0].output[2] // d_in
        formula = h * h * d_in * t * (d_in + 9 + d_out)
        real = sum(layer.macs for layer in layers)
        if layers[1].stride == 1:
            assert real == formula
        else:
            assert real < formula


# --- structure -------------------------------------------------------------


@pytest.mark.parametrize("name", arch.MODEL_NAMES)
@pytest.mark.parametrize("width, resolution", [(1.0, 224), (0.75, 192), (0.35, 160), (1.4, 96)])
def test_shapes_chain_and_costs_come_from_engine(name, width, resolution):
    n = net(name, width, resolution)
    assert n.layers[0].input == (resolution, resolution, 3)
    for before, after in zip(n.layers, n.layers[1:]):
        if after.type == "fc" and before.type != "fc":
            assert after.input == (1, 1, before.output[2])  # global average pooling
        else:
            assert after.input == before.output
    for layer in n.layers:
        h, _, m = layer.input
        c = layer.output[2]
        if layer.type == "conv":
            expected = costs.standard_conv(layer.kernel, m, c, h, layer.stride)
        elif layer.type == "depthwise":
            expected = costs.depthwise_conv(layer.kernel, m, h, layer.stride)
        elif layer.type == "pointwise":
            expected = costs.pointwise_conv(m, c, h)
        elif layer.type == "fc":
            expected = costs.linear(m, c)
        else:
            continue
        assert (layer.macs, layer.params) == (expected.macs, expected.params)
    assert n.layers[-1].output == (1, 1, 1000)
    blocks = [layer.block for layer in n.layers]
    assert blocks == sorted(blocks) and blocks[0] == 0


def test_v2_v3_channels_are_multiples_of_eight():
    for name in ("mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small"):
        for width in (0.35, 0.5, 0.75, 1.3):
            for layer in net(name, width).layers[:-1]:
                if layer.type != "se":
                    assert layer.output[2] % 8 == 0, (name, width, layer.name)


def test_make_divisible_examples():
    assert arch.make_divisible(32 * 0.35) == 16  # 11.2 → 8 would drop > 10 %
    assert arch.make_divisible(24 * 0.75) == 24  # 18 → 16 would drop 11 %
    assert arch.make_divisible(960 // 4) == 240
    assert arch.make_divisible(3) == 8


def test_v3_activations_and_se_carried_as_data():
    large = net("mobilenet_v3_large")
    assert large.layer("stem").activation == "hswish"
    assert large.layer("b1.dw").activation == "relu"
    assert large.layer("b7.dw").activation == "hswish"
    se_blocks = sorted({layer.block for layer in large.layers if layer.type == "se"})
    assert se_blocks == [i for i, row in enumerate(arch.V3_LARGE_ROWS, 1) if row.se] == [4, 5, 6, 11, 12, 13, 14, 15]
    se = large.layer("b4.se")
    assert se.input == se.output == (28, 28, 72)
    assert se.params == 72 * 24 + 24 + 24 * 72 + 72 and se.macs == 2 * 72 * 24
    assert large.layer("fc1").activation == "hswish" and large.layer("fc2").activation is None
    assert all(layer.activation is None for layer in large.layers if layer.stage == "project")


def test_breakdown_sums_to_totals():
    for name in arch.MODEL_NAMES:
        n = net(name)
        shares = n.breakdown()
        assert sum(s.macs for s in shares.values()) == n.macs
        assert sum(s.params for s in shares.values()) == n.params
        assert sum(s.params_pct for s in shares.values()) == pytest.approx(100)


def test_twins_cost_more_and_keep_shapes():
    for name in arch.MODEL_NAMES:
        n, t = net(name), net(name, twin=True)
        assert t.macs > 3 * n.macs and t.params > n.params
        assert not any(layer.type == "depthwise" for layer in t.layers)
        assert t.layers[-1].output == n.layers[-1].output
        out = {layer.block: layer.output for layer in n.layers}
        assert {layer.block: layer.output for layer in t.layers} == out


# --- memory ---------------------------------------------------------------


def test_memory_v1_vs_v2():
    v1, v2 = net("mobilenet_v1"), net("mobilenet_v2")
    naive1 = arch.memory_profile(v1)
    assert naive1[arch.peak(naive1)].elements == (32 + 64) * 112 * 112
    assert naive1[arch.peak(naive1)].bytes("float32") == 4 * 96 * 112 * 112
    assert naive1[arch.peak(naive1)].bytes("int8") == 96 * 112 * 112
    naive2 = arch.memory_profile(v2)
    # b2.dw: the expanded 96-channel tensor at 112×112 in, 56×56 out — worse than V1 when all is stored
    assert naive2[arch.peak(naive2)].label == "b2.dw"
    assert naive2[arch.peak(naive2)].elements == 96 * 112 * 112 + 96 * 56 * 56
    streamed2 = arch.memory_profile(v2, streamed=True)
    streamed1 = arch.memory_profile(v1, streamed=True)
    assert streamed2[arch.peak(streamed2)].elements == (32 + 16) * 112 * 112
    assert streamed1[arch.peak(streamed1)].elements == (32 + 64) * 112 * 112
    # V2 paper Table 3 (16-bit): 1600K for V1 vs 400K for V2
    assert math.prod(arch.largest_tensor(v1)[1]) * 2 == 1_605_632
    assert math.prod(arch.largest_tensor(v2)[1]) * 2 == 401_408


# --- validation and speed ---------------------------------------------------


@pytest.mark.parametrize("args", [
    ("mobilenet_v4", 1.0, 224), ("mobilenet_v1", 0.0, 224), ("mobilenet_v1", 3, 224), ("mobilenet_v1", "wide", 224),
    ("mobilenet_v1", float("nan"), 224), ("mobilenet_v1", 1.0, 16), ("mobilenet_v1", 1.0, 100000),
    ("mobilenet_v1", 1.0, 223.5), ("mobilenet_v1", 1.0, "224"),
])
def test_bad_arguments_raise_user_errors(args):
    with pytest.raises(InvalidInputError) as info:
        arch.build_network(*args)
    for lang in ("en", "zh"):
        text = info.value.message(lang)
        assert text and "\n" not in text


def test_build_is_cached():
    """A setting is expanded once, however its values are spelled (its speed: ``bench/cost.py``)."""
    arch._build.cache_clear()
    first = [arch.build_network(name, 0.9, 200) for name in arch.MODEL_NAMES]
    assert arch._build.cache_info().misses == len(arch.MODEL_NAMES)
    again = [arch.build_network(name, 0.9, 200.0) for name in arch.MODEL_NAMES]
    assert all(a is b for a, b in zip(first, again))
    assert arch._build.cache_info().hits == len(arch.MODEL_NAMES)
    assert arch.build_network("mobilenet_v2") is arch.build_network("mobilenet_v2", 1, 224.0)
    assert arch.build_network("mobilenet_v2", 0.9, 200) is not arch.build_network("mobilenet_v2", 0.9, 200, twin=True)


def test_json_shape():
    data = net("mobilenet_v2").as_dict()
    assert data["macs"] == sum(layer["macs"] for layer in data["layers"])
    assert set(data["layers"][0]) >= {"name", "type", "input", "output", "macs", "params"}
    assert set(data["breakdown"]["pointwise"]) >= {"macs_pct", "params_pct"}


def test_figures_place_the_current_choice_at_its_macs():
    """The scatter's x axis is logarithmic: the marker must sit at the exact MACs (not at 10^MACs)."""
    from explainer.figures import architecture as figs

    v2 = net("mobilenet_v2")
    labels = {"macs_m": "x", "top1": "y", "current": "now", "params_m": "p", "table": "T"}
    display = {**arch.DISPLAY_NAMES, "twin": "twin"}
    fig = figs.published_scatter(published.PUBLISHED, (v2.macs, "V2"), labels, display)
    current = [trace for trace in fig.data if trace.name == "now"][0]
    assert list(current.x) == [v2.macs / 1e6] * 2
    assert fig.layout.xaxis.type == "log"
    type_labels = {kind: kind for kind in arch.LAYER_TYPES} | {"macs": "m", "params": "p", "cumulative": "c"}
    costs_fig = figs.layer_costs(v2, type_labels, "b2.dw")
    bars = [trace for trace in costs_fig.data if trace.type == "bar"]
    assert sum(sum(trace.y) for trace in bars) == v2.macs + v2.params
