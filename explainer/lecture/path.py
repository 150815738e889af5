"""The guided path: the seed article's story in order, one step per idea (data, no Streamlit).

Each step names its texts (``hall.step_<key>_title`` / ``_idea`` in the locale files), the page that shows it and
the URL state that page opens in (the keys the pages really read: see ``pages/url_state.py``), one live number
computed by the core (:func:`live_number`), and the questions asked at that step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from urllib.parse import urlencode

from explainer.errors import InvalidInputError


@dataclass(frozen=True)
class Step:
    key: str
    page: str  # url path of the page to open ("" = home)
    params: dict[str, str] = field(default_factory=dict)  # its URL state
    number: str = ""  # the live number shown with the step (see live_number)
    picture: str = ""  # or a picture: a bundled sample photo's key (explainer.samples)

    @property
    def link(self) -> str:
        """``/page?key=value…`` (relative to the app's address)."""
        query = urlencode(self.params)
        return f"/{self.page}" + (f"?{query}" if query else "")

    def questions(self):
        from explainer.lecture.questions import QUESTIONS

        return [q for q in QUESTIONS if q.step == self.key]


STEPS: tuple[Step, ...] = (
    Step("why", "architectures", {"model": "mobilenet_v1"}, "v1_weights_mb"),
    Step("family", "zoo", {}, "v1_twin_ratio"),
    Step("separable", "cost", {"dk": "3", "m": "32", "n": "64", "df": "112"}, "separable_ratio"),
    Step("by_hand", "conv_trace", {}, "standard_layer_macs"),
    Step("formulas", "cost", {"dk": "3", "m": "512", "n": "512", "df": "14"}, "formula_ratio"),
    Step("v1", "architectures", {"model": "mobilenet_v1", "w": "0.75", "res": "192"}, "v1_macs"),
    Step("v2", "architectures", {"model": "mobilenet_v2"}, "v2_macs"),
    Step("feature_maps", "feature_maps", {"src": "sample", "sample": "chelsea"}, picture="chelsea"),
    Step("classify", "classify", {"src": "sample", "sample": "chelsea"}, picture="chelsea"),
    Step("transfer", "transfer", {}, "transfer_params"),
    Step("applications", "segment", {}, "v2_320_macs"),
    Step("compression", "quantize", {}, "v2_weights_mb"),
    Step("choosing", "zoo", {}, "v3_small_macs"),
)
STEP_KEYS = tuple(step.key for step in STEPS)


def step_index(key: str) -> int:
    return STEP_KEYS.index(key)


def step_at(index: object) -> Step:
    """Step number ``index`` (0-based); an index outside the path is an ``InvalidInputError``."""
    try:
        i = int(str(index))
    except ValueError:
        i = -1
    if not 0 <= i < len(STEPS):
        raise InvalidInputError("lecture.bad_step", step=str(index)[:20], last=len(STEPS) - 1)
    return STEPS[i]


@cache
def live_number(name: str) -> tuple[str, float]:
    """``(format, value)`` of a step's live number, computed by the core: format ``"int"``, ``"ratio"`` or ``"mb"``."""
    from explainer import costs
    from explainer.architectures import build_network

    if name == "separable_ratio":
        return "ratio", costs.standard_conv(3, 32, 64, 112).macs / costs.depthwise_separable(3, 32, 64, 112).macs
    if name == "formula_ratio":
        return "ratio", costs.standard_conv(3, 512, 512, 14).macs / costs.depthwise_separable(3, 512, 512, 14).macs
    if name == "standard_layer_macs":
        return "int", costs.standard_conv(3, 32, 64, 112).macs
    if name == "v1_macs":
        return "int", build_network("mobilenet_v1", 0.75, 192).macs
    if name == "v2_macs":
        return "int", build_network("mobilenet_v2", 1.0, 224).macs
    if name == "v2_320_macs":
        return "int", build_network("mobilenet_v2", 1.0, 320).macs
    if name == "v3_small_macs":
        return "int", build_network("mobilenet_v3_small", 1.0, 224).macs
    if name == "v1_twin_ratio":
        return "ratio", (build_network("mobilenet_v1", 1.0, 224, twin=True).macs
                         / build_network("mobilenet_v1", 1.0, 224).macs)
    if name == "transfer_params":
        from explainer.models import build_model

        features = build_model("mobilenet_v2").classifier[-1].in_features
        return "int", features * 2 + 2  # a new 2-class layer (ants, bees): weights and biases
    if name in ("v1_weights_mb", "v2_weights_mb"):
        from explainer.counting import build_on_meta, count_module
        from explainer.models import build_model

        model = "mobilenet_v1" if name.startswith("v1") else "mobilenet_v2"
        return "mb", count_module(build_on_meta(build_model, name=model)).total_params * 4 / 1e6
    raise KeyError(name)
