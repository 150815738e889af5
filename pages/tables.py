"""Tables whose numbers arrive while the page is open (timings measured in the background).

A missing value in ``st.dataframe`` reads "None" (or "nan" after pandas): the cell shows the locale's
"measuring…" while it is being measured, else "—". The column keeps its numbers (it sorts as numbers); only the
text shown changes (a pandas ``Styler``, whose display values Streamlit draws).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import pandas as pd


def placeholder_table(rows: Sequence[Mapping[str, object]], formats: Mapping[str, str], missing: str):
    """``rows`` as a styled table: the columns in ``formats`` (column -> ``str.format`` pattern, e.g.
    ``"{:.1f}"``) formatted, every missing value (None / NaN) in any column shown as ``missing``."""
    frame = pd.DataFrame(list(rows))
    return frame.style.format(dict(formats), na_rep=missing).format(na_rep=missing, subset=[
        column for column in frame.columns if column not in formats])
