"""The quantization toolchain: every API name we use exists, and its deprecation chatter never reaches users."""

from __future__ import annotations

import warnings

import torch
from torch import nn

from explainer.quant import toolchain
from explainer.quant.ptq import QuantSettings, int8_weight_dtypes, qconfig


def test_every_quantization_api_we_use_exists() -> None:
    missing = toolchain.missing_names()
    assert missing == [], (
        "PyTorch's eager int8 quantization API changed: " + ", ".join(missing)
        + ". explainer/quant/toolchain.py explains the choice; move to torchao's equivalent before upgrading torch."
    )
    assert toolchain.use_engine() in torch.backends.quantized.supported_engines


class _Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        from torch.ao.quantization import DeQuantStub, QuantStub

        self.quant, self.dequant = QuantStub(), DeQuantStub()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        return self.dequant(self.conv(self.quant(x)))


def test_quiet_hides_the_deprecation_warnings_and_only_inside() -> None:
    from torch.ao.quantization import convert, prepare

    model = _Tiny().eval()
    model.qconfig = qconfig(QuantSettings("per-channel", "minmax"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with toolchain.quiet():
            prepare(model, inplace=True)
            model(torch.randn(2, 3, 8, 8))
            convert(model, inplace=True)
    assert [str(w.message)[:80] for w in caught] == []
    assert set(int8_weight_dtypes(model).values()) == {torch.qint8}
    # Outside quiet() the filters are back: the API still warns (so quiet() is what hides it).
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prepare(_with_qconfig(_Tiny().eval()), inplace=True)
    assert any("deprecated" in str(w.message) for w in caught)


def _with_qconfig(model: nn.Module) -> nn.Module:
    model.qconfig = qconfig(QuantSettings())
    return model
