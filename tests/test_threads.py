"""The app's PyTorch thread setting."""

import torch

from explainer.threads import configure_torch_threads


def test_thread_setting() -> None:
    before = torch.get_num_threads()
    try:
        assert configure_torch_threads({}) == 1 and torch.get_num_threads() == 1
        assert configure_torch_threads({"EXPLAINER_TORCH_THREADS": "junk"}) == 1
        assert configure_torch_threads({"EXPLAINER_TORCH_THREADS": "0"}) == 1
        assert configure_torch_threads({"EXPLAINER_TORCH_THREADS": "9999"}) == (__import__("os").cpu_count() or 1)
    finally:
        torch.set_num_threads(before)
