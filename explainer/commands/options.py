"""Arguments several commands share, declared once so that their names, defaults and help read the same in
every command. Light: nothing here imports torch (every command module is imported to build the parser)."""

from __future__ import annotations

import argparse
from typing import Sequence

IMAGE_HELP = "a JPEG, PNG, WebP, BMP or GIF file"
WEIGHTS_DIR_HELP = "folder with <model>.pth files (default: $EXPLAINER_WEIGHTS_DIR)"
UNTRAINED_HELP = "run with random weights when no pretrained weights are available"


def add_image(parser: argparse.ArgumentParser) -> None:
    """The positional ``image``: a photo file."""
    parser.add_argument("image", help=IMAGE_HELP)


def add_model(parser: argparse.ArgumentParser, choices: Sequence[str], default: str | None = "mobilenet_v2",
              help: str = "default %(default)s") -> None:
    """``--model`` chosen among ``choices``."""
    parser.add_argument("--model", default=default, choices=choices, help=help)


def add_weights_dir(parser: argparse.ArgumentParser, help: str = WEIGHTS_DIR_HELP) -> None:
    """``--weights-dir``: where the model files are (default: ``$EXPLAINER_WEIGHTS_DIR``)."""
    parser.add_argument("--weights-dir", default=None, help=help)


def add_untrained(parser: argparse.ArgumentParser, note: str = "") -> None:
    """``--untrained``: random weights when no pretrained ones are available; ``note`` is added to the help."""
    parser.add_argument("--untrained", action="store_true", help=UNTRAINED_HELP + note)
