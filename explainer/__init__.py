"""MobileNet Explainer: the compute core.

Everything here is plain Python + PyTorch and importable without Streamlit:
cost formulas, architecture tables, models, weights, image loading,
activation capture and figures. The Streamlit pages in ``pages/`` and the
command line (``python -m explainer``) are thin faces of this package.
"""

__version__ = "0.1.0"
