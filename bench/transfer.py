"""Transfer learning ("Teach it new classes"): features, head training and the page, against baselines.

* **features per photo**: :func:`explainer.transfer.embed.embed_photos` on 32 real ants/bees photos
  (decode from JPEG bytes + preprocess + batched forward in batches of 16 + pooling), no cache, per photo —
  against one bare MobileNetV2 forward pass on a prepared ``1×3×224×224`` tensor;
* **cached features**: the same call again (every photo in the feature cache);
* **head training**: :func:`explainer.transfer.head.train_head` on the features of the ants/bees set's
  training part (196 of its 244 readable photos, 60 L-BFGS steps) — against extracting those photos'
  features (measured once, same run);
* **fine-tuning** (full run only): the last stage + head, one epoch over the same 196 photos with
  augmentation, against the frozen pipeline (features + head); both hold-out accuracies in the name;
* **page rerun after training** (AppTest): median rerun of ``pages/transfer.py`` holding a trained
  head — against the same page's rerun before any photo was added; the target is that it never trains
  again (``teach.fit`` calls stay at 1).

Needs the ants/bees photos (``EXPLAINER_DATA_DIR``, else ``../shared/datasets/ants_bees/train``).
Run: ``python -m bench.transfer``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import torch

from bench.common import Figure, median_ms

SHARED = Path(os.environ.get("EXPLAINER_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
DEFAULT_DATA = SHARED / "datasets" / "ants_bees" / "train"


def _data_dir() -> Path | None:
    from explainer.errors import ExplainerError
    from explainer.transfer.datasets import demo_folder

    weights = SHARED / "weights"
    if not os.environ.get("EXPLAINER_WEIGHTS_DIR") and (weights / "mobilenet_v2.pth").is_file():
        os.environ["EXPLAINER_WEIGHTS_DIR"] = str(weights)
    if not os.environ.get("EXPLAINER_DATA_DIR") and (DEFAULT_DATA / "ants").is_dir():
        os.environ["EXPLAINER_DATA_DIR"] = str(DEFAULT_DATA)
    try:
        return demo_folder(download=False)
    except ExplainerError as err:
        print(f"bench.transfer: skipped ({err.message('en')})", file=sys.stderr)
        return None


def _bare_forward_ms(loaded, repeats: int) -> float:
    batch = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        return median_ms(lambda: loaded.model(batch), repeats, warmup=3)


def _page_figures(folder: Path, repeats: int) -> list[Figure]:
    from streamlit.testing.v1 import AppTest

    from explainer.transfer import teach

    root = Path(__file__).resolve().parents[1]
    calls: list[int] = []
    real = teach.fit

    def counting(data, loaded, **kwargs):
        calls.append(len(data.photos))
        return real(data, loaded, **kwargs)

    def rerun_ms(at) -> float:
        return median_ms(at.run, repeats, warmup=0)

    teach.fit = counting
    try:
        at = AppTest.from_file(str(root / "pages" / "transfer.py"), default_timeout=900)
        at.session_state["lang"] = "en"
        at.run()
        empty_ms = rerun_ms(at)
        at.button(key="tl_demo").click().run()
        at.button(key="tl_train").click().run()
        trained_ms = rerun_ms(at)
    finally:
        teach.fit = real
    return [Figure("transfer page rerun after training (244 photos; AppTest, median)", trained_ms,
                   "the same page's rerun before any photo", empty_ms,
                   target="no retraining (fit calls stay 1)", ok=calls == [244])]


def run(repeats: int = 10, quick: bool = False, threads: int = 1) -> list[Figure]:
    from explainer.transfer.datasets import holdout_split, read_image_folder
    from explainer.transfer.embed import CACHE, FeatureCache, embed_photos
    from explainer.transfer.finetune import fine_tune
    from explainer.transfer.head import evaluate, train_head
    from explainer.weights import load_pretrained

    folder = _data_dir()
    if folder is None:
        return []
    default_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        loaded = load_pretrained("mobilenet_v2", download=False, fallback=True)
        data = read_image_folder(folder)
        bare = _bare_forward_ms(loaded, repeats * 3)
        sample = data.photos[:32]
        cache = FeatureCache()
        start = time.perf_counter()
        embed_photos(sample, loaded, cache=cache)
        per_photo = (time.perf_counter() - start) * 1000.0 / len(sample)
        start = time.perf_counter()
        embed_photos(sample, loaded, cache=cache)
        cached = (time.perf_counter() - start) * 1000.0 / len(sample)
        CACHE.clear()
        start = time.perf_counter()
        embedded = embed_photos(data.photos, loaded)  # fills the process cache (the page run below uses it)
        all_s = time.perf_counter() - start
        labels = data.labels[embedded.kept]
        train, held = holdout_split(labels)
        x = embedded.features
        head_samples = []
        for _ in range(3):
            trained = train_head(x[train], labels[train], data.classes, model=loaded.name)
            head_samples.append(trained.seconds * 1000.0)
        head_ms = statistics.median(head_samples)
        extraction_train_ms = all_s * 1000.0 * len(train) / len(x)
        frozen_acc = evaluate(trained.head, x[held], labels[held]).accuracy
        figures = [
            Figure("transfer: features per photo (decode + preprocess + batched forward + pool, 32 photos)",
                   per_photo, "bare MobileNetV2 forward on a prepared 1×3×224×224 tensor (1 thread)", bare),
            Figure("transfer: features per photo from the cache (photo hash + model)", cached,
                   "bare MobileNetV2 forward on a prepared 1×3×224×224 tensor (1 thread)", bare),
            Figure(f"transfer: head training, {len(train)} of {len(x)} ants/bees photos (60 L-BFGS steps; "
                   f"hold-out accuracy {frozen_acc:.3f} on {len(held)})", head_ms,
                   f"extracting those {len(train)} photos' features", extraction_train_ms),
        ]
        if not quick:
            tuned = fine_tune([data.photos[int(i)] for i in embedded.kept], labels, train, held, loaded,
                              trained.head, blocks=1, epochs=1)
            figures.append(Figure(
                f"transfer: fine-tune last stage, 1 epoch (hold-out {tuned.holdout_accuracy:.3f} vs frozen "
                f"{frozen_acc:.3f})", tuned.seconds * 1000.0, "frozen pipeline: features + head for the same photos",
                extraction_train_ms + head_ms))
        figures += _page_figures(folder, 3 if quick else repeats)
    finally:
        torch.set_num_threads(default_threads)
    return figures


if __name__ == "__main__":
    if __package__ in (None, ""):
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.run import table

    print(table(run(quick="--quick" in sys.argv), markdown="--markdown" in sys.argv))
