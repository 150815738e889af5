"""Page "Teach it new classes": transfer learning on a frozen MobileNet, Teachable-Machine style.

Everything lives in this session (``st.session_state``) and is bounded: at most
:data:`MAX_SESSION_PHOTOS` photos and :data:`MAX_SESSION_DECODE_PIXELS` pixels of
decoding (read from the headers first), at most 50 files per upload field. Uploads and
snapshots are kept as small JPEGs (:func:`explainer.transfer.datasets.compact_photo`,
about 30 KB each) and the uploads themselves are released (:mod:`pages.uploads`);
the demo set's photos stay in the server's folder and only their names are
kept. Features are cached per process by photo hash (:mod:`explainer.transfer.embed`),
so a training run reads the network only for new photos, and a rerun of the
page after training never trains again (the result is kept in the session).
The trained head is also kept in the shared store (:mod:`explainer.lecture.kept`, 12 hours) under a random
token in the URL (``?kept=…``): a browser that reconnects after its worker died gets the head back.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from explainer import registry
from explainer.classify import Prediction
from explainer.errors import AssetError, ExplainerError, ImageError
from explainer.figures.classify import top_k_bar
from explainer.figures.transfer import confusion_matrix, pca_map, training_curve
from explainer.images import data_uri, jpeg_bytes
from explainer.models import DISPLAY_NAMES
from explainer.transfer import cam as cams
from explainer.transfer import datasets as ds
from explainer.transfer import embed, finetune, teach
from explainer.transfer.head import STEPS, Head, check_head_fits, head_bytes, read_head
from explainer.transfer.pca import pca_2d
from explainer.lecture.kept import EXPIRY_HOURS, keep_head, kept_head, new_token
from explainer.safe_text import markdown_text, plotly_text
from pages.caches.transfer import class_map, thumb
from pages.downloads import download
from pages.image_input import image_source
from pages.uploads import MAX_FILES_PER_UPLOAD, PHOTO_UPLOAD_MB, ZIP_UPLOAD_MB, release, uploader_key
from pages.resources import get_model, model_choice, untrained_banner
from pages.setup_notes import missing_file
from pages.ui import current_language, show_error, tr

#: Most photos one session keeps (uploads, snapshots, zip, demo set together).
MAX_SESSION_PHOTOS = 400
#: Pixels one session may have the server decode for its photos (uploads and zips together; JPEGs count at
#: their draft scale): about 2,000 phone photos, or 10 of the largest PNGs accepted.
MAX_SESSION_DECODE_PIXELS = 400_000_000
#: Models offered (those with published ImageNet weights; of them, those this server can run).
MODELS = registry.PRETRAINED
THUMBS = 12
#: The URL parameter holding this browser's token for its kept head.
KEPT_PARAM = "kept"

lang = current_language()
st.title(tr("transfer.title"))
st.markdown(tr("transfer.intro"))

state = st.session_state
state.setdefault("tl_photos", [])  # list[ds.Photo]; label = class slot
state.setdefault("tl_seen", set())  # upload file ids already taken in
state.setdefault("tl_n", 2)

# A trained head is kept in the shared store under a random token in the URL (?kept=…): a browser that
# reconnects into a fresh session after its worker died gets it back (explainer/lecture/kept.py).
link_token = st.query_params.get(KEPT_PARAM)
if link_token is not None and "tl_run" not in state and state.get("tl_kept_tried") != link_token[:64]:
    state["tl_kept_tried"] = link_token[:64]  # a real token is 32 characters; a crafted long one is not kept
    restored_head = kept_head(link_token)  # None for an unknown, expired or crafted token: one line below
    state["tl_restored"] = restored_head
    state["tl_kept_status"] = "none" if restored_head is None else "restored"
    if restored_head is not None:
        state["tl_kept_token"] = link_token
        if restored_head.model in MODELS:
            state["tl_model"] = restored_head.model  # the backbone it was trained on (before its selector)


def _names() -> list[str]:
    return [str(state.get(f"tl_name_{i}", "")).strip() for i in range(int(state["tl_n"]))]


def _spend_pixels(pixels: int) -> bool:
    """Count ``pixels`` of decoding against this session's budget; ``False`` (and one line) when it is spent."""
    if int(state.get("tl_pixels", 0)) + pixels > MAX_SESSION_DECODE_PIXELS:
        show_error(ExplainerError("limits.session_pixels", limit=MAX_SESSION_DECODE_PIXELS // 10**6))
        return False
    state["tl_pixels"] = int(state.get("tl_pixels", 0)) + pixels
    return True


def _add_photo(data: bytes, name: str, label: int) -> bool:
    if len(state["tl_photos"]) >= MAX_SESSION_PHOTOS:
        show_error(ExplainerError("transfer.session_full", limit=MAX_SESSION_PHOTOS))
        return False
    try:
        if not _spend_pixels(ds.check_photo(data, name)):
            return False
        small = ds.compact_photo(data, name)
    except ImageError as err:
        show_error(err)
        return False
    digest = ds.sha256_bytes(small)
    if any(p.digest == digest and p.label == label for p in state["tl_photos"]):
        return True
    state["tl_photos"].append(ds.Photo(name, label, digest, small))
    return True


def _replace_all(data: ds.LabelledSet, names: list[str]) -> None:
    if len(data.photos) > MAX_SESSION_PHOTOS:
        show_error(ExplainerError("transfer.session_full", limit=MAX_SESSION_PHOTOS))
        return
    state["tl_n"] = max(ds.MIN_CLASSES, len(names))
    for i, name in enumerate(names):
        state[f"tl_name_{i}"] = name
    photos = list(data.photos)
    if any(p.data is not None for p in photos):  # a zip: keep small copies only
        photos = []
        bar = st.progress(0.0, text=tr("limits.zip_reading", done=0, total=len(data.photos)))
        for k, p in enumerate(data.photos):
            bar.progress(k / len(data.photos), text=tr("limits.zip_reading", done=k + 1, total=len(data.photos)))
            try:
                small = ds.compact_photo(p.data or b"", p.name)
            except ImageError:
                continue
            photos.append(ds.Photo(p.name, p.label, ds.sha256_bytes(small), small))
        bar.empty()
    state["tl_photos"] = photos
    state["tl_skipped"] = list(data.skipped)
    for key in ("tl_run", "tl_ft"):
        state.pop(key, None)


# ---------------------------------------------------------------- model
model_name, not_offered = model_choice(tr("transfer.model"), "tl_model", MODELS, coded_as=None,
                                       help=tr("transfer.model_help"))
loaded = get_model(model_name)
untrained_banner(loaded, not_offered)

restored: Head | None = None
if "tl_run" not in state and state.get("tl_kept_status") == "restored" and state.get("tl_restored") is not None:
    try:
        restored = check_head_fits(state["tl_restored"], model_name, embed.feature_dim(loaded))
        st.success(tr("kept.head_restored", classes=", ".join(markdown_text(c) for c in restored.classes)), icon="♻️")
    except ExplainerError:
        restored = None  # another backbone chosen since: the kept head does not fit it
elif "tl_run" not in state and state.get("tl_kept_status") == "none":
    st.info(tr("kept.head_none", hours=EXPIRY_HOURS), icon="🔗")

# ---------------------------------------------------------------- data
st.subheader(tr("transfer.data_title"))
st.caption(tr("transfer.memory_note", limit=MAX_SESSION_PHOTOS, side=ds.COMPACT_SIDE))
demo_col, zip_col, clear_col = st.columns([1, 2, 1])
demo_missing = None  # shown below the row, full width (not squeezed into the button's column)
with demo_col:
    if st.button(tr("transfer.demo_button"), key="tl_demo", help=tr("transfer.demo_help")):
        found: list = []
        problem = download(ds.ANTS_BEES.filename, lambda progress: found.append(ds.demo_folder(progress)))
        if isinstance(problem, AssetError):  # not on this server (offline, or the download failed)
            demo_missing = problem
        elif problem is not None:
            show_error(problem)
        else:
            try:
                demo = ds.read_image_folder(found[0])
                _replace_all(demo, [tr(f"transfer.demo_class_{c}") for c in demo.classes])
            except ExplainerError as err:
                show_error(err)
with zip_col:
    zipped = st.file_uploader(tr("transfer.zip_upload"), type=["zip"], key=uploader_key("tl_zip"),
                              help=tr("transfer.zip_help", mb=ZIP_UPLOAD_MB), max_upload_size=ZIP_UPLOAD_MB)
    if zipped is not None and zipped.file_id not in state["tl_seen"]:
        state["tl_seen"].add(zipped.file_id)
        try:
            budget = MAX_SESSION_DECODE_PIXELS - int(state.get("tl_pixels", 0))
            from_zip = ds.read_zip(zipped.getvalue(), zipped.name,
                                   max_decode_pixels=max(0, min(ds.MAX_ZIP_DECODE_PIXELS, budget)))
            ds.check_class_names(from_zip.classes)
            state["tl_pixels"] = int(state.get("tl_pixels", 0)) + sum(
                ds.check_photo(p.read(), p.name) for p in from_zip.photos)
            _replace_all(from_zip, list(from_zip.classes))
        except ExplainerError as err:
            show_error(err)
        finally:
            release("tl_zip", [zipped])  # the zip's bytes leave the server; the small copies stay
with clear_col:
    if st.button(tr("transfer.clear"), key="tl_clear"):
        state["tl_photos"] = []
        state["tl_skipped"] = []
        state["tl_pixels"] = 0
        for key in ("tl_run", "tl_ft"):
            state.pop(key, None)

if demo_missing is not None:  # one line for students; what to set up for the lecturer (presenter mode)
    missing_file("setup.demo_missing", demo_missing)

st.number_input(tr("transfer.n_classes"), min_value=ds.MIN_CLASSES, max_value=ds.MAX_CLASSES, step=1, key="tl_n")
n_classes = int(state["tl_n"])
state["tl_photos"] = [p for p in state["tl_photos"] if p.label < n_classes]
columns = st.columns(min(n_classes, 5))
for i in range(n_classes):
    with columns[i % len(columns)]:
        if f"tl_name_{i}" not in state:
            state[f"tl_name_{i}"] = tr("transfer.default_class", k=i + 1)
        st.text_input(tr("transfer.class_name", k=i + 1), key=f"tl_name_{i}", max_chars=ds.MAX_CLASS_NAME)
        files = st.file_uploader(tr("transfer.upload"), accept_multiple_files=True, key=uploader_key(f"tl_up_{i}"),
                                 help=tr("transfer.upload_help"), max_upload_size=PHOTO_UPLOAD_MB)
        if files:
            if len(files) > MAX_FILES_PER_UPLOAD:
                show_error(ExplainerError("limits.too_many_files", n=len(files), limit=MAX_FILES_PER_UPLOAD))
            for file in files[:MAX_FILES_PER_UPLOAD]:
                if file.file_id not in state["tl_seen"]:
                    state["tl_seen"].add(file.file_id)
                    _add_photo(file.getvalue(), file.name, i)
            release(f"tl_up_{i}", files)  # small copies kept; the originals leave the server now
        mine = [p for p in state["tl_photos"] if p.label == i]
        st.caption(tr("transfer.count", n=len(mine)))
        thumbs = [im for im in (thumb(p) for p in mine[-4:]) if im is not None]
        if thumbs:
            st.image(thumbs, width=64)

with st.expander(tr("transfer.camera_title")):
    current = _names()  # captured: format_func may be called after the run
    target = st.selectbox(tr("transfer.camera_target"), list(range(n_classes)), key="tl_cam_target",
                          format_func=lambda k: current[k] or str(k + 1))
    shot = st.camera_input(tr("transfer.camera"), key="tl_camera")
    if shot is not None and shot.file_id not in state["tl_seen"]:
        state["tl_seen"].add(shot.file_id)
        _add_photo(shot.getvalue(), shot.name or "camera.jpg", int(target))

skipped = state.get("tl_skipped") or []
if skipped:
    with st.expander(tr("transfer.skipped_title", n=len(skipped))):
        for item in skipped:
            st.markdown(f"- {item.error.markdown_message(lang)}")  # zip names shown as text

# ---------------------------------------------------------------- train
st.subheader(tr("transfer.train_title"))
names = _names()
counts = [sum(1 for p in state["tl_photos"] if p.label == i) for i in range(n_classes)]
data = ds.LabelledSet(tuple(names), tuple(state["tl_photos"]), tuple(skipped))
signature = (model_name, loaded.weights_id, tuple(names), tuple((p.digest, p.label) for p in state["tl_photos"]))
balance = ds.balance(data)
if state["tl_photos"] and not balance.balanced and min(counts) > 0:
    st.warning(tr("transfer.unbalanced", ratio=f"{balance.ratio:.1f}"))
st.caption(tr("transfer.holdout_rule"))
if not loaded.pretrained:
    st.info(tr("transfer.needs_pretrained", model=DISPLAY_NAMES[model_name]))
if st.button(tr("transfer.train_button"), key="tl_train", type="primary", disabled=not loaded.pretrained):
    try:
        ds.check_trainable(data)
        bar = st.progress(0.0, text=tr("transfer.extracting", done=0, total=len(data.photos)))
        chart = st.empty()
        live: list = []

        def _embed_progress(done: int, total: int) -> None:
            bar.progress(0.8 * done / max(1, total), text=tr("transfer.extracting", done=done, total=total))

        def _step(point) -> None:
            live.append(point)
            bar.progress(0.8 + 0.2 * point.step / STEPS, text=tr("transfer.training", step=point.step, steps=STEPS))
            if point.step % 10 == 0 or point.step == 1:
                chart.plotly_chart(_curve_figure(live), width="stretch")

        def _curve_figure(points):
            return training_curve(points, steps=STEPS, title=tr("transfer.curve_title"), step_label=tr("transfer.step"),
                                  loss_label=tr("transfer.loss"), accuracy_label=tr("transfer.accuracy"),
                                  train_label=tr("transfer.train_acc"), holdout_label=tr("transfer.holdout_acc"))

        run = teach.fit(data, loaded, embed_progress=_embed_progress, callback=_step)
        bar.empty()
        chart.empty()
        state["tl_run"] = {"signature": signature, "run": run, "pca": pca_2d(run.features)
                           if len(run.features) >= 2 else None}
        state.pop("tl_ft", None)
        for key in ("tl_restored", "tl_kept_status"):
            state.pop(key, None)
        token = state.setdefault("tl_kept_token", new_token())
        if keep_head(token, run.trained.head):
            st.query_params[KEPT_PARAM] = token
    except ExplainerError as err:
        show_error(err)
if state.get("tl_kept_token") and ("tl_run" in state or restored is not None) \
        and st.query_params.get(KEPT_PARAM) != state["tl_kept_token"]:
    st.query_params[KEPT_PARAM] = state["tl_kept_token"]  # back in the URL after a visit to another page

stored = state.get("tl_run")
run = stored["run"] if stored else None
if run is not None:
    if stored["signature"] != signature:
        st.info(tr("transfer.stale"))
    head = run.trained.head
    acc = run.holdout.accuracy
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(tr("transfer.holdout_metric"), f"{100 * acc:.1f} %",
              help=tr("transfer.holdout_help", right=int(round(acc * run.holdout.n)), n=run.holdout.n))
    m2.metric(tr("transfer.split_metric"), f"{len(run.train_idx)} / {len(run.holdout_idx)}")
    m3.metric(tr("transfer.features_metric"), f"{run.feature_seconds:.1f} s",
              help=tr("transfer.features_help", computed=run.computed, n=len(run.data.photos)))
    m4.metric(tr("transfer.head_metric"), f"{run.trained.seconds:.2f} s", help=tr("transfer.head_help"))
    left, right = st.columns(2)
    with left:
        st.plotly_chart(training_curve(run.trained.curve, steps=STEPS, title=tr("transfer.curve_title"),
                                       step_label=tr("transfer.step"), loss_label=tr("transfer.loss"),
                                       accuracy_label=tr("transfer.accuracy"), train_label=tr("transfer.train_acc"),
                                       holdout_label=tr("transfer.holdout_acc")), width="stretch", key="tl_curve")
    with right:
        st.plotly_chart(confusion_matrix(run.holdout.confusion, [plotly_text(c) for c in head.classes], title=tr("transfer.confusion_title"),
                                         true_label=tr("transfer.true"), predicted_label=tr("transfer.predicted")),
                        width="stretch", key="tl_confusion")
    wrong = run.holdout.misclassified
    if len(wrong):
        st.markdown(f"**{tr('transfer.wrong_title', n=len(wrong))}**")
        shown = []
        for k in wrong[:THUMBS]:
            photo = run.data.photos[int(run.holdout_idx[int(k)])]
            image = thumb(photo)
            if image is not None:
                shown.append((image, tr("transfer.wrong_caption", name=markdown_text(photo.name),
                                        true=markdown_text(head.classes[int(run.holdout.labels[k])]),
                                        predicted=markdown_text(head.classes[int(run.holdout.predicted[k])]),
                                        p=f"{100 * run.holdout.probabilities[k].max():.0f}")))
        if shown:
            st.image([s[0] for s in shown], caption=[s[1] for s in shown], width=140)
    else:
        st.success(tr("transfer.none_wrong", n=run.holdout.n))

    projection = stored.get("pca")
    if projection is not None:
        held = np.zeros(len(run.data.photos), dtype=bool)
        held[run.holdout_idx] = True
        st.plotly_chart(pca_map(projection.points, run.labels, [plotly_text(c) for c in head.classes], held,
                                [plotly_text(p.name) for p in run.data.photos],
                                title=tr("transfer.pca_title"), axis_label=tr("transfer.pca_axis"),
                                explained=projection.explained, held_label=tr("transfer.held_out")),
                        width="stretch", key="tl_pca")
        st.caption(tr("transfer.pca_caption"))

    # Stays open once its button was pressed (a rerun would otherwise close it and hide its own result).
    with st.expander(tr("transfer.ft_title"), expanded=bool(state.get("tl_ft_pressed")), key="tl_ft_expander"):
        st.markdown(tr("transfer.ft_intro"))
        blocks = st.slider(tr("transfer.ft_blocks"), *finetune.BLOCKS_RANGE, value=1, key="tl_ft_blocks")
        epochs = st.slider(tr("transfer.ft_epochs"), 1, 3, value=finetune.EPOCHS, key="tl_ft_epochs")
        if st.button(tr("transfer.ft_button"), key="tl_ft_run", on_click=state.__setitem__, args=("tl_ft_pressed", True)):
            bar = st.progress(0.0, text=tr("transfer.ft_running"))
            try:
                result = finetune.fine_tune(run.data.photos, run.labels, run.train_idx, run.holdout_idx, loaded, head,
                                            blocks=blocks, epochs=epochs,
                                            progress=lambda d, n: bar.progress(d / max(1, n), text=tr("transfer.ft_running")))
                state["tl_ft"] = result
            except ExplainerError as err:
                show_error(err)
            finally:
                bar.empty()
        tuned = state.get("tl_ft")
        if tuned is not None:
            st.dataframe([
                {tr("transfer.col_method"): tr("transfer.frozen"), tr("transfer.col_acc"): round(acc, 4),
                 tr("transfer.col_time"): round(run.seconds, 2), tr("transfer.col_params"): head.weight.numel() + head.bias.numel()},
                {tr("transfer.col_method"): tr("transfer.tuned", k=tuned.blocks, e=tuned.epochs),
                 tr("transfer.col_acc"): round(tuned.holdout_accuracy, 4),
                 tr("transfer.col_time"): round(tuned.seconds, 2), tr("transfer.col_params"): tuned.trainable_params},
            ], hide_index=True, width="stretch")
            st.caption(tr("transfer.ft_honest"))

    st.download_button(tr("transfer.export"), data=head_bytes(head), file_name=f"head_{head.model}.pt",
                       mime="application/octet-stream", key="tl_export", help=tr("transfer.export_help"))

# ---------------------------------------------------------------- try it
st.subheader(tr("transfer.try_title"))
imported = st.file_uploader(tr("transfer.import"), type=None, key="tl_import", help=tr("transfer.import_help"),
                            max_upload_size=PHOTO_UPLOAD_MB)
active: Head | None = run.trained.head if run is not None else restored
if imported is not None:
    # Parsed once per uploaded file (a rerun reuses the result, or the error), never on every rerun.
    parsed = state.get("tl_import_parsed")
    if parsed is None or parsed[0] != imported.file_id:
        try:
            parsed = (imported.file_id, read_head(imported.getvalue(), imported.name), None)
        except ExplainerError as err:
            parsed = (imported.file_id, None, err)
        state["tl_import_parsed"] = parsed
    try:
        if parsed[2] is not None:
            raise parsed[2]
        active = check_head_fits(parsed[1], model_name, embed.feature_dim(loaded))
        st.caption(tr("transfer.imported", name=markdown_text(imported.name),
                      classes=", ".join(markdown_text(c) for c in active.classes)))
    except ExplainerError as err:
        show_error(err)
else:
    state.pop("tl_import_parsed", None)
if active is None:
    st.info(tr("transfer.train_first"))
else:
    st.info(tr("transfer.closed_set", classes=", ".join(active.classes)))
    choice = image_source("tl_try", default_sample="chelsea")
    if choice is not None:
        left, right = st.columns(2)
        with left:
            photo_digest = ds.sha256_bytes(choice.data)
            head_digest = ds.sha256_bytes(head_bytes(active))
            mapped = class_map(photo_digest, head_digest, None, embed.model_key(loaded), choice.image, loaded, active)
            probs = mapped.probabilities
            order = np.argsort(-probs, kind="stable")
            st.plotly_chart(top_k_bar([Prediction(int(i), plotly_text(active.classes[int(i)]), float(probs[int(i)]))
                                       for i in order],
                                      title=tr("transfer.probs_title"), prob_label=tr("transfer.prob")),
                            width="stretch", key="tl_probs")
        with right:
            # One selector per photo, so each new photo starts at its own most probable class.
            cls = st.selectbox(tr("transfer.cam_class"), list(range(len(active.classes))), index=mapped.class_index,
                               key=f"tl_cam_class_{photo_digest[:16]}",
                               format_func=lambda k: active.classes[k])
            if cls != mapped.class_index:
                mapped = class_map(photo_digest, head_digest, int(cls), embed.model_key(loaded), choice.image,
                                    loaded, active)
            opacity = st.slider(tr("transfer.opacity"), 0.0, 1.0, 0.5, 0.05, key="tl_opacity")
            st.image(data_uri(jpeg_bytes(cams.overlay(mapped.input_image, mapped.cam, opacity))), width="stretch",
                     caption=tr("transfer.cam_caption", name=markdown_text(mapped.class_name), p=f"{100 * mapped.probability:.1f}"))
        st.caption(tr("transfer.cam_explain"))
