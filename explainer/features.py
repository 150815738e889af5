"""Feature maps: what every stage of every MobileNet block outputs for one photo.

One forward pass with PyTorch forward hooks records, in execution order, the
output of every stage listed in the architecture tables
(:func:`explainer.architectures.build_network`):

* **V1**: the stem convolution, then for each of the 13 blocks its depthwise
  (3×3 + ReLU6) and pointwise (1×1 + ReLU6) layer;
* **V2**: the stem, then for each of the 17 inverted residual blocks its
  expansion (1×1 + ReLU6; absent when t = 1), depthwise (3×3 + ReLU6),
  linear projection (1×1 + batch norm, *no* activation) and, when the block
  has a shortcut, the residual sum; then the final 1×1 convolution;
* **V3**: the same stages (with ReLU or h-swish) plus the squeeze-and-excite
  output (the depthwise output scaled channel by channel).

Each stage is hooked at the module whose output is the stage's output: the
``conv → bn → act`` unit around the convolution named in the table, the
batch norm after V2's projection, the ``SqueezeExcitation`` module, and the
whole ``InvertedResidual`` block for the residual sum. Hooks are always
removed, also when the forward pass fails.

A :class:`StageRecord` holds block index, stage, shape ``(C, H, W)``, the
tensor itself and the MACs/params of its layer and of its whole block from
the architecture tables. :meth:`FeatureMaps.compact` computes the statistics
(exact fraction of zeros, mean, min, max) on the float32 tensors and then
stores them as float16, halving the memory a cache entry takes.
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from explainer.architectures import Layer, Network, build_network
from explainer.errors import InvalidInputError

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

    from explainer.weights import LoadedModel

#: Stages in the order they run inside a block (not every block has all of them).
STAGES: tuple[str, ...] = ("stem", "expand", "depthwise", "pointwise", "se", "project", "residual", "head")
#: Layer-table stages that are captured (the classifier is a vector, not a feature map).
CAPTURED_STAGES = frozenset(STAGES) - {"residual"}
#: Layer-table types that are convolutions (their input can be kept, see :func:`capture`).
CONV_TYPES = frozenset({"conv", "depthwise", "pointwise"})
#: Channels a grid may show.
K_RANGE: tuple[int, int] = (1, 64)


@dataclass(frozen=True)
class StageStats:
    """Summary of one stage output over all its values."""

    zero_fraction: float  # exact zeros / all values (what a ReLU switched off)
    mean: float
    min: float
    max: float


@dataclass(frozen=True)
class StageRecord:
    """The output of one stage of one block for one image."""

    index: int  # position in execution order
    block: int  # 0 = stem, 1..k blocks, k+1 = head (as in the architecture tables)
    stage: str  # one of STAGES
    name: str  # layer name in the architecture table ("b3.dw"), or "b3.residual"
    shape: tuple[int, int, int]  # (C, H, W)
    input_shape: tuple[int, int, int]  # (C, H, W) of what this stage received
    tensor: torch.Tensor = field(repr=False, compare=False)  # [C, H, W]
    activation: str | None  # "relu6", "relu", "hswish" or None (linear); the SE stage and residual: None
    macs: int  # this layer's MACs (0 for the residual sum)
    params: int  # this layer's params (0 for the residual sum)
    block_macs: int  # the whole block's MACs (classifier excluded)
    block_params: int
    module: str  # the PyTorch module whose output this is
    stats: StageStats | None = None
    activity: np.ndarray | None = field(default=None, repr=False, compare=False)  # float32 [C], see channel_activity
    structure: np.ndarray | None = field(default=None, repr=False, compare=False)  # float32 [C], channel_structure
    #: What the stage's convolution received, ``[C_in, H_in, W_in]`` (only with ``capture(keep_inputs=True)``,
    #: for convolution stages; usually the very tensor object of the previous stage's output, so no extra memory).
    input: torch.Tensor | None = field(default=None, repr=False, compare=False)

    @property
    def channels(self) -> int:
        return self.shape[0]

    @property
    def linear(self) -> bool:
        """No activation after this stage (projection, residual sum): values may be negative."""
        return self.activation is None

    def summary(self) -> StageStats:
        """The statistics (computed now from the tensor when not stored)."""
        return self.stats if self.stats is not None else stage_stats(self.tensor)

    def channel(self, c: int) -> np.ndarray:
        """Channel ``c`` as a float32 ``H×W`` array."""
        return self.tensor[c].float().numpy()

    def as_dict(self) -> dict[str, object]:
        """One entry of ``python -m explainer features --json``."""
        s = self.summary()
        return {
            "block": self.block, "stage": self.stage, "name": self.name, "shape": list(self.shape),
            "zero_fraction": s.zero_fraction, "mean": s.mean, "max": s.max,
        }


@dataclass(frozen=True)
class FeatureMaps:
    """All stage outputs of one forward pass, and what they came from."""

    model: str
    width: float
    resolution: int
    records: tuple[StageRecord, ...]
    logits: torch.Tensor = field(repr=False, compare=False)  # [1, classes]
    input_image: np.ndarray | None = field(default=None, repr=False, compare=False)  # uint8 H×W×3 fed to the net
    weights_id: str = ""
    pretrained: bool = False
    forward_ms: float = 0.0

    @property
    def blocks(self) -> list[int]:
        """Block indices that have at least one record, in order."""
        return sorted({r.block for r in self.records})

    def block(self, block: int) -> list[StageRecord]:
        return [r for r in self.records if r.block == block]

    def record(self, block: int, stage: str) -> StageRecord:
        for r in self.records:
            if r.block == block and r.stage == stage:
                return r
        raise InvalidInputError("features.no_stage", block=block, stage=stage)

    def block_output(self, block: int) -> StageRecord:
        """What the block hands to the next one: its last record."""
        chosen = self.block(block)
        if not chosen:
            raise InvalidInputError("features.no_block", block=block, low=self.blocks[0], high=self.blocks[-1])
        return chosen[-1]

    @property
    def nbytes(self) -> int:
        return sum(r.tensor.numel() * r.tensor.element_size() for r in self.records)

    def compact(self, dtype: torch.dtype = torch.float16) -> FeatureMaps:
        """Statistics from the exact float32 values, then the tensors stored as ``dtype`` (for caching)."""
        records = tuple(
            replace(r, stats=r.summary(), activity=channel_activity(r), structure=channel_structure(r),
                    tensor=r.tensor.to(dtype, copy=True),
                    input=None if r.input is None else r.input.to(dtype, copy=True))
            for r in self.records
        )
        return replace(self, records=records, logits=self.logits.clone())

    def as_list(self) -> list[dict[str, object]]:
        return [r.as_dict() for r in self.records]


# --------------------------------------------------------------------------
# Statistics and channel ranking
# --------------------------------------------------------------------------


def stage_stats(tensor: torch.Tensor) -> StageStats:
    """Exact fraction of zeros, mean, min and max of ``tensor`` (computed in float32)."""
    values = tensor.float()
    low, high = torch.aminmax(values)
    return StageStats(
        zero_fraction=(values.numel() - int(torch.count_nonzero(values))) / values.numel(),
        mean=float(values.mean(dtype=torch.float64)),
        min=float(low),
        max=float(high),
    )


def check_k(k: int) -> int:
    """``k`` if it is a whole number in :data:`K_RANGE`, else :class:`InvalidInputError`."""
    low, high = K_RANGE
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise InvalidInputError("not_integer", name="k", value=k)
    if not low <= int(k) <= high:
        raise InvalidInputError("out_of_range", name="k", low=low, high=high, value=k)
    return int(k)


def channel_activity(record: StageRecord) -> np.ndarray:
    """Mean absolute value of every channel (how active it is), float32 ``[C]`` (stored by
    :meth:`FeatureMaps.compact`, from the float32 values)."""
    if record.activity is not None:
        return record.activity
    return record.tensor.float().abs().mean(dim=(1, 2)).numpy()


#: The upper clip of each activation (values there carry no picture: a channel at 6 everywhere is one colour).
_CLIP = {"relu6": 6.0}


def channel_structure(record: StageRecord) -> np.ndarray:
    """How much visible structure of the photo every channel shows, float32 ``[C]``.

    The spread (standard deviation) of the channel after a 3×3 box blur, times the share of its values
    that are *not* at the activation's upper clip (ReLU6's 6). The blur keeps edges and shapes, which
    span several neighbouring values, and averages away pixel noise; the clip factor sends a saturated
    channel (6 almost everywhere: one flat colour with speckles) to the end. The rules it replaces ranked
    by mean |value|, which put exactly those saturated channels first. Stored by :meth:`FeatureMaps.compact`
    (from the float32 values)."""
    if record.structure is not None:
        return record.structure
    planes = record.tensor.float()
    clip = _CLIP.get(record.activation or "")
    clipped = (planes >= clip - 1e-3).float().mean(dim=(1, 2)) if clip is not None else torch.zeros(planes.shape[0])
    blurred = F.avg_pool2d(planes[:, None], 3, stride=1, padding=1, count_include_pad=False)[:, 0]
    spread = blurred.flatten(1).std(dim=1, unbiased=False) if blurred[0].numel() > 1 else torch.zeros(planes.shape[0])
    return (spread * (1.0 - clipped)).numpy().astype(np.float32)


def top_channels(record: StageRecord, k: int) -> list[int]:
    """The ``k`` clearest channels (:func:`channel_structure`, largest first; ties by channel number): the
    channels the pages open on and show first."""
    k = min(check_k(k), record.channels)
    structure = channel_structure(record)
    order = np.lexsort((np.arange(structure.size), -structure))
    return [int(c) for c in order[:k]]


# --------------------------------------------------------------------------
# Where to hook
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    layer: Layer | None  # None for a residual sum
    block: int
    stage: str
    name: str
    module_name: str
    shape: tuple[int, int, int]  # (C, H, W)
    input_shape: tuple[int, int, int]
    activation: str | None
    macs: int
    params: int


def _stage_module(model: nn.Module, layer: Layer) -> str:
    """Name of the module whose output is ``layer``'s stage output (after batch norm and activation)."""
    if layer.stage == "se":
        return layer.module
    conv_name = layer.module
    parent_name, _, child = conv_name.rpartition(".")
    parent = model.get_submodule(parent_name)
    conv = model.get_submodule(conv_name)
    children = list(parent.children())
    if isinstance(parent, nn.Sequential) and children and children[0] is conv and len(children) <= 3:
        return parent_name  # conv → bn → act unit (torchvision's Conv2dNormActivation, our ConvBNAct)
    names = [n for n, _ in parent.named_children()]
    position = names.index(child)
    if position + 1 < len(children) and isinstance(children[position + 1], nn.BatchNorm2d):
        return f"{parent_name}.{names[position + 1]}"  # V2's projection: conv then a bare batch norm
    return conv_name


def _block_module(model: nn.Module, layer: Layer) -> str:
    """Name of the inverted residual block that contains ``layer`` (it has ``use_res_connect``)."""
    parts = layer.module.split(".")
    for end in range(len(parts) - 1, 0, -1):
        name = ".".join(parts[:end])
        if hasattr(model.get_submodule(name), "use_res_connect"):
            return name
    raise InvalidInputError("features.no_residual", name=layer.name)


#: Resolved targets per model object (weakly held) and table: finding the modules takes milliseconds.
_TARGETS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def targets(model: nn.Module, network: Network) -> tuple[list[_Target], dict[int, tuple[int, int]]]:
    """Every stage to capture, in execution order, with the module to hook; and each block's (MACs, params).

    Cached per model object and table (the tables are immutable; a model's module tree does not change)."""
    key = (network.model, network.width, network.resolution, network.twin)
    per_model = _TARGETS.get(model)
    if per_model is not None and key in per_model:
        found, block_cost = per_model[key]
        return list(found), dict(block_cost)
    found, block_cost = _find_targets(model, network)
    _TARGETS.setdefault(model, {})[key] = (tuple(found), dict(block_cost))
    return found, block_cost


def _find_targets(model: nn.Module, network: Network) -> tuple[list[_Target], dict[int, tuple[int, int]]]:
    out: list[_Target] = []
    block_cost: dict[int, tuple[int, int]] = {}
    for layer in network.layers:
        if layer.stage == "classifier":
            continue
        macs, params = block_cost.get(layer.block, (0, 0))
        block_cost[layer.block] = (macs + layer.macs, params + layer.params)
    for layer in network.layers:
        if layer.stage not in CAPTURED_STAGES:
            continue
        h, w, c = layer.output
        ih, iw, ic = layer.input
        activation = None if layer.stage == "se" else layer.activation
        out.append(_Target(layer, layer.block, layer.stage, layer.name, _stage_module(model, layer), (c, h, w),
                           (ic, ih, iw), activation, layer.macs, layer.params))
        if layer.residual:
            block_name = _block_module(model, layer)
            if not getattr(model.get_submodule(block_name), "use_res_connect", False):
                raise InvalidInputError("features.no_residual", name=layer.name)
            out.append(_Target(None, layer.block, "residual", f"b{layer.block}.residual", block_name, (c, h, w),
                               (c, h, w), None, 0, 0))
    return out, block_cost


# --------------------------------------------------------------------------
# Capture
# --------------------------------------------------------------------------


def capture(model: nn.Module, batch: torch.Tensor, network: Network, keep_inputs: bool = False) -> FeatureMaps:
    """Run ``model`` once on ``batch`` ``[1, 3, S, S]`` and record every stage of ``network``.

    With ``keep_inputs`` every convolution stage also keeps what its ``Conv2d``
    received (:attr:`StageRecord.input`, hooked at the convolution itself), as
    :mod:`explainer.trace` needs to recompute one output value by hand.

    ``network`` must describe ``model`` at this input size
    (``build_network(name, width, S)``). Hooks are removed before returning,
    also when the forward pass raises. They record only the calling thread's
    pass, so other threads may use the same model meanwhile.
    """
    if batch.dim() != 4 or batch.shape[0] != 1 or batch.shape[1] != 3:
        raise InvalidInputError("features.bad_batch", shape="×".join(str(s) for s in batch.shape))
    if batch.shape[2] != network.resolution or batch.shape[3] != network.resolution:
        raise InvalidInputError("features.bad_batch", shape="×".join(str(s) for s in batch.shape))
    try:
        stage_targets, block_cost = targets(model, network)
    except (AttributeError, ValueError) as err:  # a module named in the table is missing from this model
        raise InvalidInputError("features.not_run", name=network.model, module=str(err)) from err
    outputs: list[torch.Tensor | None] = [None] * len(stage_targets)
    inputs: list[torch.Tensor | None] = [None] * len(stage_targets)
    handles = []
    # The model is shared by every session of the app: while these hooks are in place another thread may
    # run the same model (another student's capture or classification). Record only this thread's pass.
    owner = threading.get_ident()
    # torchvision's V3 block adds its shortcut in place (``result += input``), into the projection's output
    # tensor: a projection followed by a residual sum is copied when recorded (V2 adds out of place).
    copied = {slot for slot, target in enumerate(stage_targets[:-1]) if stage_targets[slot + 1].stage == "residual"}

    def hook_for(slot: int, copy: bool):
        def hook(module: nn.Module, args: object, output: torch.Tensor) -> None:
            if threading.get_ident() == owner:
                outputs[slot] = output.clone() if copy else output

        return hook

    def input_hook_for(slot: int):
        def hook(module: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
            if threading.get_ident() == owner:
                inputs[slot] = args[0]

        return hook

    try:
        for slot, target in enumerate(stage_targets):
            handles.append(model.get_submodule(target.module_name).register_forward_hook(
                hook_for(slot, slot in copied)))
            if keep_inputs and target.layer is not None and target.layer.type in CONV_TYPES:
                conv = model.get_submodule(target.layer.module)
                handles.append(conv.register_forward_pre_hook(input_hook_for(slot)))
        start = time.perf_counter()
        with torch.inference_mode():
            logits = model(batch)
        forward_ms = (time.perf_counter() - start) * 1000.0
    finally:
        for handle in handles:
            handle.remove()
    records = []
    for slot, (target, tensor) in enumerate(zip(stage_targets, outputs)):
        if tensor is None:  # a stage that did not run: the table does not describe this model
            raise InvalidInputError("features.not_run", name=target.name, module=target.module_name)
        macs, params = block_cost.get(target.block, (0, 0))
        received = inputs[slot]
        records.append(StageRecord(
            index=slot, block=target.block, stage=target.stage, name=target.name, shape=target.shape,
            input_shape=target.input_shape, tensor=tensor[0], activation=target.activation, macs=target.macs, params=target.params,
            block_macs=macs, block_params=params, module=target.module_name,
            input=None if received is None else received[0],
        ))
    return FeatureMaps(model=network.model, width=network.width, resolution=network.resolution,
                       records=tuple(records), logits=logits, forward_ms=forward_ms)


def network_for(loaded: LoadedModel, resolution: int | None = None) -> Network:
    """The architecture table of a loaded model (its width, and its crop size unless given)."""
    return build_network(loaded.name, width=loaded.width, resolution=resolution or loaded.input_size)


def capture_image(image: Image.Image, loaded: LoadedModel, keep_inputs: bool = False) -> FeatureMaps:
    """Preprocess ``image`` with the weights' transform and capture every stage of ``loaded``'s model
    (``keep_inputs``: see :func:`capture`)."""
    from explainer.classify import preprocess, tensor_to_image

    batch = preprocess(image, loaded)
    network = network_for(loaded, int(batch.shape[-1]))
    maps = capture(loaded.model, batch, network, keep_inputs=keep_inputs)
    return replace(maps, input_image=tensor_to_image(batch, loaded), weights_id=loaded.weights_id,
                   pretrained=loaded.pretrained)


def journey(maps: FeatureMaps) -> list[tuple[StageRecord, int]]:
    """One representative channel per block, from the stem to the last convolution:
    ``[(the block's output record, its clearest channel)]``."""
    return [(rec, top_channels(rec, 1)[0]) for rec in (maps.block_output(b) for b in maps.blocks)]


def bottleneck_path(maps: FeatureMaps, block: int) -> list[StageRecord]:
    """The stages of a V2/V3 block in order (expand, depthwise, se, project, residual; V1: depthwise, pointwise)."""
    return maps.block(block)


def zero_fractions(maps: FeatureMaps, stages: Sequence[str] = ("expand", "depthwise")) -> list[float]:
    """Fraction of exact zeros of every record of the given stages."""
    return [r.summary().zero_fraction for r in maps.records if r.stage in stages]
