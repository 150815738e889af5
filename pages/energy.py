"""Energy per photo: what one inference costs the battery — arithmetic is cheap, moving data is not."""

import streamlit as st

from explainer import energy
from explainer.architectures import WIDTH_RANGE
from explainer.errors import ExplainerError
from explainer.figures.energy import ladder_bars, split_bars, table_bars
from explainer import registry
from pages.ui import fmt_int, show_error, tr
from pages.readable import result_bar

DISPLAY = {name: spec.display for name, spec in registry.MODELS.items()}
RESOLUTIONS = (96, 128, 160, 192, 224, 256, 320)

st.title(tr("energy.title"))
st.markdown(tr("energy.intro"))

# --- the table --------------------------------------------------------------------------------------------------
st.subheader(tr("energy.h_table"))
left, right = st.columns([3, 2], gap="large")
left.plotly_chart(table_bars([tr(f"energy.op_{op.key}") for op in energy.OPERATIONS],
                             [float(op.pj) for op in energy.OPERATIONS], [op.kind for op in energy.OPERATIONS],
                             {"compute": tr("energy.kind_compute"), "memory": tr("energy.kind_memory")},
                             title=tr("energy.table_title"), axis=tr("energy.pj_axis")),
                  width="stretch", key="energy_table")
left.caption(tr("energy.table_caption", source=energy.HOROWITZ))
right.plotly_chart(ladder_bars([tr(f"energy.rung_{key}") for key, _ in energy.LADDER],
                               [ratio for _, ratio in energy.LADDER], title=tr("energy.ladder_title"),
                               axis=tr("energy.ladder_axis")), width="stretch", key="energy_ladder")
right.caption(tr("energy.ladder_caption", source=energy.EYERISS))
dram_vs_mult = float(energy.OPS["dram"].pj / 8 / (energy.OPS["fp32_mult"].pj / 4))
st.markdown(tr("energy.table_lesson", ratio=f"{dram_vs_mult:.0f}"))

# --- one network ------------------------------------------------------------------------------------------------
st.subheader(tr("energy.h_estimate"))
c1, c2, c3 = st.columns(3)
model = c1.selectbox(tr("energy.model"), registry.MODEL_NAMES, index=registry.MODEL_NAMES.index("mobilenet_v2"),
                     format_func=DISPLAY.__getitem__, key="emodel", bind="query-params")
is_mobilenet = registry.get(model).is_mobilenet
width = c2.slider(tr("energy.width"), WIDTH_RANGE[0], WIDTH_RANGE[1], 1.0, 0.05, key="ewidth",
                  disabled=not is_mobilenet, help=tr("energy.width_help"))
resolution = c3.select_slider(tr("energy.resolution"), RESOLUTIONS, value=224, key="eres")
d1, d2, d3 = st.columns(3)
dtype = d1.radio(tr("energy.dtype"), energy.DTYPES, horizontal=True, key="edtype",
                 format_func=lambda d: tr(f"energy.dtype_{d}"))
weights_on_chip = d2.toggle(tr("energy.weights_on_chip"), key="ewchip", help=tr("energy.on_chip_help"))
activations_on_chip = d3.toggle(tr("energy.activations_on_chip"), key="eachip", help=tr("energy.on_chip_help"))

try:
    alpha = width if is_mobilenet else None
    results = {d: energy.estimate(model, alpha, resolution, d, weights_on_chip=weights_on_chip,
                                  activations_on_chip=activations_on_chip) for d in energy.DTYPES}
except ExplainerError as error:
    show_error(error)
    st.stop()
chosen = results[dtype]
with result_bar("energy"):  # on a phone: sticky while the controls above are on screen (pages/readable.py)
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(tr("energy.total"), f"{chosen.total_mj:.3f} mJ")
    m2.metric(tr("energy.compute"), f"{chosen.compute_mj:.3f} mJ")
    m3.metric(tr("energy.memory"), f"{chosen.memory_mj:.3f} mJ")
    m4.metric(tr("energy.memory_share"), f"{chosen.memory_share:.0%}")
st.caption(tr("energy.counts", macs=fmt_int(chosen.macs), mac_pj=f"{float(chosen.mac_pj):g}",
              weight_bytes=fmt_int(chosen.weight_bytes), weight_pj=f"{float(chosen.weight_byte_pj):g}",
              activation_bytes=fmt_int(chosen.activation_bytes), activation_pj=f"{float(chosen.activation_byte_pj):g}"))
st.plotly_chart(split_bars([tr(f"energy.dtype_{d}") for d in energy.DTYPES],
                           {"compute": [results[d].compute_mj for d in energy.DTYPES],
                            "weights": [results[d].weight_mj for d in energy.DTYPES],
                            "activations": [results[d].activation_mj for d in energy.DTYPES]},
                           {p: tr(f"energy.part_{p}") for p in ("compute", "weights", "activations")},
                           title=tr("energy.split_title"), axis="mJ"), width="stretch", key="energy_split")
fp32, int8 = results["fp32"], results["int8"]
st.markdown(tr("energy.int8_lesson", compute=f"{fp32.compute_mj - int8.compute_mj:.3f}",
               memory=f"{fp32.memory_mj - int8.memory_mj:.3f}", total_ratio=f"{fp32.total_mj / int8.total_mj:.1f}",
               mac_ratio=f"{float(energy.mac_pj('fp32') / energy.mac_pj('int8')):.1f}"))

with st.expander(tr("energy.h_assumptions"), expanded=True):
    st.markdown("\n".join(f"- {tr(f'energy.assume_{key}')}" for key in energy.ASSUMPTIONS))

# --- reality check ----------------------------------------------------------------------------------------------
st.subheader(tr("energy.h_reality"))
low, high = energy.MEASURED_PHONE_MJ["cpu"]
glow, ghigh = energy.MEASURED_PHONE_MJ["gpu"]
v2 = energy.estimate("mobilenet_v2", dtype="fp32")
v2_chip = energy.estimate("mobilenet_v2", dtype="int8", weights_on_chip=True, activations_on_chip=True)
st.dataframe([
    {tr("energy.col_what"): tr("energy.row_measured_cpu"), "mJ": f"{low:g} – {high:g}", tr("energy.col_source"): energy.DEEPEN},
    {tr("energy.col_what"): tr("energy.row_measured_gpu"), "mJ": f"{glow:g} – {ghigh:g}", tr("energy.col_source"): energy.DEEPEN},
    {tr("energy.col_what"): tr("energy.row_estimate_dram"), "mJ": f"{v2.total_mj:.2f}", tr("energy.col_source"): energy.HOROWITZ},
    {tr("energy.col_what"): tr("energy.row_estimate_chip"), "mJ": f"{v2_chip.total_mj:.2f}", tr("energy.col_source"): energy.HOROWITZ},
], hide_index=True, width="stretch")
st.markdown(tr("energy.reality_why", factor=f"{low / v2.total_mj:.0f}"))

# --- the battery ------------------------------------------------------------------------------------------------
st.subheader(tr("energy.h_battery"))
battery = st.number_input(tr("energy.battery"), min_value=1.0, max_value=200.0, value=15.0, step=1.0, key="ebattery",
                          help=tr("energy.battery_help"))
rows = []
for label, mj in ((tr("energy.row_this_estimate"), chosen.total_mj), (tr("energy.row_measured_cpu_low"), low),
                  (tr("energy.row_measured_cpu_high"), high)):
    rows.append({tr("energy.col_what"): label, tr("energy.col_mj"): f"{mj:.2f}",
                 tr("energy.col_watts"): f"{energy.watts(mj):.2f}",
                 tr("energy.col_hours"): f"{energy.battery_hours(battery, mj):,.1f}",
                 tr("energy.col_photos"): f"{energy.battery_photos(battery, mj):,.0f}"})
st.dataframe(rows, hide_index=True, width="stretch")
st.caption(tr("energy.battery_note", fps=energy.CAMERA_FPS))

st.subheader(tr("energy.h_sources"))
st.markdown("\n".join(f"- {source}" for source in (energy.HOROWITZ, energy.EYERISS, energy.DEEPEN)))
