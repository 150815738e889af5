"""Structured pruning of MobileNetV2 against the original and its torch.nn.utils.prune masked twin, same run.

At keep 50 % of the hidden channels of all blocks b2-b17 (pretrained weights when present, recovery off: it
does not change the shapes): batch-1 forward of the pruned network (smaller dense layers) and of the masked
twin (the same zeros in dense tensors) against the original, measured in turns, 1 intra-op thread.
Targets (issue 22): pruned / original < 0.95 (measurably faster); masked / original > 0.9 (not faster).

Run: ``python -m bench.prune``.
"""

from __future__ import annotations

import torch

from bench.common import Figure, interleaved_ms, print_table, torch_threads

KEEP = 0.5


def run(repeats: int = 30, threads: int = 1) -> list[Figure]:
    from explainer import prune
    from explainer.weights import load_pretrained

    with torch_threads(threads):
        loaded = load_pretrained("mobilenet_v2", download=False, fallback=True)
        chosen = prune.plan(loaded.model, KEEP)
        pruned = prune.pruned_copy(loaded.model, chosen)
        masked, _ = prune.masked_copy(loaded.model, chosen)
        x = torch.zeros(1, 3, 224, 224)
        models = {"original": loaded.model, "pruned": pruned, "masked": masked}

        def forward(model):
            def call() -> None:
                with torch.inference_mode():
                    model(x)
            return call

        ms = interleaved_ms({name: forward(model) for name, model in models.items()}, repeats)
    return [
        Figure(f"pruned MobileNetV2 (keep {KEEP:.0%} hidden, all blocks), batch 1, {threads} thread", ms["pruned"],
               "original MobileNetV2, same run", ms["original"], target="ratio < 0.95",
               ok=ms["pruned"] < 0.95 * ms["original"]),
        Figure(f"torch.nn.utils.prune masked twin (same zeros, dense), batch 1, {threads} thread", ms["masked"],
               "original MobileNetV2, same run", ms["original"], target="ratio > 0.9 (no speed-up)",
               ok=ms["masked"] > 0.9 * ms["original"]),
    ]


if __name__ == "__main__":
    print_table(run)
