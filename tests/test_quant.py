"""int8 quantization of MobileNetV2: the arithmetic against PyTorch's own, equalization, and the real model.

The real-model tests calibrate on the shared photos plus a sample of the ants/bees
training photos and evaluate on *other* ants/bees photos (disjoint by file).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from torch import nn

from explainer.errors import InvalidInputError
from explainer.quant import int8
from explainer.quant.equalize import _in_ranges, _out_ranges, equalize_pair



# ---------------------------------------------------------------- arithmetic (fast, no weights)

@pytest.mark.parametrize("scheme", int8.SCHEMES)
def test_fake_quantize_matches_pytorch_observers_and_quantized_tensors(scheme: str) -> None:
    from torch.ao.quantization.observer import MinMaxObserver, PerChannelMinMaxObserver

    from explainer.quant.toolchain import quiet

    torch.manual_seed(0)
    w = torch.randn(16, 8, 3, 3) * torch.logspace(-3, 0, 16).reshape(-1, 1, 1, 1)
    with quiet():
        expected = _pytorch_quantized(w, scheme, MinMaxObserver, PerChannelMinMaxObserver)
        scale = expected.q_scale() if scheme == "per-tensor" else expected.q_per_channel_scales()
    q, scales = int8.quantize_weight(w, scheme)
    assert torch.allclose(scales.reshape(-1), torch.as_tensor(scale).reshape(-1).float())
    assert torch.equal(q, expected.int_repr())
    assert torch.allclose(int8.fake_quantize_weight(w, scheme), expected.dequantize())


def _pytorch_quantized(w, scheme, MinMaxObserver, PerChannelMinMaxObserver):
    if scheme == "per-tensor":
        obs = MinMaxObserver(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric)
        obs(w)
        scale, zero = obs.calculate_qparams()
        expected = torch.quantize_per_tensor(w, float(scale), int(zero), torch.qint8)
    else:
        obs = PerChannelMinMaxObserver(ch_axis=0, dtype=torch.qint8, qscheme=torch.per_channel_symmetric)
        obs(w)
        scale, zero = obs.calculate_qparams()
        expected = torch.quantize_per_channel(w, scale, zero, 0, torch.qint8)
    return expected


def test_sqnr_and_weight_stats() -> None:
    x = torch.ones(100)
    assert int8.sqnr_db(x, x) == math.inf
    assert int8.sqnr_db(x, x + math.sqrt(0.1)) == pytest.approx(10.0)  # noise power a tenth of the signal
    w = torch.zeros(3, 1, 3, 3)
    w[0], w[1], w[2] = 1.0, 0.01, -0.5
    stats = int8.weight_stats(w)
    assert stats.range_ratio == pytest.approx(100.0)
    assert stats.channel_min == pytest.approx([1.0, 0.01, -0.5]) and sum(stats.counts) == w.numel()
    assert stats.per_tensor_scale == pytest.approx(1 / 127.5)
    assert stats.levels_used_min == 3  # the 0.01 channel rounds to −1, 0, +1 under one scale


def test_equalize_pair_keeps_the_function_and_equalizes_ranges() -> None:
    torch.manual_seed(1)
    first = nn.Conv2d(4, 6, 1)
    second = nn.Conv2d(6, 6, 3, padding=1, groups=6)  # depthwise
    with torch.no_grad():
        first.weight.mul_(torch.logspace(-2, 1, 6).reshape(-1, 1, 1, 1))
        first.bias.zero_()
    x = torch.randn(2, 4, 5, 5)
    before = second(torch.relu(first(x)))
    r1, r2 = _out_ranges(first), _in_ranges(second)
    equalize_pair(first, second)
    assert torch.allclose(second(torch.relu(first(x))), before, atol=1e-5)
    assert torch.allclose(_out_ranges(first), torch.sqrt(r1 * r2), rtol=1e-5)
    assert torch.allclose(_in_ranges(second), torch.sqrt(r1 * r2), rtol=1e-5)


def test_settings_refuse_unknown_scheme_and_observer() -> None:
    from explainer.quant.ptq import QuantSettings

    with pytest.raises(InvalidInputError, match="per-channel"):
        QuantSettings(scheme="per-row")
    with pytest.raises(InvalidInputError):
        QuantSettings(observer="guess")


# ---------------------------------------------------------------- the real model (slow)

@pytest.fixture(scope="session")
def real(weights_dir: Path, shared_images, datasets_dir: Path):
    """Float model, calibration batch (4 shared + 36 ants/bees), evaluation batch (40 other ants/bees)."""
    ants_bees = datasets_dir / "ants_bees" / "train"
    from explainer.images import WORKING_MIN_SIDE, load_image
    from explainer.quant.compare import batch_of
    from explainer.weights import load_pretrained

    loaded = load_pretrained("mobilenet_v2", weights_dir, download=False)
    ants = sorted(p for p in ants_bees.rglob("*") if p.is_file())  # collect_photos' order; decode only what is used
    calibration = [load_image(p, min_side=WORKING_MIN_SIDE) for p in sorted(shared_images)]
    calibration += [load_image(p, min_side=WORKING_MIN_SIDE) for p in ants[0::6][:36]]
    evaluation = ants[3::6][:40]
    return {
        "loaded": loaded,
        "calibration": batch_of(calibration, loaded),
        "eval": batch_of([load_image(p, min_side=WORKING_MIN_SIDE) for p in evaluation], loaded),
        "names": [p.relative_to(ants_bees).as_posix() for p in evaluation],
        "ants_bees": ants_bees,
    }


@pytest.fixture(scope="session")
def quantized(real):
    """One int8 model per scheme, calibrated once for the whole session."""
    from explainer.quant.ptq import QuantSettings, quantize

    variants = {scheme: QuantSettings(scheme, "histogram") for scheme in int8.SCHEMES}
    variants["per-tensor+equalize"] = QuantSettings("per-tensor", "histogram", equalize=True)
    return {key: quantize(real["loaded"].model, real["calibration"], settings) for key, settings in variants.items()}


@pytest.fixture(scope="session")
def agreements(real, quantized):
    from explainer.quant.compare import compare_models

    return {scheme: compare_models(real["loaded"].model, q.model, real["eval"], real["names"], real["loaded"].categories)
            for scheme, q in quantized.items()}


@pytest.mark.slow
def test_per_channel_int8_agrees_with_float(agreements, quantized) -> None:
    result = agreements["per-channel"]
    print(f"\nper-channel: top-1 agreement {result.top1_agreement:.3f}, "
          f"float top-1 in int8 top-5 {result.fp32_top1_in_int8_top5:.3f} on {result.n} photos")
    assert result.n == 40 and quantized["per-channel"].calibration_images == 40
    assert result.top1_agreement >= 0.70
    assert result.fp32_top1_in_int8_top5 >= result.top1_agreement


@pytest.mark.slow
def test_per_tensor_collapses(agreements) -> None:
    """The lesson: one scale per tensor cannot serve MobileNetV2's depthwise filters."""
    per_tensor = agreements["per-tensor"].top1_agreement
    print(f"\nper-tensor: top-1 agreement {per_tensor:.3f}")
    assert per_tensor < agreements["per-channel"].top1_agreement - 0.3


@pytest.mark.slow
def test_cross_layer_equalization_recovers_per_tensor(agreements) -> None:
    recovered = agreements["per-tensor+equalize"].top1_agreement
    print(f"\nper-tensor + cross-layer equalization: top-1 agreement {recovered:.3f}")
    assert recovered >= agreements["per-tensor"].top1_agreement + 0.3


@pytest.mark.slow
def test_int8_weights_are_int8_and_the_file_is_small(real, quantized) -> None:
    from explainer.quant.ptq import int8_weight_dtypes, state_dict_bytes

    model = quantized["per-channel"].model
    dtypes = int8_weight_dtypes(model)
    assert len(dtypes) == 53  # 52 convolutions + the classifier
    assert set(dtypes.values()) == {torch.qint8}
    assert not any(isinstance(m, nn.Conv2d) for m in model.modules())  # no float convolution left
    fp32, q = state_dict_bytes(real["loaded"].model), state_dict_bytes(model)
    print(f"\nstate dict {fp32:,} → {q:,} bytes ({q / fp32:.3f})")
    assert q <= 0.30 * fp32


@pytest.mark.slow
def test_fused_float_model_is_the_float_model(real, quantized) -> None:
    """Batch-norm folding with ReLU6 kept changes nothing that matters; the equalized (ReLU) copy is measured."""
    from explainer.quant.compare import logits_of
    from explainer.quant.ptq import fused_float_model

    reference = logits_of(real["loaded"].model, real["eval"])
    fused = logits_of(quantized["per-channel"].fused, real["eval"])
    assert torch.allclose(fused, reference, atol=1e-3)
    equalized = fused_float_model(real["loaded"].model, equalize=True)
    relu_only = fused_float_model(real["loaded"].model, equalize=False)
    for module in relu_only.modules():
        if type(module).__name__ == "ConvReLU2d":
            module[1] = nn.ReLU()
    # Equalization is exact for ReLU networks: the equalized model computes what the ReLU model computes.
    assert torch.allclose(logits_of(equalized, real["eval"]), logits_of(relu_only, real["eval"]), atol=1e-2)


@pytest.mark.slow
def test_layer_view_shows_the_depthwise_problem(real, quantized) -> None:
    from explainer.quant.layers import layer_view, list_layers, sensitivity

    fused = quantized["per-channel"].fused
    layers = list_layers(fused)
    assert len(layers) == 53 and [l.kind for l in layers[:3]] == ["stem", "depthwise", "project"]
    assert sum(l.kind == "depthwise" for l in layers) == 17
    view = layer_view(fused, layers[1], real["calibration"][:8])
    print(f"\nfirst depthwise: range ratio {view.stats.range_ratio:.3g}, SQNR {view.sqnr_db}")
    assert view.stats.range_ratio > 100  # live channels alone (zero channels are exact)
    assert view.sqnr_db["per-channel"] > view.sqnr_db["per-tensor"] + 10
    drift = sensitivity(fused, real["calibration"][:8], "per-tensor", layers=[layers[1], layers[2]])
    assert drift[0].logits_sqnr_db < drift[1].logits_sqnr_db  # the depthwise layer hurts more than its project


@pytest.mark.slow
def test_googles_int8_model_beside_ours(real, weights_dir: Path) -> None:
    """Google's released int8 MobileNetV2 (LiteRT) on the same photos, same crop: it answers like our float model."""
    from explainer.litert import litert_available, load_tflite
    from explainer.quant.compare import logits_of
    from explainer.quant.google import GOOGLE_MODEL, compare_google, google_input, google_latency_ms

    if not litert_available():
        pytest.skip("LiteRT (ai-edge-litert) is not installed")
    from explainer.quant.compare import collect_photos

    model = load_tflite(GOOGLE_MODEL, weights_dir, download=False)
    assert model.input.scale == pytest.approx(1 / 128) and model.input.zero_point == 128
    photos = [p for p in collect_photos(real["ants_bees"]).photos[3::6][:40]]
    assert [p.name for p in photos] == real["names"]
    first = google_input(photos[0].image, real["loaded"])
    assert first.shape == (1, 224, 224, 3) and first.dtype.name == "uint8"
    fp32 = logits_of(real["loaded"].model, real["eval"]).argmax(dim=1).tolist()
    result = compare_google(model, [p.image for p in photos], real["names"], real["loaded"], fp32)
    print(f"\nGoogle int8: top-1 agreement with our float {result.top1_agreement:.3f}, "
          f"float top-1 in its top-5 {result.fp32_top1_in_top5:.3f}; {model.size_bytes:,} bytes; "
          f"{google_latency_ms(model, runs=5):.1f} ms")
    assert result.top1_agreement >= 0.75
    assert all(len(r.google_top5) >= 1 for r in result.rows)


# ---------------------------------------------------------------- activations on signed data (fast, no weights)

def _pytorch_fake_quantized_activation(x: torch.Tensor) -> tuple[torch.Tensor, float, int]:
    """PyTorch's own affine quint8 quantizer over x's range (MinMaxObserver includes 0 in the range)."""
    from torch.ao.quantization.observer import MinMaxObserver

    from explainer.quant.toolchain import quiet

    with quiet():
        observer = MinMaxObserver(dtype=torch.quint8, qscheme=torch.per_tensor_affine)
        observer(x)
        scale, zero = observer.calculate_qparams()
    return torch.fake_quantize_per_tensor_affine(x, float(scale), int(zero), 0, 255), float(scale), int(zero)


@pytest.mark.parametrize("low,high", [(-3.0, 1.0), (-0.5, 6.0), (-2.0, -0.25), (0.5, 4.0)])
def test_activation_quantization_matches_pytorch_on_signed_data(low: float, high: float) -> None:
    """Signed inputs have a zero point inside 0..255: a sign slip in the zero point or the scale shows here
    (on non-negative data the zero point is 0 and it could not)."""
    gen = torch.Generator().manual_seed(1)
    x = low + (high - low) * torch.rand(4, 16, 9, 9, generator=gen)
    expected, scale, zero = _pytorch_fake_quantized_activation(x)
    if low < 0 < high:
        assert 0 < zero < 255  # the case this test is for
    got = int8.fake_quantize_activation(x)
    assert torch.allclose(got, expected, atol=1e-6, rtol=0), float((got - expected).abs().max())
    assert int8.sqnr_db(x, got) == pytest.approx(int8.sqnr_db(x, expected), abs=1e-6)


def test_layer_view_of_a_layer_with_signed_input_matches_pytorch_quantizers() -> None:
    """A 1×1 expansion reads the previous block's linear (signed) output: its SQNR per scheme equals the one
    computed with PyTorch's own weight and activation quantizers."""
    from torch import nn
    from torch.ao.quantization.observer import MinMaxObserver, PerChannelMinMaxObserver

    from explainer.quant.layers import LayerInfo, layer_view
    from explainer.quant.toolchain import quiet

    torch.manual_seed(3)
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(8, 24, 1)).eval()  # no ReLU: signed input
    with torch.no_grad():
        net[1].weight.mul_(torch.logspace(-2, 0, 24).reshape(-1, 1, 1, 1))
    batch = torch.randn(2, 3, 10, 10)
    x = net[0](batch).detach()
    assert float(x.min()) < 0 < float(x.max())
    info = LayerInfo(1, "1", 1, "expand", tuple(net[1].weight.shape))
    view = layer_view(net, info, batch)
    xq, _, _ = _pytorch_fake_quantized_activation(x)
    with torch.no_grad():
        reference = net[1](x)
        for scheme in int8.SCHEMES:
            with quiet():
                wq = _pytorch_quantized(net[1].weight.detach(), scheme, MinMaxObserver,
                                        PerChannelMinMaxObserver).dequantize()
            expected = int8.sqnr_db(reference, nn.functional.conv2d(xq, wq, net[1].bias))
            assert view.sqnr_db[scheme] == pytest.approx(expected, abs=1e-4), scheme
