"""Figures: functions that return plotly (or matplotlib) figures, one module per page idea.

They take computed data and already-translated labels, and never import Streamlit.
"""
