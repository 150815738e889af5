"""Process-wide caches of the pages: one module per page, imported once per process.

A page script runs again on every rerun, and every ``@st.cache_data`` /
``@st.cache_resource`` line in it wraps its function again (Streamlit reads the
function's source to name its cache: about a tenth of a Classify rerun's CPU,
``bench/profile_visit.py``). Defined here, each cached function is wrapped once
per process; the pages call them like any other function. They only call into
``explainer``: the pages stay the place that reads widgets and renders.
"""
