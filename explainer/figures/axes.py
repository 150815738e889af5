"""One axis style shared by every figure of the app.

A plotly log axis labels its minor ticks by default ("2, 5, 2, 5, 0.1…"): on a projector or a phone those
read as a jumble of bare digits. :data:`LOG_AXIS` labels decades only (1, 10, 100, 1k, … or 0.01, 0.1, 1),
with a light grid at 2–9 so the scale stays readable. Use it for every log axis
(``fig.update_yaxes(**LOG_AXIS)``); an axis with its own meaningful tick values (the shape strip's sizes)
keeps them.
"""

from __future__ import annotations

#: A log axis labelled at powers of ten only (``dtick=1`` on a log axis means one label per decade).
LOG_AXIS: dict = {"type": "log", "dtick": 1, "minor": {"showgrid": True, "gridcolor": "rgba(0,0,0,0.04)"}}
