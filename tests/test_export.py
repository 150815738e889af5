"""Export to ExecuTorch (``explainer.deploy``): real weights, real photos, real .pte files run by the runtime.

Lowering takes 10–60 s on the shared 2-core machine: the three exported programs (float32 and int8 of
α = 1.0 at 224, float32 of α = 0.5 at 160 through the real command line) are made once per session, by a
second process that starts when these tests are collected and runs while the tests before them do
(``tests/background_exports.py``); the fixtures wait for its results.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from pathlib import Path

import pytest
import torch
from torch import nn

from explainer.deploy import once
from explainer.deploy import pte as deploy
from explainer.images import load_image
from tests.conftest import background_export, run_cli

pytestmark = pytest.mark.skipif(not deploy.executorch_available(), reason="executorch is not installed")


@pytest.fixture(scope="session")
def photos(shared_images) -> tuple[list[str], list]:
    paths = sorted(shared_images)
    return [Path(p).name for p in paths], [load_image(p, Path(p).name) for p in paths]


@pytest.fixture(scope="session")
def v2_network(weights_dir):
    settings = deploy.check_settings(width=1.0, resolution=224, dtype="float32")
    network = deploy.load_network(settings, weights_dir, download=False)
    assert network.pretrained and network.weights_id == "mobilenet_v2.pth"
    return network


def _worker_result(stem: str) -> deploy.ExportResult:
    """``deploy.export_and_measure(network, settings, batch of the shared photos, names, runs=3)`` of MobileNetV2
    α = 1.0 at 224 with the shared weights, made by the export worker (tests/background_exports.py) while the
    tests before this file ran; the ``.pte`` is loaded here by this process's runtime."""
    made = background_export(f"{stem}.pkl")
    exported = made["exported"]
    return deploy.ExportResult(exported, deploy.PteRunner(exported.pte, exported.settings.resolution),
                               made["measurement"], made["pretrained"], made["weights"], made["weights_id"])


@pytest.fixture(scope="session")
def fp32_result(v2_network, photos):
    result = _worker_result("fp32")
    assert result.settings == deploy.check_settings(width=1.0, resolution=224, dtype="float32")
    assert result.weights_id == v2_network.weights_id
    return result


@pytest.fixture(scope="session")
def int8_result(v2_network, photos):
    result = _worker_result("int8")
    assert result.settings == deploy.check_settings(width=1.0, resolution=224, dtype="int8")
    assert result.weights_id == v2_network.weights_id
    return result


@pytest.fixture(scope="session")
def cli_export_run() -> dict:
    """``python -m explainer export --width 0.5 --resolution 160 --runs 3 --out FILE --json`` run for real, with
    the ``offline`` fixture's environment (no weights folder, empty caches, downloads off), by the export worker:
    ``{"returncode", "stdout", "stderr", "out"}``."""
    return background_export("cli.pkl")


def _eager_top1(network, images) -> list[int]:
    with torch.inference_mode():
        return [int(network.model(network.preprocess(image)).argmax()) for image in images]


@pytest.mark.slow
def test_float32_pte_matches_eager_on_every_shared_photo(fp32_result, v2_network, photos, shared_images) -> None:
    names, images = photos
    m = fp32_result.measurement
    assert [r.name for r in m.photos] == names
    # Same top-1 as eager PyTorch on every photo, computed here independently of measure().
    assert [r.pte_index for r in m.photos] == _eager_top1(v2_network, images)
    assert m.agreeing == len(images) == 4
    assert 0 < m.max_abs_diff <= 1e-3  # rounding only, and not trivially zero
    # The exported file's own top-1 is the correct ImageNet class (expected.json).
    for row, path in zip(m.photos, sorted(shared_images)):
        assert row.pte_top1 in shared_images[path]["top5_any"]
    # Running the saved bytes again gives bit-identical logits (the runtime is deterministic).
    again = deploy.PteRunner(fp32_result.exported.pte, 224)
    x = v2_network.preprocess(images[0])
    assert torch.equal(again(x), fp32_result.runner(x))


@pytest.mark.slow
def test_float32_size_and_lowering_read_from_the_program(fp32_result, v2_network) -> None:
    model = v2_network.model
    params = sum(p.numel() for p in model.parameters())
    bn_params = sum(p.numel() for m in model.modules() if isinstance(m, nn.BatchNorm2d) for p in m.parameters())
    size = fp32_result.exported.size_bytes
    # Batch norm is folded: the file holds the conv/linear weights and one bias per conv output channel.
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    folded = (params - bn_params) + sum(c.out_channels for c in convs)
    assert 4 * folded <= size <= 4 * folded + 200_000
    low = fp32_result.exported.lowering
    depthwise = sum(1 for c in convs if c.groups == c.in_channels and c.groups > 1)
    assert low.xnn_nodes["XNNDepthwiseConv2d"] == depthwise == 17
    assert low.xnn_nodes["XNNConv2d"] == len(convs) - depthwise == 35
    assert low.xnn_nodes["XNNFullyConnected"] == 1
    assert low.xnn_nodes["XNNAdd"] == sum(1 for b in model.features if getattr(b, "use_res_connect", False)) == 10
    assert low.portable_count == 0 and low.delegate_calls == 1
    assert low.folded_batch_norms == sum(1 for m in model.modules() if isinstance(m, nn.BatchNorm2d)) == 52
    assert low.fused_activations == sum(1 for m in model.modules() if isinstance(m, nn.ReLU6)) == 35
    assert low.clamp_ranges == Counter({(0.0, 6.0): 35})
    assert low.weight_dtypes["fp32"] == 2 * (len(convs) + 1)  # a weight and a bias per conv and the classifier
    data = fp32_result.as_dict()
    assert data["delegated_ops"] == {"xnnpack": low.delegated_nodes, "portable": 0}
    assert data["runtime_threads"] == 1
    assert data["latency_ms"] > 0 and data["eager_latency_ms"] > 0


@pytest.mark.slow
def test_int8_keeps_top1_and_stores_per_channel_int8(int8_result, fp32_result, v2_network, photos) -> None:
    m = int8_result.measurement
    assert m.agreeing >= 3
    assert int8_result.exported.calibration_images == 4
    # int8 weights: about a quarter of the float file.
    assert 0.2 < int8_result.exported.size_bytes / fp32_result.exported.size_bytes < 0.32
    low = int8_result.exported.lowering
    layers = sum(1 for mod in v2_network.model.modules() if isinstance(mod, (nn.Conv2d, nn.Linear)))
    assert low.weight_dtypes["qcint8 (per channel)"] == layers == 53
    assert low.portable_count == 0
    assert m.max_abs_diff > 1e-3  # quantization changes the logits (not the float file by mistake)


@pytest.mark.slow
def test_cli_exports_untrained_alpha_half_at_160(cli_export_run) -> None:
    out = Path(cli_export_run["out"])
    status, stdout = cli_export_run["returncode"], cli_export_run["stdout"]
    assert status == 0, cli_export_run["stderr"]
    data = json.loads(stdout)
    assert data["file"] == str(out) and out.stat().st_size == data["bytes"]
    assert data["pretrained"] is False and data["weights"] == "untrained"
    assert (data["width"], data["resolution"], data["dtype"]) == (0.5, 160, "float32")
    assert data["delegated_ops"]["xnnpack"] > 0 and data["delegated_ops"]["portable"] == 0
    assert data["top1_agreement"] == 1.0 and data["max_abs_diff"] <= 1e-3
    assert data["latency_ms"] > 0 and data["eager_latency_ms"] > 0
    # The written file runs in a fresh runtime program and matches the same seeded eager network.
    settings = deploy.check_settings(width=0.5, resolution=160)
    network = deploy.network_from(settings)
    x = torch.randn(1, 3, 160, 160)
    with torch.inference_mode():
        eager = network.model(x)
    assert (deploy.PteRunner(out.read_bytes(), 160)(x) - eager).abs().max() <= 1e-3
    # Its size follows α: a 0.5 network has about a quarter to a third of the α = 1 parameters.
    params = sum(p.numel() for p in network.model.parameters())
    assert 4 * params * 0.9 <= data["bytes"] <= 4 * params + 200_000


@pytest.mark.parametrize("argv, fragment", [
    (["--width", "0"], "α must be between 0.35 and 1.4"),
    (["--resolution", "7"], "resolution must be between 96 and 224"),
    (["--model", "resnet50"], "invalid choice: 'resnet50'"),
    (["--dtype", "int4"], "invalid choice: 'int4'"),
    (["--width", "abc"], "invalid float value"),
])
def test_cli_bad_options(capsys, tmp_path: Path, argv, fragment) -> None:
    status, stdout, stderr = run_cli(capsys, "export", *argv, "--out", tmp_path / "x.pte")
    assert status == 2 and stdout == ""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0]
    assert not (tmp_path / "x.pte").exists()


def test_cli_without_executorch_says_so_in_one_line(capsys, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(deploy, "executorch_available", lambda: False)
    status, _, stderr = run_cli(capsys, "export", "--out", tmp_path / "x.pte")
    assert status == 2
    assert stderr.strip().splitlines() == ["error: " + deploy.ExplainerError("export.no_executorch").message("en")]


def test_settings_validation() -> None:
    assert deploy.check_settings(width=0.35, resolution=96, dtype="int8").file_name() == "mobilenet_v2_0.35_96_int8.pte"
    for bad in ({"width": float("nan")}, {"width": 1.5}, {"resolution": 225}, {"resolution": 160.0},
                {"dtype": "fp16"}, {"model": "mobilenet_v3_large"}, {"width": True}):
        with pytest.raises(deploy.InvalidInputError):
            deploy.check_settings(**bad)
    # The cache key tells apart everything the file depends on (and ignores calibration for float32).
    s32, s8 = deploy.check_settings(), deploy.check_settings(dtype="int8")
    assert deploy.cache_key(s32, "w", "a") == deploy.cache_key(s32, "w", "b")
    assert deploy.cache_key(s8, "w", "a") != deploy.cache_key(s8, "w", "b")
    assert deploy.cache_key(s32, "w") != deploy.cache_key(s32, "untrained")
    assert deploy.cache_key(deploy.check_settings(width=0.5), "w") != deploy.cache_key(s32, "w")


def test_transform_moves_to_the_resolution() -> None:
    from torchvision.models import MobileNet_V2_Weights

    base = MobileNet_V2_Weights.IMAGENET1K_V1.transforms()
    moved = deploy.transform_at(base, 160)
    assert moved.crop_size == [160] and moved.resize_size == [round(160 * 256 / 224)]
    assert moved.mean == base.mean and moved.std == base.std
    assert deploy.transform_at(base, 224) is base


# ------------------------------------------------------------------ single flight


def test_once_per_key_computes_once_under_a_crowd() -> None:
    cache: once.OncePerKey[object] = once.OncePerKey(max_entries=2)
    release = threading.Event()
    started = threading.Event()
    calls = []

    def compute():
        calls.append(1)
        started.set()
        assert release.wait(30)
        return object()

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("k", compute))) for _ in range(16)]
    for thread in threads:
        thread.start()
    assert started.wait(30)
    assert cache.running("k")
    release.set()
    for thread in threads:
        thread.join(30)
    assert len(calls) == 1 and cache.computations == 1
    values = {id(v) for v, _ in results}
    assert len(results) == 16 and len(values) == 1
    assert sum(computed for _, computed in results) == 1
    assert cache.peek("k") is results[0][0]


def test_once_per_key_runs_one_key_at_a_time_and_evicts() -> None:
    cache: once.OncePerKey[int] = once.OncePerKey(max_entries=2, slots=1)
    lock = threading.Lock()
    state = {"now": 0, "most": 0}

    def compute(value: int):
        def run():
            with lock:
                state["now"] += 1
                state["most"] = max(state["most"], state["now"])
            # Give the other threads every chance to overlap (they wait on the slot, not on time).
            for _ in range(200):
                threading.Event().wait(0.0005)
            with lock:
                state["now"] -= 1
            return value
        return run

    threads = [threading.Thread(target=cache.get, args=(k, compute(k))) for k in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert state["most"] == 1 and cache.computations == 3
    assert sum(cache.peek(k) is not None for k in range(3)) == 2  # the least recently used was dropped


def test_once_per_key_retries_after_a_failure_and_submit_is_single_flight() -> None:
    cache: once.OncePerKey[str] = once.OncePerKey()

    def broken():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        cache.get("k", broken)
    assert cache.peek("k") is None and not cache.running("k")
    assert cache.get("k", lambda: "ok") == ("ok", True)

    release = threading.Event()

    def slow(progress):
        progress("lower", 0.5)
        assert release.wait(30)
        return "done"

    job = cache.submit("j", slow)
    assert all(cache.submit("j", slow) is job for _ in range(5))
    release.set()
    for _ in range(3000):
        if job.finished:
            break
        threading.Event().wait(0.01)
    assert job.finished and job.error is None and cache.peek("j") == "done"
    assert cache.computations == 2
    assert cache.submit("j", slow).finished  # cached: no new job
