"""MobileNet Explainer — the Streamlit entry point.

Run with ``streamlit run app.py``. This file only sets up the page, the
language selector and the navigation; each page lives in ``pages/`` and
all computing happens in the ``explainer`` package.
"""

import copy

import streamlit as st

from explainer.threads import configure_torch_threads
from pages import url_state
from pages.legacy_folder import show_menu
from pages.resources import freeze_when_heap_grew, tune_static_files
from pages.readable import readable_styles
from pages.reconnect import check_reconnect, show_reconnect_notice
from pages.figure_export import figure_export, handout_bar, handout_toggle
from pages.share import presenter_toggle, share_panel
from pages.ui import current_language, language_selector, tr

st.set_page_config(page_title="MobileNet Explainer", page_icon="📱", layout="wide")
configure_torch_threads()
tune_static_files()

check_reconnect()  # first: before any widget of this run registers
language_selector()
presenter_toggle()
handout = handout_toggle()  # ?handout=true: the page laid out for print (pages/figure_export.py)
readable_styles()  # metrics, formulas and toolbars readable on a projector and a phone
figure_export()  # PNG · SVG under every figure, print styles (pages/figure_export.py)


def page(slug: str, icon: str, default: bool = False) -> tuple[str, str, bool]:
    """One page: file ``pages/<slug>.py``, URL ``/<slug>``, title from the locale key ``nav.<slug>``."""
    return slug, icon, default


@st.cache_resource(show_spinner=False)
def _prototype(slug: str, icon: str, default: bool, title: str) -> st.Page:
    """A page made once per process: making one resolves its file on disk."""
    return st.Page(f"pages/{slug}.py", title=title, icon=icon, url_path=slug, default=default)


def make_page(slug: str, icon: str, default: bool) -> st.Page:
    # A copy per session: st.navigation marks on a page whether this run may call it.
    return copy.copy(_prototype(slug, icon, default, tr(f"nav.{slug}")))


# One line per page, grouped in sections (section titles: locale keys nav.sec_<name>).
SECTIONS = {
    "learn": [
        page("lecture", "🎤"),
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
        page("export", "📲"),
        page("energy", "🔋"),
    ],
}


def menu() -> dict[str, list[st.Page]]:
    """The navigation menu in the session's language, made once per session and language.

    Making ten ``st.Page`` objects took about a tenth of a rerun's CPU (each resolves its file on disk;
    bench/profile_visit.py): they are made once per process and copied into each session.
    """
    key = f"_menu_{current_language()}"
    if key not in st.session_state:
        st.session_state[key] = {tr(f"nav.sec_{name}"): [make_page(*entry) for entry in pages]
                                 for name, pages in SECTIONS.items()}
    return st.session_state[key]


show_menu()  # the config hides Streamlit's automatic pages/ list; this menu is shown (pages/legacy_folder.py)
current = st.navigation(menu(), expanded=True)  # every page listed (Streamlit folds a menu of 13+ under "View more")
url_state.page_opened(current.url_path)  # the link this page was opened with (settings in the URL)
if show_reconnect_notice(current.url_path):  # a worker died: this session is new and the earlier work is gone
    st.warning(tr("limits.reconnected"), icon="🔌")
if handout:
    handout_bar()  # "Print / save as PDF" and the way back, above the page
link_notice = st.empty()  # one line at the top if the link held settings that no control could take
current.run()
url_state.finish(link_notice)
share_panel(current.url_path, default_page=current.url_path == "")
freeze_when_heap_grew()  # after a run that imported libraries or loaded a model: spare the collector
