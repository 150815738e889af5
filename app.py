"""MobileNet Explainer — the Streamlit entry point.

Run with ``streamlit run app.py``. This file only sets up the page, the
language selector and the navigation; each page lives in ``pages/`` and
all computing happens in the ``explainer`` package.
"""

import streamlit as st

from explainer.threads import configure_torch_threads
from pages.resources import freeze_when_heap_grew, tune_static_files
from pages.ui import language_selector, tr

st.set_page_config(page_title="MobileNet Explainer", page_icon="📱", layout="wide")
configure_torch_threads()
tune_static_files()

language_selector()


def page(slug: str, icon: str, **options) -> st.Page:
    """One page: file ``pages/<slug>.py``, URL ``/<slug>``, title from the locale key ``nav.<slug>``."""
    return st.Page(f"pages/{slug}.py", title=tr(f"nav.{slug}"), icon=icon, url_path=slug, **options)


# One line per page, grouped in sections (section titles: locale keys nav.sec_<name>).
SECTIONS = {
    "learn": [
        page("home", "🏠", default=True),
        page("cost", "🧮"),
        page("architectures", "🏗️"),
        page("conv_trace", "🔬"),
        page("feature_maps", "🗺️"),
    ],
    "try": [
        page("classify", "🔍"),
        page("segment", "🧩"),
        page("transfer", "🎓"),
    ],
    "deploy": [
        page("zoo", "🦁"),
        page("quantize", "🗜️"),
    ],
}

st.navigation({tr(f"nav.sec_{section}"): pages for section, pages in SECTIONS.items()}).run()
freeze_when_heap_grew()  # after a run that imported libraries or loaded a model: spare the collector
