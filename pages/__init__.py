"""Streamlit pages: thin scripts that read widgets, call ``explainer`` and render."""
