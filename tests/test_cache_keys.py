"""Every per-photo cache of the pages follows every input its result depends on (tests/cache_contract.py).

The caches are shared by all sessions of a worker; their keys are built by hand from hashed arguments while the
photo, the model and the head travel as ``_``-prefixed (unhashed) arguments. Each test below changes one input at
a time — the photo, the model (two untrained models: equal weights ids), the weights of one model (real vs
untrained: equal names), the top-k, the class — and expects what a fresh computation gives.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from tests.cache_contract import assert_cache_follows


@pytest.fixture(scope="module")
def photos(photos_dir):
    from explainer.images import load_image, WORKING_MIN_SIDE
    from pages.image_input import ImageChoice

    chosen = {}
    for name in ("cat.jpg", "bird.jpg"):
        data = (photos_dir / name).read_bytes()
        chosen[name] = ImageChoice(data=data, name=name, source="upload",
                                   image=load_image(data, name, min_side=WORKING_MIN_SIDE),
                                   digest=hashlib.sha256(data).hexdigest())
    return chosen


@pytest.fixture(scope="module")
def models(weights_dir):
    from explainer.weights import load_pretrained, untrained

    return {"v2": load_pretrained("mobilenet_v2", weights_dir, download=False),
            "v2_untrained": untrained("mobilenet_v2"), "v3_untrained": untrained("mobilenet_v3_small")}


def _top(result) -> list[tuple[int, float]]:
    return [(p.index, round(p.prob, 5)) for p in result.predictions]


def test_cache_contract_catches_a_key_that_misses_an_input() -> None:
    """The checker itself: a cache keyed on ``a`` alone fails when only ``b`` changes."""
    store: dict = {}

    def fresh(a: int, b: int) -> int:
        return a * 10 + b

    def cached_on_a_only(a: int, b: int) -> int:
        return store.setdefault(a, fresh(a, b))

    assert_cache_follows(lambda a, b: fresh(a, b), fresh, {"a": 1, "b": 2}, {"a": 3, "b": 4})
    with pytest.raises(AssertionError, match="changing only 'b'"):
        assert_cache_follows(cached_on_a_only, fresh, {"a": 1, "b": 2}, {"b": 4})
    with pytest.raises(AssertionError, match="tests nothing"):
        assert_cache_follows(lambda a, b: a, lambda a, b: a, {"a": 1, "b": 2}, {"b": 4})


def test_classify_result_follows_photo_model_weights_and_top(photos, models) -> None:
    from explainer.classify import classify_image
    from pages.caches import classify as cached

    cached._classified.clear()
    assert_cache_follows(
        lambda choice, loaded, top: cached.classified(choice, loaded, top)[0],
        lambda choice, loaded, top: classify_image(choice.image, loaded, top),
        {"choice": photos["cat.jpg"], "loaded": models["v2_untrained"], "top": 5},
        {"choice": photos["bird.jpg"], "loaded": models["v3_untrained"], "top": 3}, project=_top)
    assert_cache_follows(  # the same name, other weights
        lambda loaded: cached.classified(photos["cat.jpg"], loaded, 5)[0],
        lambda loaded: classify_image(photos["cat.jpg"].image, loaded, 5),
        {"loaded": models["v2_untrained"]}, {"loaded": models["v2"]}, project=_top)


def test_classify_chart_follows_language_and_result(photos, models) -> None:
    from explainer.classify import classify_image
    from explainer.figures.classify import top_k_bar
    from explainer.labels import imagenet_label
    from pages.caches import classify as cached

    cat = photos["cat.jpg"]
    results = {key: classify_image(cat.image, models[key], 5) for key in ("v2", "v2_untrained")}

    def fresh(key: str, lang: str):
        result = results[key]
        return top_k_bar(result.predictions, title="t", prob_label="p", height=300,
                         names=[imagenet_label(p.index, lang) for p in result.predictions])

    assert_cache_follows(lambda key, lang: cached.top_chart(cat, models[key], results[key], lang, "t", "p"), fresh,
                         {"key": "v2", "lang": "en"}, {"key": "v2_untrained", "lang": "zh"},
                         project=lambda fig: json.dumps(fig.to_plotly_json()["data"], sort_keys=True, default=str))


def _maps(maps) -> list[tuple[str, int, float]]:
    return [(r.name, int(np.prod(r.tensor.shape)), round(float(r.tensor.float().abs().sum()), 1))
            for r in maps.records]


def test_feature_maps_capture_follows_photo_model_and_weights(photos, models) -> None:
    from explainer import features as fm
    from pages.caches import feature_maps as cached

    cached._capture.clear()
    assert_cache_follows(cached.capture, lambda choice, loaded: fm.capture_image(choice.image, loaded).compact(),
                         {"choice": photos["cat.jpg"], "loaded": models["v2_untrained"]},
                         {"choice": photos["bird.jpg"], "loaded": models["v3_untrained"]}, project=_maps)
    assert_cache_follows(cached.capture, lambda choice, loaded: fm.capture_image(choice.image, loaded).compact(),
                         {"choice": photos["cat.jpg"], "loaded": models["v2_untrained"]},
                         {"loaded": models["v2"]}, project=_maps)


def test_conv_trace_capture_follows_photo_model_and_weights(photos, models) -> None:
    from explainer import trace as T
    from pages.caches import conv_trace as cached

    cached._capture.clear()
    assert_cache_follows(cached.capture, lambda choice, loaded: T.capture_for_trace(choice.image, loaded),
                         {"choice": photos["cat.jpg"], "loaded": models["v2_untrained"]},
                         {"choice": photos["bird.jpg"], "loaded": models["v3_untrained"]}, project=_maps)
    assert_cache_follows(cached.capture, lambda choice, loaded: T.capture_for_trace(choice.image, loaded),
                         {"choice": photos["cat.jpg"], "loaded": models["v2_untrained"]},
                         {"loaded": models["v2"]}, project=_maps)


def test_transfer_class_map_follows_photo_head_and_class(photos, models) -> None:
    import torch

    from explainer.transfer import cam as cams
    from explainer.transfer.head import Head, head_bytes
    from pages.caches import transfer as cached

    rng = np.random.default_rng(0)
    heads = [Head("mobilenet_v2", models["v2"].weights_id, classes, torch.tensor(rng.normal(size=(len(classes), 1280)), dtype=torch.float32),
                  torch.tensor(rng.normal(size=len(classes)), dtype=torch.float32))
             for classes in (("ants", "bees"), ("cups", "mugs", "plates"))]

    def via_cache(choice, head, class_index):
        return cached.class_map(choice.digest, hashlib.sha256(head_bytes(head)).hexdigest(), class_index,
                                "mobilenet_v2", choice.image, models["v2"], head)

    def fresh(choice, head, class_index):
        return cams.head_cam(choice.image, models["v2"], head, class_index)

    cached.class_map.clear()
    assert_cache_follows(via_cache, fresh, {"choice": photos["cat.jpg"], "head": heads[0], "class_index": 0},
                         {"choice": photos["bird.jpg"], "head": heads[1], "class_index": 1},
                         project=lambda m: (m.class_index, m.class_name, round(m.probability, 6), round(float(m.cam.sum()), 3)))


@pytest.mark.slow
def test_compression_page_panels_follow_the_observer(with_weights) -> None:
    """Every panel of the Compression page that depends on the activation observer follows a change of it
    (calibration, agreement, the samples' table, the photo's int8 top-5, the layer view), against a page opened
    fresh with ``?obs=minmax`` after every cache was emptied."""
    from explainer.i18n import t
    from tests.cache_contract import assert_page_follows_setting

    def open_page(params: dict[str, str]):
        from streamlit.testing.v1 import AppTest

        from tests.conftest import ROOT

        at = AppTest.from_file(str(ROOT / "pages" / "quantize.py"), default_timeout=600)
        at.session_state["lang"] = "en"
        for key, value in params.items():
            at.query_params[key] = value
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    assert_page_follows_setting(open_page, lambda at: at.radio(key="obs").set_value("minmax").run(),
                                {"obs": "minmax"}, skip_metrics=(t("quant.speedup", "en"),),
                                skip_charts=("quant_times",))
