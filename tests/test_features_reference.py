"""Stage values of the feature capture against an independent reference, where batch norm really acts.

With untrained weights every batch norm is the identity (mean 0, variance 1, scale 1, shift 0), so a
capture that hooks the wrong side of a batch norm still passes. Here the reference is built without
:mod:`explainer`:

* **V2**: stock ``torchvision.models.mobilenet_v2`` with the real weights (``mobilenet_v2.pth`` read with
  ``torch.load``), a real photo preprocessed with torchvision's transforms, and hooks placed by module
  *type* (the projection is the output of the bare batch norm after the 1×1 convolution);
* **V3**: stock torchvision V3-Large and V3-Small whose batch norms get random statistics, scales and
  shifts (there are no V3 weights in the shared folder), so every batch norm changes its input;
* **V1**: Google's released 0.75/192 weights (``.npz``, batch norm folded into biases) applied with
  ``torch.nn.functional`` layer by layer (3×3 conv + bias + ReLU6, depthwise with one group per channel).

Each captured stage must equal the reference stage for every block.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision.transforms as T
from PIL import Image
from torch import nn
from torch.nn import functional as F
from torchvision import models as tv
from torchvision.ops.misc import SqueezeExcitation

from explainer.architectures import build_network
from explainer.features import FeatureMaps, capture
from explainer.models import build_model

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def _photo_batch(shared_images: dict, name: str, resize: int, crop: int) -> torch.Tensor:
    path = next(p for p in shared_images if p.endswith(name))
    transform = T.Compose([T.Resize(resize), T.CenterCrop(crop), T.ToTensor(), T.Normalize(MEAN, STD)])
    return transform(Image.open(path).convert("RGB")).unsqueeze(0)


def _depthwise(module: nn.Module) -> bool:
    conv = next(m for m in module.modules() if isinstance(m, nn.Conv2d))
    return conv.groups > 1 and conv.groups == conv.in_channels


def _torchvision_stages(model: nn.Module) -> dict[tuple[int, str], nn.Module]:
    """``{(block, stage): module whose output is that stage}`` for a stock torchvision V2/V3, found by type:
    features[0] is the stem, the last feature the head; inside a block the SE module is ``se``, the
    depthwise unit ``depthwise``, a unit before it ``expand``, and the projection is the last unit — for V2
    its 1×1 convolution is followed by a bare batch norm, whose output is the stage."""
    features = list(model.features)
    stages: dict[tuple[int, str], nn.Module] = {(0, "stem"): features[0], (len(features) - 1, "head"): features[-1]}
    for block, module in enumerate(features[1:-1], start=1):
        units = list(module.conv if hasattr(module, "conv") else module.block)
        if isinstance(units[-1], nn.BatchNorm2d):  # V2: …, Conv2d (projection), BatchNorm2d
            assert isinstance(units[-2], nn.Conv2d) and units[-2].kernel_size == (1, 1)
            stages[(block, "project")] = units[-1]
            units = units[:-2]
        else:  # V3: …, Conv2dNormActivation(conv, bn) without activation
            assert len(units[-1]) == 2 and isinstance(units[-1][1], nn.BatchNorm2d)
            stages[(block, "project")] = units[-1]
            units = units[:-1]
        seen_depthwise = False
        for unit in units:
            if isinstance(unit, SqueezeExcitation):
                stages[(block, "se")] = unit
            elif _depthwise(unit):
                stages[(block, "depthwise")] = unit
                seen_depthwise = True
            else:
                assert not seen_depthwise
                stages[(block, "expand")] = unit
        if module.use_res_connect:
            stages[(block, "residual")] = module
    return stages


def _reference_outputs(model: nn.Module, batch: torch.Tensor) -> tuple[dict[tuple[int, str], torch.Tensor], torch.Tensor]:
    outputs: dict[tuple[int, str], torch.Tensor] = {}
    handles = []
    for key, module in _torchvision_stages(model).items():
        handles.append(module.register_forward_hook(
            lambda _m, _args, out, key=key: outputs.__setitem__(key, out[0].clone())))
    try:
        with torch.inference_mode():
            logits = model(batch)
    finally:
        for handle in handles:
            handle.remove()
    return outputs, logits


def _assert_same_stages(maps: FeatureMaps, reference: dict[tuple[int, str], torch.Tensor]) -> None:
    captured = {(r.block, r.stage): r.tensor for r in maps.records}
    assert set(captured) == set(reference)
    for key, expected in reference.items():
        torch.testing.assert_close(captured[key], expected, rtol=1e-4, atol=1e-4, msg=lambda m, key=key: f"{key}: {m}")


# --------------------------------------------------------------------------
# V2 with the real weights on a real photo
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stock_v2(weights_dir: Path) -> nn.Module:
    model = tv.mobilenet_v2(weights=None, num_classes=1000)
    model.load_state_dict(torch.load(weights_dir / "mobilenet_v2.pth", map_location="cpu", weights_only=True))
    return model.eval()


def test_v2_stages_equal_stock_torchvision_with_real_weights(stock_v2: nn.Module, weights_dir: Path,
                                                             shared_images) -> None:
    from explainer.weights import load_pretrained

    batch = _photo_batch(shared_images, "cat.jpg", 256, 224)
    reference, logits = _reference_outputs(stock_v2, batch)
    loaded = load_pretrained("mobilenet_v2", weights_dir, download=False)
    maps = capture(loaded.model, batch, build_network("mobilenet_v2"))
    assert len(reference) == 1 + 16 + 17 + 17 + 10 + 1  # stem, expand, depthwise, project, residual, head
    _assert_same_stages(maps, reference)
    torch.testing.assert_close(maps.logits, logits, rtol=1e-4, atol=1e-4)
    # With these weights the projection's batch norm really changes the values: a capture of the bare
    # 1×1 convolution (before it) would be far off, so the comparison above can fail.
    block = stock_v2.features[3].conv
    with torch.inference_mode():
        before_bn = block[2](maps.record(3, "depthwise").tensor.unsqueeze(0))[0]
    assert float((before_bn - reference[(3, "project")]).abs().max()) > 1.0


# --------------------------------------------------------------------------
# V3 with batch norms that do something
# --------------------------------------------------------------------------


def _randomise_batch_norms(model: nn.Module, seed: int) -> nn.Module:
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                n = module.num_features
                module.running_mean.copy_(torch.randn(n, generator=generator) * 0.5)
                module.running_var.copy_(torch.rand(n, generator=generator) * 3 + 0.2)
                module.weight.copy_(torch.rand(n, generator=generator) * 2 + 0.5)
                module.bias.copy_(torch.randn(n, generator=generator))
    return model.eval()


@pytest.mark.parametrize("name", ["mobilenet_v3_large", "mobilenet_v3_small"])
def test_v3_stages_equal_stock_torchvision_with_active_batch_norms(name: str) -> None:
    torch.manual_seed(3)
    stock = _randomise_batch_norms(getattr(tv, name)(weights=None), seed=7)
    ours = build_model(name)
    ours.load_state_dict(stock.state_dict())
    batch = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    reference, logits = _reference_outputs(stock, batch)
    maps = capture(ours, batch, build_network(name))
    _assert_same_stages(maps, reference)
    torch.testing.assert_close(maps.logits, logits, rtol=1e-4, atol=1e-4)
    # the batch norms act: every projection differs from its bare convolution by more than rounding
    first_project = next(k for k in reference if k[1] == "project")
    unit = _torchvision_stages(stock)[first_project]
    before = maps.records[[(r.block, r.stage) for r in maps.records].index(first_project) - 1].tensor
    with torch.inference_mode():
        bare = unit[0](before.unsqueeze(0))[0]
    assert float((bare - reference[first_project]).abs().max()) > 0.5


# --------------------------------------------------------------------------
# V1: the released .npz applied by hand
# --------------------------------------------------------------------------

#: Depthwise strides of the 13 V1 blocks as released (the paper's Table 1; the last one is 1 in the models).
V1_DW_STRIDES = [1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1]


def test_v1_stages_equal_the_released_npz_applied_by_hand(v1_npz: Path, shared_images) -> None:
    from explainer.weights import load_pretrained

    with np.load(v1_npz) as npz:
        arrays = {key: torch.from_numpy(npz[key].astype(np.float32)) for key in npz.files}
    batch = _photo_batch(shared_images, "dragonfly.jpg", 219, 192)
    x = batch
    expected: list[tuple[int, str, torch.Tensor]] = []
    with torch.inference_mode():
        x = F.conv2d(x, arrays["layer00_weight"], arrays["layer00_bias"], stride=2, padding=1).clamp(0, 6)
        expected.append((0, "stem", x[0]))
        for block, stride in enumerate(V1_DW_STRIDES, start=1):
            w, b = arrays[f"layer{2 * block - 1:02d}_weight"], arrays[f"layer{2 * block - 1:02d}_bias"]
            x = F.conv2d(x, w, b, stride=stride, padding=1, groups=x.shape[1]).clamp(0, 6)
            expected.append((block, "depthwise", x[0]))
            w, b = arrays[f"layer{2 * block:02d}_weight"], arrays[f"layer{2 * block:02d}_bias"]
            x = F.conv2d(x, w, b).clamp(0, 6)
            expected.append((block, "pointwise", x[0]))
        logits = F.linear(x.mean(dim=(2, 3)), arrays["fc_weight"], arrays["fc_bias"])
    loaded = load_pretrained("mobilenet_v1", v1_npz.parent, download=False)
    maps = capture(loaded.model, batch, build_network("mobilenet_v1", 0.75, 192))
    assert [(r.block, r.stage) for r in maps.records] == [(b, s) for b, s, _ in expected]
    for record, (_, _, tensor) in zip(maps.records, expected):
        torch.testing.assert_close(record.tensor, tensor, rtol=1e-4, atol=1e-4, msg=lambda m, n=record.name: f"{n}: {m}")
    torch.testing.assert_close(maps.logits, logits, rtol=1e-4, atol=1e-4)
