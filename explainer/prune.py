"""Structured pruning of MobileNetV2: remove hidden channels of the inverted residual blocks for real.

An inverted residual block expands its input to ``hidden`` channels (1×1 conv + BN + ReLU6), filters each of
them alone (3×3 depthwise conv + BN + ReLU6) and projects them back (1×1 conv + BN, linear). Hidden channel
``k`` lives in three places: output ``k`` of the expansion (and its BN entry), depthwise filter ``k`` (its
input, output and group), and input ``k`` of the projection. Removing it from all three together gives
smaller dense layers: fewer MACs, fewer parameters, a smaller file and less time. The block's output, and so
the skip connection, keeps its shape. Block ``b1`` has no expansion (its hidden channels are the stem's
outputs), so blocks ``b2`` … ``b17`` can be pruned.

* **Ranking.** Each hidden channel is scored by the L1 norms of its *effective* filters, batch norm folded in
  (``γ / √(var + ε)`` times the weights): expansion filter × depthwise filter × projection column. A channel
  that is small at any of the three steps contributes little; the lowest scores go.
* **Recovery** (optional, no training, a second or two): on a few calibration photos, each pruned block's
  projection is refitted by least squares so that its kept hidden channels reproduce what all of them gave
  in the unpruned network (as in ThiNet, Luo et al. 2017, and He et al. 2017's channel pruning), with an
  intercept folded into the BN shift: every output channel then keeps its mean on those photos exactly.
  One forward pass of the original records the targets, one pass of the pruned network refits block after
  block (later blocks see the corrected inputs). It uses data only, so it works whatever the batch-norm
  statistics in the weights are (the shared weights have BN folded in: γ and the running statistics say
  nothing). Correcting the bias alone (keeping the means) was measured too and recovered far less.
* **The masked twin.** ``torch.nn.utils.prune`` does the same sparsity with masks: the zeros stay in dense
  tensors, so nothing gets smaller or faster. The twin carries the same refitted projections: its outputs
  equal the pruned network's (up to float rounding).
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass

import torch
from torch import nn

from explainer.errors import InvalidInputError

#: The shares of hidden channels the page offers.
KEEPS: tuple[float, ...] = (1.0, 0.75, 0.5, 0.25)
#: Blocks with an expansion layer: b2 … b17 = ``features.2`` … ``features.17`` of torchvision's MobileNetV2.
BLOCKS: tuple[str, ...] = tuple(f"b{i}" for i in range(2, 18))
#: At most this many calibration photos take part in the recovery (one forward pass, batch = all of them).
MAX_CALIBRATION = 32


def _module_index(block: str) -> int:
    return int(block[1:])


def parse_blocks(text: str | None) -> tuple[str, ...]:
    """``"all"`` (or None) → every prunable block; ``"b4,b5"`` → those (in network order)."""
    if text is None or text.strip().lower() == "all":
        return BLOCKS
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in BLOCKS]
    if not names or unknown:
        raise InvalidInputError("prune.bad_blocks", value=text, choices=f"all, {BLOCKS[0]} … {BLOCKS[-1]}")
    return tuple(name for name in BLOCKS if name in names)


def check_keep(keep: object) -> float:
    """The share of hidden channels to keep: more than 0, at most 1."""
    try:
        value = float(keep)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        value = float("nan")
    if isinstance(keep, bool) or not 0.0 < value <= 1.0:  # NaN fails too
        raise InvalidInputError("prune.bad_keep", value=keep)
    return value


def _parts(model: nn.Module, block: str) -> tuple[nn.Conv2d, nn.BatchNorm2d, nn.Conv2d, nn.BatchNorm2d, nn.Conv2d,
                                                   nn.BatchNorm2d]:
    """(expansion conv, BN, depthwise conv, BN, projection conv, BN) of one torchvision inverted residual."""
    conv = model.features[_module_index(block)].conv
    return conv[0][0], conv[0][1], conv[1][0], conv[1][1], conv[2], conv[3]


def _bn_scale(bn: nn.BatchNorm2d) -> torch.Tensor:
    return bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)


def channel_scores(model: nn.Module, block: str) -> torch.Tensor:
    """One score per hidden channel: L1 of the effective expansion filter × depthwise filter × projection column."""
    expand, bn1, depthwise, bn2, project, bn3 = _parts(model, block)
    with torch.no_grad():
        e = (expand.weight.flatten(1).abs().sum(1)) * _bn_scale(bn1).abs()
        d = (depthwise.weight.flatten(1).abs().sum(1)) * _bn_scale(bn2).abs()
        p = (project.weight.flatten(1).abs() * _bn_scale(bn3).abs()[:, None]).sum(0)
    return e * d * p


def kept_count(hidden: int, keep: float) -> int:
    return max(1, min(hidden, round(keep * hidden)))


@dataclass(frozen=True)
class BlockPlan:
    """Which hidden channels of one block stay."""

    name: str
    hidden: int
    kept: tuple[int, ...]  # channel indices, ascending

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "hidden": self.hidden, "kept": len(self.kept)}


def plan(model: nn.Module, keep: float, blocks: tuple[str, ...] = BLOCKS) -> tuple[BlockPlan, ...]:
    """The channels each block keeps: the ``keep`` share with the highest :func:`channel_scores`."""
    keep = check_keep(keep)
    out = []
    for block in blocks:
        scores = channel_scores(model, block)
        hidden = scores.numel()
        top = torch.topk(scores, kept_count(hidden, keep)).indices
        out.append(BlockPlan(block, hidden, tuple(sorted(int(i) for i in top))))
    return tuple(out)


def _conv_like(old: nn.Conv2d, in_channels: int, out_channels: int, groups: int) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, old.kernel_size, stride=old.stride, padding=old.padding,
                     dilation=old.dilation, groups=groups, bias=old.bias is not None)


def _bn_subset(old: nn.BatchNorm2d, index: torch.Tensor) -> nn.BatchNorm2d:
    new = nn.BatchNorm2d(len(index), eps=old.eps, momentum=old.momentum)
    with torch.no_grad():
        new.weight.copy_(old.weight[index])
        new.bias.copy_(old.bias[index])
        new.running_mean.copy_(old.running_mean[index])
        new.running_var.copy_(old.running_var[index])
        new.num_batches_tracked.copy_(old.num_batches_tracked)
    return new


def pruned_copy(model: nn.Module, blocks: tuple[BlockPlan, ...]) -> nn.Module:
    """A copy of ``model`` whose planned blocks have only their kept hidden channels (smaller dense layers)."""
    model = copy.deepcopy(model).eval()
    for item in blocks:
        expand, bn1, depthwise, bn2, project, bn3 = _parts(model, item.name)
        index = torch.tensor(item.kept, dtype=torch.long)
        k = len(item.kept)
        new_expand = _conv_like(expand, expand.in_channels, k, 1)
        new_dw = _conv_like(depthwise, k, k, k)
        new_project = _conv_like(project, k, project.out_channels, 1)
        with torch.no_grad():
            new_expand.weight.copy_(expand.weight[index])
            new_dw.weight.copy_(depthwise.weight[index])
            new_project.weight.copy_(project.weight[:, index])
            for new, old in ((new_expand, expand), (new_dw, depthwise)):
                if old.bias is not None:
                    new.bias.copy_(old.bias[index])
            if project.bias is not None:
                new_project.bias.copy_(project.bias)
        conv = model.features[_module_index(item.name)].conv
        conv[0][0], conv[0][1] = new_expand, _bn_subset(bn1, index)
        conv[1][0], conv[1][1] = new_dw, _bn_subset(bn2, index)
        conv[2] = new_project
    for p in model.parameters():
        p.requires_grad_(False)
    return model.eval()  # the new batch norms were made in training mode


def masked_copy(model: nn.Module, blocks: tuple[BlockPlan, ...]) -> tuple[nn.Module, int]:
    """The same sparsity with ``torch.nn.utils.prune`` masks, made permanent (zeros in dense tensors).

    Returns the model and the bytes of its state dict while the masks were attached (``weight_orig`` and
    ``weight_mask`` both stored: larger than the original).
    """
    from torch.nn.utils import prune as torch_prune

    from explainer.quant.ptq import state_dict_bytes

    model = copy.deepcopy(model).eval()
    masked = []
    for item in blocks:
        expand, _, depthwise, _, project, _ = _parts(model, item.name)
        keep = torch.zeros(item.hidden, dtype=torch.bool)
        keep[list(item.kept)] = True
        rows = keep.float()
        torch_prune.custom_from_mask(expand, "weight", rows[:, None, None, None].expand_as(expand.weight))
        torch_prune.custom_from_mask(depthwise, "weight", rows[:, None, None, None].expand_as(depthwise.weight))
        torch_prune.custom_from_mask(project, "weight", rows[None, :, None, None].expand_as(project.weight))
        masked += [expand, depthwise, project]
    with_masks = state_dict_bytes(model)
    for module in masked:
        torch_prune.remove(module, "weight")
    for p in model.parameters():
        p.requires_grad_(False)
    return model, with_masks


def _projection(model: nn.Module, block: str) -> tuple[nn.Conv2d, nn.BatchNorm2d]:
    conv = model.features[_module_index(block)].conv
    return conv[-2], conv[-1]


#: Ridge of the least-squares refit, relative to the mean of the Gram matrix's diagonal.
RIDGE = 1e-3


def projection_outputs(model: nn.Module, blocks: tuple[str, ...], batch: torch.Tensor) -> dict[str, torch.Tensor]:
    """Each block's projection convolution output (before its BN) on ``batch``, float64."""
    outputs: dict[str, torch.Tensor] = {}
    handles = []
    for block in blocks:
        def hook(module, inputs, output, block=block):
            outputs[block] = output.double()
        handles.append(_projection(model, block)[0].register_forward_hook(hook))
    try:
        with torch.no_grad():
            model(batch)
    finally:
        for handle in handles:
            handle.remove()
    return outputs


def _refit(hidden: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Least squares ``target ≈ W · hidden + β`` over every photo and position (ridge on W, none on β)."""
    k, out = hidden.shape[1], target.shape[1]
    x = hidden.double().permute(0, 2, 3, 1).reshape(-1, k)
    y = target.permute(0, 2, 3, 1).reshape(-1, out)
    x1 = torch.cat([x, torch.ones(x.shape[0], 1, dtype=x.dtype)], dim=1)
    gram = x1.T @ x1
    ridge = torch.zeros(k + 1, dtype=x.dtype)
    ridge[:k] = RIDGE * float(gram.diagonal()[:k].mean())
    solution = torch.linalg.solve(gram + torch.diag(ridge), x1.T @ y)
    return solution[:k].T, solution[k]


def recover(original: nn.Module, pruned: nn.Module, blocks: tuple[str, ...], batch: torch.Tensor) -> dict[str, float]:
    """Refit each pruned block's projection on ``batch`` so it reproduces the original block's projection.

    The kept hidden channels (as the already-pruned earlier blocks deliver them) should give what all hidden
    channels gave in the original network: a least-squares fit of the projection's weights and an intercept
    folded into its BN shift. With an intercept, every output channel keeps its mean on the calibration
    photos exactly. One pass of the original records the targets; one pass of ``pruned`` (changed in place)
    refits block after block, so later blocks already see corrected inputs. Returns the relative error of
    each refit on the calibration photos (residual / target, RMS).
    """
    batch = batch[:MAX_CALIBRATION]
    target = projection_outputs(original, blocks, batch)
    errors: dict[str, float] = {}
    handles = []
    for block in blocks:
        conv, bn = _projection(pruned, block)

        def hook(module, inputs, output, block=block, bn=bn):
            weight, shift = _refit(inputs[0], target[block])
            module.weight.copy_(weight.to(module.weight.dtype)[:, :, None, None])
            bn.bias.add_((_bn_scale(bn).double() * shift).to(bn.bias.dtype))
            refitted = nn.functional.conv2d(inputs[0], module.weight)
            residual = refitted.double() + shift[None, :, None, None] - target[block]
            errors[block] = float(residual.pow(2).mean().sqrt() / target[block].pow(2).mean().sqrt())
            return refitted
        handles.append(conv.register_forward_hook(hook))
    try:
        with torch.no_grad():
            pruned(batch)
    finally:
        for handle in handles:
            handle.remove()
    return errors


def copy_projections(source: nn.Module, target: nn.Module, blocks: tuple[BlockPlan, ...]) -> None:
    """Give the masked ``target`` the (refitted) projections of the pruned ``source``: kept columns, zeros elsewhere."""
    with torch.no_grad():
        for item in blocks:
            (src_conv, src_bn), (dst_conv, dst_bn) = _projection(source, item.name), _projection(target, item.name)
            dst_conv.weight.zero_()
            dst_conv.weight[:, list(item.kept)] = src_conv.weight
            dst_bn.bias.copy_(src_bn.bias)


@dataclass(frozen=True)
class Latency:
    """Median ms per photo of the original, the pruned and the masked network, timed alternately in one run."""

    original_ms: float
    pruned_ms: float
    masked_ms: float
    runs: int
    threads: int

    def as_dict(self) -> dict[str, float]:
        return {"original_latency_ms": round(self.original_ms, 3), "latency_ms": round(self.pruned_ms, 3),
                "masked_latency_ms": round(self.masked_ms, 3), "runs": self.runs, "threads": self.threads}


def time_three(original: nn.Module, pruned: nn.Module, masked: nn.Module, runs: int = 15, size: int = 224) -> Latency:
    """Batch-1 forward time of the three models on one input, in turns (same machine load for all three): the
    app's one statistic (:mod:`explainer.stopwatch`, the median)."""
    from explainer import stopwatch

    x = torch.zeros(1, 3, size, size)
    with torch.inference_mode():
        timed = stopwatch.time_interleaved({"original": lambda: original(x), "pruned": lambda: pruned(x),
                                            "masked": lambda: masked(x)}, runs=max(1, runs), warmup=1)
    return Latency(timed["original"].median_ms, timed["pruned"].median_ms, timed["masked"].median_ms,
                   timed["original"].runs, timed["original"].threads)


@dataclass(frozen=True)
class Pruned:
    """One pruning experiment: the plan, the pruned network and its masked twin, counted and measured together."""

    keep: float
    recovered: bool
    blocks: tuple[BlockPlan, ...]
    model: nn.Module
    masked: nn.Module
    macs: int
    params: int  # sum(p.numel())
    original_macs: int
    original_params: int
    size_bytes: int  # torch.save(state_dict) of the pruned network
    original_size_bytes: int
    masked_size_bytes: int  # the masked twin with its zeros made permanent
    masked_with_masks_bytes: int  # the masked twin while torch.nn.utils.prune's masks are attached
    latency: Latency
    seconds: float  # how long the whole experiment took

    def as_dict(self) -> dict[str, object]:
        return {
            "keep": self.keep, "recover": self.recovered, "blocks": [b.as_dict() for b in self.blocks],
            "macs": {"pruned": self.macs, "original": self.original_macs},
            "params": {"pruned": self.params, "original": self.original_params},
            "size_bytes": {"pruned": self.size_bytes, "original": self.original_size_bytes,
                           "masked": self.masked_size_bytes, "masked_with_masks": self.masked_with_masks_bytes},
            **self.latency.as_dict(),
        }


def run(original: nn.Module, keep: float, blocks: tuple[str, ...] = BLOCKS, *, calibration: torch.Tensor | None = None,
        runs: int = 15) -> Pruned:
    """Prune ``original`` (torchvision's MobileNetV2, unchanged), recover when ``calibration`` photos are given,
    build the masked twin, and count, size and time all three in this one run."""
    from explainer.counting import count_module
    from explainer.quant.ptq import state_dict_bytes

    start = time.perf_counter()
    keep = check_keep(keep)
    chosen = plan(original, keep, blocks)
    pruned = pruned_copy(original, chosen)
    touched = tuple(item.name for item in chosen if len(item.kept) < item.hidden)  # keep = 1: nothing to recover
    if calibration is not None and touched:
        recover(original, pruned, touched, calibration)
    masked, with_masks = masked_copy(original, chosen)
    copy_projections(pruned, masked, chosen)
    count, reference = count_module(pruned), count_module(original)
    latency = time_three(original, pruned, masked, runs=runs)
    return Pruned(keep, calibration is not None, chosen, pruned, masked, count.macs, count.total_params,
                  reference.macs, reference.total_params, state_dict_bytes(pruned), state_dict_bytes(original),
                  state_dict_bytes(masked), with_masks, latency, time.perf_counter() - start)


def compare(original: nn.Module, pruned: nn.Module, batch: torch.Tensor, names: list[str],
            categories: list[str]) -> dict[str, object]:
    """How often the pruned network's top-1 is the original's, photo by photo (agreement, not accuracy)."""
    from explainer.quant.compare import compare_models

    result = compare_models(original, pruned, batch, names, categories)
    return {"n": result.n, "top1_agreement": round(result.top1_agreement, 4),
            "original_top1_in_pruned_top5": round(result.fp32_top1_in_int8_top5, 4),
            "images": [{"file": r.file, "original_top1": r.fp32_top1, "pruned_top5": r.int8_top5, "agrees": r.agrees}
                       for r in result.images]}


FILE_FORMAT = "mobilenet-explainer-pruned-mobilenet_v2"


def save(result: Pruned, path) -> int:
    """Write the pruned network (its plan and state dict, plain tensors) with ``torch.save``; returns bytes."""
    from pathlib import Path

    payload = {"format": FILE_FORMAT, "version": 1, "keep": result.keep,
               "blocks": {b.name: list(b.kept) for b in result.blocks}, "hidden": {b.name: b.hidden for b in result.blocks},
               "state_dict": result.model.state_dict()}
    torch.save(payload, path)
    return Path(path).stat().st_size


def load(path) -> nn.Module:
    """A pruned MobileNetV2 written by :func:`save` (read with ``weights_only=True``)."""
    from torchvision.models import mobilenet_v2

    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if payload.get("format") != FILE_FORMAT:
            raise ValueError("format")
        blocks = tuple(BlockPlan(name, int(payload["hidden"][name]), tuple(int(i) for i in kept))
                       for name, kept in payload["blocks"].items())
        model = pruned_copy(mobilenet_v2(weights=None), blocks)
        model.load_state_dict(payload["state_dict"])
    except Exception as error:  # a file that is not ours, or a damaged one
        raise InvalidInputError("prune.bad_file", file=str(path)) from error
    return model.eval()


@dataclass(frozen=True)
class PublishedPruning:
    """One published pruning result on ImageNet (all after hours of fine-tuning on GPUs)."""

    method: str
    network: str
    macs_m: float | None  # millions of MACs after pruning (None: not the point of the paper)
    top1: float | None  # ImageNet top-1, %
    baseline: str  # what it is compared with
    source: str


#: As reported by the papers (fine-tuned or retrained after pruning, hours of GPU time each).
PUBLISHED: tuple[PublishedPruning, ...] = (
    PublishedPruning("AMC", "MobileNetV2", 210.0, 70.9, "MobileNetV2 300 M MACs, 71.8 %",
                     "He et al., \"AMC: AutoML for model compression and acceleration on mobile devices\", ECCV 2018"),
    PublishedPruning("MetaPruning", "MobileNetV2", 303.0, 72.7, "uniform width 313 M MACs, 72.0 %",
                     "Liu et al., \"MetaPruning: meta learning for automatic neural network channel pruning\", ICCV 2019"),
    PublishedPruning("NetAdapt", "MobileNetV1 / V2", None, None, "up to 1.7× faster measured on a phone, same accuracy",
                     "Yang et al., \"NetAdapt: platform-aware neural network adaptation for mobile applications\", ECCV 2018"),
)
