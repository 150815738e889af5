"""Page "Applications": MobileNet as a backbone — segment a photo with int8 DeepLabV3-MobileNetV2 on LiteRT,
detect objects on it with int8 SSD-MobileNetV1 (pages/detection.py), what the backbone and the head cost, and why
segmentation keeps output stride 16."""

from __future__ import annotations

import os

import streamlit as st

from explainer.catalogue import WEIGHTS_DIR_ENV, missing
from explainer.errors import AssetError
from explainer.figures.segment import backbone_bar, shares_bar
from explainer.images import data_uri, jpeg_bytes
from explainer.litert import litert_available
from explainer.segment.backbone import BACKBONE_NETS
from explainer.segment.deeplab import SEGMENTER_NAMES, SEGMENTERS, load_segmenter, where_is
from explainer.segment.labels import VOC_CLASSES
from explainer.segment.masks import overlay
from pages.caches import segment as cached
from pages.detection import backbone_note, detect_section, ssd_section, tasks_section
from pages.downloads import download
from pages.image_input import image_source
from pages.setup_notes import for_lecturer, missing_file, not_installed
from pages.ui import current_language, fmt_millions, tr

UNTINTED = (215, 215, 215)  # background is not tinted in the overlay: a light grey in the legend, not VOC's black


def _segmenter(name: str, problems: dict):
    """(model, reference ms), or ``None`` with the reason kept in ``problems`` (for the lecturer); downloads
    once with a progress bar when downloads are allowed."""
    weights_dir = os.environ.get(WEIGHTS_DIR_ENV, "").strip()
    try:
        where = where_is(name, weights_dir or None)
        if where.kind == "download":
            problem = download(SEGMENTERS[name].filename,
                               lambda progress: load_segmenter(name, weights_dir or None, progress, download=True))
            if problem is not None:
                raise problem
            where = where_is(name, weights_dir or None)
        if where.kind == "missing":
            raise missing(where.asset)
        with st.spinner(tr("segment.loading", model=SEGMENTERS[name].display)):
            return cached.load(name, weights_dir, where.kind)
    except AssetError as err:
        problems[name] = err
        return None


@st.fragment
def masks_view(data: dict, names: tuple[str, ...], loaded: dict, lang: str) -> None:
    """The part that changes often (opacity): reruns alone, from the cached masks — never invokes a model."""
    opacity = st.slider(tr("segment.opacity"), 0, 100, 60, step=5, format="%d%%", key="opacity",
                        bind="query-params")
    columns = st.columns(len(names))
    for column, name in zip(columns, names):
        entry = data["models"][name]
        model, reference_ms = loaded[name]
        with column:
            st.subheader(SEGMENTERS[name].display)
            st.image(data_uri(jpeg_bytes(overlay(data["preview"], entry["mask"], opacity / 100.0))), width="stretch",
                     caption=tr("segment.overlay_caption", w=data["size"][0], h=data["size"][1],
                                fw=entry["fitted"][0], fh=entry["fitted"][1]))
            m1, m2 = st.columns(2)
            m1.metric(tr("segment.size_on_disk"), f"{model.size_bytes / 1e6:.2f} MB")
            m2.metric(tr("segment.invoke", runs=cached.REFERENCE_RUNS), f"{reference_ms:.1f} ms",
                      help=tr("segment.invoke_help", runs=cached.REFERENCE_RUNS))
            st.caption(tr("segment.this_photo", ms=f"{entry['latency_ms']:.1f}"))
            shares = entry["shares"]
            st.plotly_chart(shares_bar(
                [VOC_CLASSES[i].name(lang) for i, _ in shares], [f for _, f in shares],
                [VOC_CLASSES[i].color if i else UNTINTED for i, _ in shares], title=tr("segment.shares_title"),
                axis_label=tr("segment.shares_axis")), width="stretch", key=f"segment_shares_{name}")

lang = current_language()
st.title(tr("segment.title"))
st.markdown(tr("segment.intro"))

# --- 1. Segment a photo -------------------------------------------------------------------------------
st.header(tr("segment.try_header"))
choice = None
models: dict = {}
if not litert_available():
    missing_file("setup.litert_missing", AssetError("assets.no_litert"))
else:
    left, right = st.columns([1, 3], gap="large")
    with left:
        choice = image_source("segment")
        st.caption(tr("segment.how"))
    if choice is not None:
        problems: dict = {}
        loaded = {name: _segmenter(name, problems) for name in SEGMENTER_NAMES}
        names = tuple(name for name in SEGMENTER_NAMES if loaded[name] is not None)
        with right:  # students: one line about what is not here; the lecturer: what to set up
            if names:
                not_installed(len(SEGMENTER_NAMES) - len(names))
                for_lecturer(list(problems.values()))
            else:
                missing_file("setup.segment_missing", list(problems.values()))
        if names:
            models = {name: loaded[name][0] for name in names}
            data = cached.segmented(choice, names, models)
            with right:
                masks_view(data, names, {name: loaded[name] for name in names}, lang)
                comparison = data.get("comparison")
                if comparison is not None:
                    st.markdown(f"**{tr('segment.compare_header')}**")
                    c1, c2, c3 = st.columns(3)
                    c1.metric(tr("segment.agreement"), f"{100 * comparison.agreement:.1f} %",
                              help=tr("segment.agreement_help"))
                    c2.metric(tr("segment.mean_iou"), f"{100 * comparison.mean_iou:.1f} %",
                              help=tr("segment.iou_help"))
                    c3.metric(tr("segment.foreground_iou"), f"{100 * comparison.foreground_iou:.1f} %",
                              help=tr("segment.foreground_iou_help"))
                    st.caption(tr("segment.compare_note"))

# --- 2. Detect objects, how SSD works, one photo through three tasks (pages/detection.py) --------------
if litert_available():
    detector_model = detect_section(choice, lang)
    if detector_model is not None:
        ssd_section(detector_model, lang)
        tasks_section(choice, detector_model, models.get("deeplabv3_mobilenet_v2"), lang)

# --- 3. MobileNet as a backbone -----------------------------------------------------------------------
st.header(tr("segment.backbone_header"))
st.markdown(tr("segment.backbone_intro"))
costs = cached.costs()
stages, classifier_224 = cached.stages()
net_names = [BACKBONE_NETS[c["name"]].display for c in costs]
st.plotly_chart(backbone_bar(net_names, [c["backbone_macs"] for c in costs], [c["head_macs"] for c in costs],
                             backbone_label=tr("segment.part_backbone"), head_label=tr("segment.part_head"),
                             axis_label=tr("segment.gmacs_axis"), title=tr("segment.backbone_chart_title")),
                width="stretch", key="segment_backbone_chart")
rows = []
for c in costs:
    net = BACKBONE_NETS[c["name"]]
    fm = c["feature_map"]
    rows.append({
        tr("segment.col_net"): net.display,
        tr("segment.col_task"): tr(f"segment.task_{net.task}"),
        tr("segment.col_mobilenet"): net.mobilenet,
        tr("segment.col_input"): f"{net.resolution}×{net.resolution}",
        tr("segment.col_backbone_macs"): fmt_millions(c["backbone_macs"]),
        tr("segment.col_head_macs"): fmt_millions(c["head_macs"]),
        tr("segment.col_share"): f"{100 * c['backbone_share']:.1f} %",
        tr("segment.col_backbone_params"): fmt_millions(c["backbone_params"], 2),
        tr("segment.col_head_params"): fmt_millions(c["head_params"], 2),
        tr("segment.col_feature_map"): f"{fm[1]}×{fm[2]}×{fm[0]}",
        tr("segment.col_stride"): c["output_stride"],
    })
st.dataframe(rows, hide_index=True, width="stretch")
st.caption(tr("segment.backbone_notes", classifier=fmt_millions(classifier_224)))
backbone_note()

# --- 4. Output stride 16 ------------------------------------------------------------------------------
st.header(tr("segment.stride_header"))
last = stages[-1]
changed = [s for s in stages if s.classifier != s.deeplab]
st.markdown(tr("segment.stride_text", h32=last.classifier[0], h16=last.deeplab[0],
               first=changed[0].tf_name, n=len(changed) - 1,
               macs32=fmt_millions(sum(s.macs_classifier for s in changed)),
               macs16=fmt_millions(sum(s.macs_deeplab for s in changed))))
st.dataframe([{
    tr("segment.col_block"): f"{s.tf_name} (features[{s.index}])",
    tr("segment.col_channels"): s.channels,
    tr("segment.col_block_stride"): s.stride,
    tr("segment.col_size32"): f"{s.classifier[0]}×{s.classifier[1]}",
    tr("segment.col_size16"): f"{s.deeplab[0]}×{s.deeplab[1]}",
    tr("segment.col_dilation"): s.dilation,
    tr("segment.col_macs32"): fmt_millions(s.macs_classifier),
    tr("segment.col_macs16"): fmt_millions(s.macs_deeplab),
} for s in stages], hide_index=True, width="stretch")
st.caption(tr("segment.stride_note", c224=fmt_millions(classifier_224),
              b32=fmt_millions(sum(s.macs_classifier for s in stages)),
              b16=fmt_millions(sum(s.macs_deeplab for s in stages))))
