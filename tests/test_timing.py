"""The CPU timing panel measures real layers and refuses shapes too large to time."""

from __future__ import annotations

import pytest

from explainer import costs
from explainer.errors import InvalidInputError
from explainer.timing import MAX_TIMED_MACS, time_convolutions


def test_timing_reports_engine_macs_and_positive_times() -> None:
    result = time_convolutions(3, 32, 32, 28, 1)
    assert result.standard.macs == costs.standard_conv(3, 32, 32, 28).macs
    sep = costs.depthwise_separable(3, 32, 32, 28)
    assert (result.depthwise.macs, result.pointwise.macs) == (sep.depthwise.macs, sep.pointwise.macs)
    assert result.mac_reduction == pytest.approx(costs.standard_conv(3, 32, 32, 28).macs / sep.macs)
    assert result.standard.median_ms > 0 and result.separable_ms > 0
    assert min(result.standard.repeats, result.depthwise.repeats, result.pointwise.repeats) >= 3


def test_too_large_shape_is_refused() -> None:
    assert costs.standard_conv(11, 2048, 2048, 512).macs > MAX_TIMED_MACS
    with pytest.raises(InvalidInputError) as info:
        time_convolutions(11, 2048, 2048, 512, 1)
    assert info.value.key == "too_large_to_time"
