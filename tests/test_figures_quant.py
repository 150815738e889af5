"""The Compression page's figures build from core data (no Streamlit) and show what they claim."""

from __future__ import annotations

import json

import pytest
import torch

from explainer.figures.quant import bars, sensitivity_bars, weight_view
from explainer.quant.int8 import weight_stats
from explainer.quant.layers import LayerInfo, Sensitivity


def test_weight_view_marks_the_per_tensor_step() -> None:
    w = torch.zeros(4, 1, 3, 3)
    w[0], w[1], w[2], w[3] = 2.0, -0.01, 0.5, 0.0
    stats = weight_stats(w, bins=10)
    figure = weight_view(stats, hist_title="h", ranges_title="r", value_label="w", count_label="n",
                         channel_label="c", tensor_step_label="step")
    data = json.loads(figure.to_json())["data"]
    assert sum(data[0]["y"]) == w.numel()
    assert data[1]["base"] == stats.channel_min
    assert data[2]["y"] == pytest.approx([2.0 / 127.5] * 2) and data[3]["y"] == pytest.approx([-2.0 / 127.5] * 2)


def test_sensitivity_and_bars() -> None:
    info = [LayerInfo(0, "features.0.0.0", 0, "stem", (32, 3, 3, 3)), LayerInfo(1, "features.1.conv.0.0.0", 1,
                                                                               "depthwise", (32, 1, 3, 3))]
    results = {"per-tensor": [Sensitivity(info[0], "per-tensor", 30.0, 0.0), Sensitivity(info[1], "per-tensor", -40.0, 1.0)]}
    data = json.loads(sensitivity_bars(results, {"per-tensor": "per tensor"}, title="t", axis_label="dB").to_json())["data"]
    assert data[0]["x"] == ["0 · stem 3×3 · 32 ch", "1 · depthwise 3×3 · 32 ch"]
    assert data[0]["y"] == [30.0, -10.0]  # clipped for the axis; the hover keeps the true value
    assert data[0]["customdata"][1][0] == -40.0
    figure = bars(["a", "b"], [14.26, 3.94], ["#000", "#111"], title="size", unit="MB", digits=2)
    assert json.loads(figure.to_json())["data"][0]["text"] == ["14.26 MB", "3.94 MB"]
