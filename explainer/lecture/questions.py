"""The lecture's questions, and their true answers computed by the app's own core (never typed in).

Three kinds, as in peer instruction:

* ``number`` — an estimate (MACs of the exact layer shown, a network's total, a file size); the true value comes
  from the cost engine (:mod:`explainer.costs`) or the layer tables (:mod:`explainer.architectures`);
* ``choice`` — one of a few options; the right one is found by the exact counter (:mod:`explainer.counting`);
* ``top1`` — predict a network's top-1 class for a photo; the truth is the classify core's answer with the
  pretrained weights when they are available (:func:`top1_truth`), else it is reported as unknown.

Texts: locale keys ``hall.q_<id>`` (with the question's ``params`` filled in) and ``hall.q_<id>_opt<i>`` for the
options of a choice; a top1 question's options are ImageNet class names (shown translated by the labels module).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from explainer.errors import ExplainerError, InvalidInputError

KINDS = ("number", "choice", "top1")
#: The largest number estimate accepted (far above any network's MACs; keeps stored values short).
MAX_ESTIMATE = 1e15


@dataclass(frozen=True)
class Question:
    id: str
    kind: str  # "number" | "choice" | "top1"
    step: str  # the key of the path step it belongs to
    params: dict[str, Any] = field(default_factory=dict)  # the exact shape / photo shown with it
    options: tuple[str, ...] = ()  # choice: option codes (labels in the locale files); top1: ImageNet class names
    truth: Callable[[Question], float | int] | None = None  # number → value; choice → option index
    unit: str = ""  # locale key suffix of the unit shown with a number ("macs", "mb", "times")

    def text(self, lang: str) -> str:
        from explainer.i18n import t

        return t(f"hall.q_{self.id}", lang, **{k: _fmt(v) for k, v in self.params.items()})

    def option_labels(self, lang: str) -> list[str]:
        if self.kind == "choice":
            from explainer.i18n import t

            return [t(f"hall.q_{self.id}_opt{i}", lang) for i in range(len(self.options))]
        if self.kind == "top1":
            return [_class_label(name, lang) for name in self.options]
        return []

    def answer(self) -> float | int | None:
        """The true value (number), the right option's index (choice); ``None`` for top1 (see :func:`top1_truth`)."""
        if self.truth is None:
            return None
        return _truth_cached(self.id)

    def parse(self, raw: object) -> str:
        """A participant's answer checked and written as stored (``InvalidInputError`` if it is not one)."""
        text = str(raw).strip().replace(",", "").replace("_", "")
        if self.kind == "number":
            try:
                value = float(text)
            except ValueError:
                raise InvalidInputError("lecture.bad_number", value=str(raw)[:40]) from None
            if not math.isfinite(value) or value <= 0 or value > MAX_ESTIMATE:
                raise InvalidInputError("lecture.bad_number", value=str(raw)[:40])
            return repr(float(f"{value:.6g}"))
        try:
            index = int(text)
        except ValueError:
            index = -1
        if not 0 <= index < len(self.options) or text != str(index):
            raise InvalidInputError("lecture.bad_option", value=str(raw)[:40], last=len(self.options) - 1)
        return str(index)

    def as_dict(self, with_answer: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "kind": self.kind, "step": step_number(self.step),
                               "text_en": self.text("en"), "text_zh": self.text("zh")}
        if self.kind in ("choice", "top1"):
            out["options"] = self.option_labels("en")
            out["options_zh"] = self.option_labels("zh")
        if self.kind == "top1":
            out["photo"] = self.params["photo"]
            out["model"] = self.params["model"]
        elif with_answer:
            out["answer"] = self.answer()
        return out


def _fmt(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _class_label(name: str, lang: str) -> str:
    if lang == "en":
        return name
    from explainer.labels import imagenet_label
    from explainer.weights import imagenet_categories

    return imagenet_label(imagenet_categories().index(name), lang)


# --- true answers --------------------------------------------------------------------------------------------


def _separable_macs(q: Question) -> int:
    from explainer.costs import depthwise_separable

    p = q.params
    return depthwise_separable(p["dk"], p["m"], p["n"], p["df"]).macs


def _standard_macs(q: Question) -> int:
    from explainer.costs import standard_conv

    p = q.params
    return standard_conv(p["dk"], p["m"], p["n"], p["df"]).macs


def _saving(q: Question) -> float:
    """How many times fewer MACs the separable layer costs than the standard one (exact, 2 decimals)."""
    return round(_standard_macs(q) / _separable_macs(q), 2)


def _inverted_macs(q: Question) -> int:
    from explainer.costs import inverted_residual

    p = q.params
    return inverted_residual(p["dk"], p["m"], p["n"], p["df"], p["t"]).macs


def _network_macs(q: Question) -> int:
    from explainer.architectures import build_network

    p = q.params
    return build_network(p["model"], p["width"], p["res"]).macs


#: The option codes of "which layer type dominates" mapped to the counter's layer kinds.
LAYER_KINDS = ("standard", "depthwise", "pointwise", "linear")


@cache
def _v1_by_kind() -> dict[str, tuple[int, int]]:
    """MobileNetV1's MACs and parameters per layer kind, counted on PyTorch's meta device (exact)."""
    from explainer.counting import build_on_meta, count_module
    from explainer.models import build_model

    count = count_module(build_on_meta(build_model, name="mobilenet_v1"), (3, 224, 224))
    return {kind: (cost.macs, cost.params) for kind, cost in count.by_kind().items()}


def _v1_dominant(q: Question) -> int:
    which = 0 if q.params["what"] == "macs" else 1
    totals = _v1_by_kind()
    best = max(LAYER_KINDS, key=lambda kind: totals.get(kind, (0, 0))[which])
    return q.options.index(best)


def _fp32_megabytes(q: Question) -> float:
    """The weights file of a network in float32: every parameter (with batch norm) × 4 bytes, in MB (10⁶ B)."""
    from explainer.counting import build_on_meta, count_module
    from explainer.models import build_model

    count = count_module(build_on_meta(build_model, name=q.params["model"]), (3, 224, 224))
    return round(count.total_params * 4 / 1e6, 2)


QUESTIONS: tuple[Question, ...] = (
    Question("dsc_macs", "number", "separable", {"dk": 3, "m": 32, "n": 64, "df": 112}, truth=_separable_macs,
             unit="macs"),
    Question("std_macs", "number", "by_hand", {"dk": 3, "m": 32, "n": 64, "df": 112}, truth=_standard_macs,
             unit="macs"),
    Question("saving", "number", "formulas", {"dk": 3, "m": 512, "n": 512, "df": 14}, truth=_saving, unit="times"),
    Question("v1_macs_kind", "choice", "v1", {"what": "macs"}, LAYER_KINDS, truth=_v1_dominant),
    Question("v1_params_kind", "choice", "v1", {"what": "params"}, LAYER_KINDS, truth=_v1_dominant),
    Question("v2_block_macs", "number", "v2", {"dk": 3, "m": 24, "n": 24, "df": 56, "t": 6}, truth=_inverted_macs,
             unit="macs"),
    Question("v2_macs", "number", "v2", {"model": "mobilenet_v2", "width": 1.0, "res": 224}, truth=_network_macs,
             unit="macs"),
    Question("top1_chelsea", "top1", "classify", {"photo": "chelsea", "model": "mobilenet_v2"},
             ("tabby", "tiger cat", "Egyptian cat", "lynx")),
    Question("fp32_mb", "number", "compression", {"model": "mobilenet_v2"}, truth=_fp32_megabytes, unit="mb"),
)
BY_ID: dict[str, Question] = {q.id: q for q in QUESTIONS}


def question(question_id: str) -> Question:
    """The question ``question_id`` (``InvalidInputError`` naming the known ids if there is none)."""
    try:
        return BY_ID[question_id]
    except KeyError:
        raise InvalidInputError("lecture.unknown_question", question=str(question_id)[:40],
                                choices=", ".join(BY_ID)) from None


@cache
def _truth_cached(question_id: str) -> float | int:
    q = BY_ID[question_id]
    assert q.truth is not None
    return q.truth(q)


@dataclass(frozen=True)
class Top1Truth:
    label: str | None  # the network's top-1 class (English ImageNet name), None when no weights are available
    index: int | None  # its position among the question's options (None: none of them)
    reason: str = ""  # why the label is unknown (a one-line message)


_TOP1: dict[tuple[str, str], Top1Truth] = {}


def top1_truth(q: Question, weights_dir: str | None = None) -> Top1Truth:
    """The network's own top-1 for the question's photo (pretrained weights from the usual chain, no download).

    Computed once per process and question; without weights the truth is unknown (never guessed)."""
    cache_key = (q.id, str(weights_dir))
    if cache_key in _TOP1:
        return _TOP1[cache_key]
    from explainer.classify import classify_source
    from explainer.samples import sample_bytes
    from explainer.weights import load_pretrained

    try:
        loaded = load_pretrained(q.params["model"], weights_dir, download=False)
        data, name = sample_bytes(q.params["photo"])
        result = classify_source(data, loaded, top=1, name=name)
    except ExplainerError as error:
        return Top1Truth(None, None, error.public_message("en"))
    label = result.predictions[0].label
    truth = Top1Truth(label, q.options.index(label) if label in q.options else None)
    _TOP1[cache_key] = truth
    return truth


def step_number(step_key: str) -> int:
    from explainer.lecture.path import step_index

    return step_index(step_key)
