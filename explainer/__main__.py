"""``python -m explainer``: the command-line face of the compute core."""

import sys

from explainer.cli import main

if __name__ == "__main__":
    sys.exit(main())
