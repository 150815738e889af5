"""The Compression page (AppTest, both languages): quantize on the samples, bad calibration uploads, no traceback."""

from __future__ import annotations

import pytest

from explainer.i18n import t
from tests.conftest import run_page

PAGE = "pages/quantize.py"


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_quantize_on_samples(lang: str, with_weights) -> None:
    at = run_page(PAGE, lang, timeout=600)
    assert not at.exception, at.exception
    assert at.title[0].value == t("quant.title", lang)
    metrics = {m.label: m.value for m in at.metric}
    ratio = float(metrics[t("quant.size_ratio", lang)].rstrip("×"))
    assert 0.2 < ratio <= 0.30
    assert metrics[t("quant.agreement", lang)].endswith("%")
    assert t("quant.sqnr_tensor", lang) in metrics and metrics[t("quant.sqnr_tensor", lang)].endswith("dB")
    from explainer.labels import imagenet_labels

    names = set(imagenet_labels(lang))  # ImageNet names in the page's language, as on Classify
    table = at.dataframe[0].value
    assert len(table) and all(v in names for v in table[t("quant.col_fp32", lang)])
    assert all(v in names for v in table[t("quant.col_int8", lang)])
    charts = at.get("plotly_chart")
    assert len(charts) >= 4  # sizes, times, the photo's top-5 (float, int8), the layer view
    if lang == "en":
        # The per-tensor lesson on the first depthwise layer: per-channel keeps the output far better.
        tensor_db = float(metrics[t("quant.sqnr_tensor", lang)].split()[0])
        channel_db = float(metrics[t("quant.sqnr_channel", lang)].split()[0])
        assert channel_db > tensor_db + 5
        at.radio(key="scheme").set_value("per-tensor").run()
        assert not at.exception
        per_tensor = {m.label: m.value for m in at.metric}
        share = lambda value: float(value.rstrip("%"))  # noqa: E731
        assert share(per_tensor[t("quant.agreement", lang)]) < share(metrics[t("quant.agreement", lang)])
        # Which layers hurt: one layer quantized at a time; per tensor, a depthwise layer hurts most.
        at.button(key="quant_sens").click().run()
        assert not at.exception, at.exception
        worst = [c.value for c in at.caption if c.value.startswith("Hurts most")]
        assert worst and "depthwise" in worst[0]


@pytest.mark.slow
def test_bad_calibration_upload_is_one_line(with_weights) -> None:
    at = run_page(PAGE, "zh", timeout=600)
    at.radio(key="cal").set_value("uploads").run()
    assert not at.exception
    assert any(t("quant.calibration_waiting", "zh") in i.value for i in at.info)
    at.file_uploader(key="quant_cal_upload").set_value([("notes.jpg", b"this is text", "image/jpeg")])
    at.run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("notes.jpg" in e for e in errors)
    assert any(t("errors.quant.no_calibration", "zh") in e for e in errors)


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_pruning_section(lang: str, with_weights) -> None:
    """The pruning section at the end of the page: on the button, measured in one run; the numbers are the core's."""
    from explainer.counting import count_module

    at = run_page(PAGE, lang, timeout=600)
    assert not at.exception, at.exception
    assert any(t("prune.waiting", lang) == i.value for i in at.info)
    if lang == "en":
        at.radio(key="pscope").set_value("one").run()
        at.selectbox(key="pblock").set_value("b5")
        at.radio(key="pkeep").set_value("25")
        at.run()
    at.button(key="prune_run").click().run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    macs_ratio = float(metrics[t("prune.macs_ratio", lang)].rstrip("×"))
    table = [d.value for d in at.table if t("prune.m_masked", lang) in d.value.columns][0]
    pruned_macs = int(table[t("prune.m_pruned", lang)][0].replace(",", ""))
    original_macs = int(table[t("prune.m_original", lang)][0].replace(",", ""))
    assert original_macs == 300_774_272 and pruned_macs < original_macs
    assert macs_ratio == pytest.approx(pruned_macs / original_macs, abs=0.005)
    assert table[t("prune.m_masked", lang)][0] == table[t("prune.m_original", lang)][0]  # masks: same MACs
    assert metrics[t("prune.agreement", lang)].endswith("%")
    if lang == "en":  # one block, 25 % kept: exactly the core's count of that pruned network
        from explainer import prune
        from explainer.weights import load_pretrained

        model = load_pretrained("mobilenet_v2", with_weights, download=False).model
        chosen = prune.plan(model, 0.25, ("b5",))
        assert pruned_macs == count_module(prune.pruned_copy(model, chosen)).macs
