"""Structured pruning of MobileNetV2: the pruned module's MACs and parameters are PyTorch's own counts, keep = 100 %
is exactly the original, the masked twin computes the same as the pruned network but keeps every tensor's size,
the recovery keeps each output channel's mean, and the command line fails with one line and exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode
from torchvision.models import mobilenet_v2

from explainer import prune
from tests.conftest import run_cli

ANTS_BEES = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets" / "ants_bees" / "train"


def flop_macs(model: torch.nn.Module) -> int:
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, 3, 224, 224))
    return counter.get_total_flops() // 2


@pytest.fixture(scope="module")
def random_v2():
    torch.manual_seed(0)
    model = mobilenet_v2(weights=None).eval()
    with torch.no_grad():  # BN statistics that are not identity, so folding matters
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_var.uniform_(0.5, 2.0)
                module.running_mean.normal_(0, 0.1)
                module.weight.uniform_(0.5, 1.5)
    return model


@pytest.mark.parametrize("keep, blocks", [(0.5, prune.BLOCKS), (0.25, ("b4", "b16")), (0.75, ("b2",))])
def test_pruned_macs_and_params_are_pytorchs(random_v2, keep, blocks):
    chosen = prune.plan(random_v2, keep, blocks)
    pruned = prune.pruned_copy(random_v2, chosen)
    result_macs, result_params = flop_macs(pruned), sum(p.numel() for p in pruned.parameters())
    from explainer.counting import count_module

    count = count_module(pruned)
    assert (count.macs, count.total_params) == (result_macs, result_params)
    assert result_macs < flop_macs(random_v2)
    for item in chosen:
        expand, _, depthwise, _, project, _ = prune._parts(pruned, item.name)
        k = prune.kept_count(item.hidden, keep)
        assert len(item.kept) == k
        assert (expand.out_channels, depthwise.in_channels, depthwise.groups, project.in_channels) == (k, k, k, k)
        assert project.out_channels == prune._parts(random_v2, item.name)[4].out_channels  # block output untouched
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        assert pruned(x).shape == (1, 1000)


def test_ranking_uses_the_effective_filters(random_v2):
    model = prune.pruned_copy(random_v2, ())
    expand, bn1, *_ = prune._parts(model, "b5")
    before = prune.channel_scores(model, "b5")
    with torch.no_grad():  # same effective filter: weights × 4, BN scale ÷ 4
        expand.weight[3] *= 4
        bn1.weight[3] /= 4
    assert torch.allclose(prune.channel_scores(model, "b5"), before, rtol=1e-5)
    with torch.no_grad():
        bn1.running_var[3] = 1e6  # effective filter of channel 3 almost zero: it ranks last and goes first
    assert 3 not in prune.plan(model, 0.75, ("b5",))[0].kept


def test_keep_all_is_the_original_exactly(random_v2):
    x = torch.randn(2, 3, 224, 224)
    result = prune.run(random_v2, 1.0, calibration=torch.randn(4, 3, 224, 224), runs=1)
    with torch.no_grad():
        assert torch.equal(result.model(x), random_v2(x))
    assert (result.macs, result.params) == (result.original_macs, result.original_params)


def test_masked_twin_same_outputs_same_size(random_v2):
    calibration = torch.randn(6, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    result = prune.run(random_v2, 0.5, ("b3", "b9", "b14"), calibration=calibration, runs=2)
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        assert torch.allclose(result.model(x), result.masked(x), atol=1e-4, rtol=1e-4)
    assert sum(p.numel() for p in result.masked.parameters()) == result.original_params
    assert flop_macs(result.masked) == result.original_macs  # dense zeros are still multiplied
    assert result.masked_size_bytes == pytest.approx(result.original_size_bytes, rel=0.001)
    assert result.masked_with_masks_bytes > result.original_size_bytes  # weight_orig + weight_mask
    assert result.size_bytes < result.original_size_bytes
    data = result.as_dict()
    assert data["macs"] == {"pruned": result.macs, "original": result.original_macs}
    assert {"latency_ms", "original_latency_ms", "masked_latency_ms"} <= set(data)


def test_recovery_keeps_each_output_channels_mean(random_v2):
    batch = torch.randn(4, 3, 224, 224, generator=torch.Generator().manual_seed(2))
    chosen = prune.plan(random_v2, 0.5, ("b4", "b12"))
    pruned = prune.pruned_copy(random_v2, chosen)
    names = tuple(item.name for item in chosen)

    def bn_means(model):
        means = {}
        handles = [prune._projection(model, b)[1].register_forward_hook(
            lambda m, i, o, b=b: means.__setitem__(b, o.double().mean((0, 2, 3)))) for b in names]
        with torch.no_grad():
            model(batch)
        for h in handles:
            h.remove()
        return means

    target = bn_means(random_v2)
    before = bn_means(pruned)
    errors = prune.recover(random_v2, pruned, names, batch)
    after = bn_means(pruned)
    for b in names:
        assert not torch.allclose(before[b], target[b], atol=1e-3)
        assert torch.allclose(after[b], target[b], atol=1e-3)
        assert 0 <= errors[b] < 1


def test_save_and_load(tmp_path, random_v2):
    result = prune.run(random_v2, 0.25, ("b6",), runs=1)
    path = tmp_path / "pruned.pt"
    assert prune.save(result, path) == path.stat().st_size
    again = prune.load(path)
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        assert torch.equal(again(x), result.model(x))
    (tmp_path / "bad.pt").write_bytes(b"not a model")
    with pytest.raises(Exception, match="not a pruned network"):
        prune.load(tmp_path / "bad.pt")


def test_parse_blocks_and_keep():
    assert prune.parse_blocks("all") == prune.BLOCKS and len(prune.BLOCKS) == 16
    assert prune.parse_blocks("b5, B4") == ("b4", "b5")
    for bad in ("b1", "b18", "zz", ","):
        with pytest.raises(Exception):
            prune.parse_blocks(bad)
    for bad in (0, -0.5, 1.5, "nan", True):
        with pytest.raises(Exception):
            prune.check_keep(bad)


@pytest.mark.parametrize("argv", [("--keep", "0"), ("--keep", "2"), ("--keep", "x"), ("--blocks", "b1"),
                                  ("--blocks", "b4,zz"), ("--eval", "/nonexistent/folder"), ("--runs", "0")])
def test_cli_bad_input_is_one_line_and_exit_2(capsys, argv):
    status, out, err = run_cli(capsys, "prune", *argv, "--json")
    assert status == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1


@pytest.mark.slow
def test_real_weights_cli_and_honest_agreement(capsys, weights_dir, shared_images, tmp_path):
    """Pretrained weights, recovery on 16 ants, agreement on the shared photos + 20 bees (no threshold promised)."""
    if not ANTS_BEES.is_dir():
        pytest.skip(f"shared data missing: ants/bees photos not found in {ANTS_BEES}")
    calibration, evaluation = tmp_path / "cal", tmp_path / "eval"
    calibration.mkdir(), evaluation.mkdir()
    for path in sorted((ANTS_BEES / "ants").glob("*.jpg"))[:16]:
        (calibration / path.name).write_bytes(path.read_bytes())
    for path in [*sorted(shared_images), *sorted((ANTS_BEES / "bees").glob("*.jpg"))[:20]]:
        (evaluation / Path(path).name).write_bytes(Path(path).read_bytes())
    out_file = tmp_path / "pruned.pt"
    status, out, err = run_cli(capsys, "prune", "--keep", "0.75", "--calibration", calibration, "--eval", evaluation,
                               "--weights-dir", weights_dir, "--runs", "3", "--out", out_file, "--json")
    assert status == 0, err
    data = json.loads(out)
    assert [b["kept"] for b in data["blocks"]] == [round(0.75 * b["hidden"]) for b in data["blocks"]]
    assert data["macs"]["pruned"] < data["macs"]["original"] == 300_774_272
    assert data["params"]["original"] == 3_504_872
    assert data["calibration_images"] == 16 and data["agreement"]["n"] == len(shared_images) + 20
    assert 0.0 <= data["top1_agreement"] <= 1.0  # reported, not promised
    assert data["out_bytes"] == out_file.stat().st_size
    model = prune.load(out_file)
    assert flop_macs(model) == data["macs"]["pruned"]
    print(f"\nkeep 0.75, all blocks, recovery on 16 ants: top-1 agreement {data['top1_agreement']:.3f} on "
          f"{data['agreement']['n']} photos")
