"""Your images: a dataset of your own, made from the webcam, pictures or a zip.

A person names 2-10 classes and fills each: one webcam picture a click, several
uploaded pictures at once, or a whole ``.zip`` in the layout that
``keras.utils.image_dataset_from_directory`` reads (one folder per class). Every
picture goes through the bounded decoder, is cropped to a square and resized to
the dataset's side. The datasets are the person's own (:mod:`cnnlib.owndata`):
nobody else lists or reads them; they survive a restart and download as the same
``.zip``. Every refusal is one sentence on the page.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from cnnlib import owndata
from cnnlib.viz.raster import enlarge
from pages import common, identity

common.require_app_navigation()

#: Pictures shown per class (the counts say how many there are).
SHOWN_PER_CLASS = 24
#: Side of a thumbnail on the page, pixels.
THUMB = 72


def own_store() -> owndata.OwnDataStore:
    """The store of people's datasets (``$CNN_STUDIO_HOME/datasets``; cheap to make)."""
    return owndata.OwnDataStore()


def refuse(e: Exception) -> None:
    """A refusal from :mod:`cnnlib.owndata`: its sentence, kept for the next run."""
    st.session_state["own_message"] = ("error", str(e))


def said(text: str) -> None:
    st.session_state["own_message"] = ("success", text)


def _made(make, what: str) -> None:
    """Call ``make(size=, gray=)`` (a store's create or import, with the form's picture
    size and colour); the new dataset becomes the chosen one and ``what(ds)`` is said,
    or the refusal is."""
    try:
        ds = make(size=int(st.session_state["own_new_size"]),
                  gray=st.session_state["own_new_colour"] == "gray")
    except owndata.ERRORS as e:
        refuse(e)
        return
    st.session_state["own_dataset"] = ds.name
    said(what(ds))


def create(me: str) -> None:
    classes = [c.strip() for c in st.session_state["own_new_classes"].split(",") if c.strip()]
    name = st.session_state["own_new_name"].strip()
    _made(lambda **form: own_store().create(me, name, classes, **form),
          lambda ds: f"Dataset {ds.name} made, with {len(ds.class_names)} classes: fill them below.")


def import_zip(me: str) -> None:
    upload = st.session_state.get("own_zip")
    name = st.session_state["own_zip_name"].strip()
    if upload is None:
        st.session_state["own_message"] = ("error", "Choose a .zip file first.")
        return
    _made(lambda **form: own_store().import_zip(me, name, upload.getvalue(), **form),
          lambda ds: f"Dataset {ds.name} imported: {ds.total} pictures in {len(ds.class_names)} classes.")


def add(me: str, name: str, class_name: str, files: list) -> None:
    """Add pictures (uploads or a camera frame) to a class; the first refusal is said
    with the file's name, the others are still tried."""
    added, problems = 0, []
    for f in files:
        try:
            own_store().add_picture(me, name, class_name, f.getvalue())
            added += 1
        except owndata.ERRORS as e:
            problems.append(f"{getattr(f, 'name', 'the picture')}: {e}")
    if problems:
        st.session_state["own_message"] = ("error", " ".join(
            [f"{added} picture(s) added to {class_name}; {len(problems)} refused."] + problems[:3]))
    else:
        said(f"{added} picture(s) added to {class_name}.")


def remove(me: str, name: str, class_name: str, picture_id: str) -> None:
    try:
        own_store().remove_picture(me, name, class_name, picture_id)
    except owndata.ERRORS as e:
        refuse(e)


def new_dataset_form(me: str) -> None:
    """Make a dataset by naming its classes, or import one from a zip."""
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader("New dataset")
        st.text_input("Name", key="own_new_name", placeholder="pens and pencils")
        st.text_input("Classes, separated by commas (2 to 10)", key="own_new_classes",
                      placeholder="pen, pencil")
        st.button("Make the dataset", key="own_create", on_click=create, args=(me,))
    with right:
        st.subheader("Or import a .zip")
        st.file_uploader("One folder per class, pictures inside (as "
                         "keras.utils.image_dataset_from_directory reads)", type=["zip"],
                         key="own_zip")
        st.text_input("Name", key="own_zip_name", placeholder="my photos")
        st.button("Import", key="own_import", on_click=import_zip, args=(me,))
    size_col, colour_col = st.columns(2)
    size_col.radio("Picture size (pixels)", owndata.SIZES, index=1, horizontal=True,
                   key="own_new_size",
                   help="Each picture is cropped to a square and resized to this side: 32 as "
                        "CIFAR-10, larger keeps more detail but trains slower.")
    colour_col.radio("Colour", ["colour", "gray"], horizontal=True, key="own_new_colour")


def class_section(me: str, ds: owndata.OwnDataset, class_name: str) -> None:
    """One class: its count, its pictures (each removable) and where new ones come from."""
    ids = own_store().picture_ids(me, ds.name, class_name)
    st.markdown(f"**{class_name}**: {len(ids)} picture(s)")
    shown = ids[:SHOWN_PER_CLASS]
    if shown:  # a row that wraps: as many a line as the screen holds, a phone's too
        row = st.container(horizontal=True, wrap=True, gap="small")
        for picture_id in shown:
            with row.container(width=THUMB + 16, gap=None):
                picture = own_store().read_picture(me, ds.name, class_name, picture_id)
                st.image(enlarge(picture, THUMB), output_format="PNG")
                st.button("Remove", key=f"own_rm_{class_name}_{picture_id}", type="tertiary",
                          on_click=remove, args=(me, ds.name, class_name, picture_id))
        if len(ids) > len(shown):
            st.caption(f"The first {len(shown)} of {len(ids)} shown.")


def adding_section(me: str, ds: owndata.OwnDataset) -> None:
    """Where pictures come from: the webcam (one a click) or uploaded files."""
    target = st.selectbox("Add pictures to", ds.class_names, key=f"own_target_{ds.name}")
    camera, files = st.tabs(["Webcam", "Pictures"])
    with camera:
        shot = st.camera_input("One picture a click", key=f"own_camera_{ds.name}")
        if shot is not None:  # each new frame once: the widget keeps its last picture
            digest = hashlib.sha256(shot.getvalue()).hexdigest()
            if st.session_state.get("own_last_shot") != digest:
                st.session_state["own_last_shot"] = digest
                add(me, ds.name, target, [shot])
                st.rerun()
    with files:
        n = st.session_state.get("own_files_n", 0)
        chosen = st.file_uploader(f"Pictures for {target} (several at once)",
                                  accept_multiple_files=True,
                                  type=["png", "jpg", "jpeg", "bmp", "gif", "webp"],
                                  key=f"own_files_{n}")
        if chosen:  # added at once; a fresh uploader then, the files taken
            add(me, ds.name, target, chosen)
            st.session_state["own_files_n"] = n + 1
            st.rerun()


st.title("Your images")
st.markdown("Ask your own question (is this a pen or a pencil?): name a few classes and fill "
            "each from the webcam or from pictures. The pictures stay yours: nobody else sees "
            "them.")
me = identity.owner()
message = st.session_state.pop("own_message", None)
if message is not None:
    (st.error if message[0] == "error" else st.success)(message[1])
mine = own_store().list(me)
names = [d.name for d in mine]
if not names:
    new_dataset_form(me)
    st.stop()
choice = st.selectbox("Dataset", names + ["+ a new dataset"], key="own_dataset")
if choice not in names:
    new_dataset_form(me)
    st.stop()
ds = own_store().get(me, choice)
pictures, used = own_store().usage(me)
limits = own_store().limits
st.caption(f"{ds.size} x {ds.size} pixels, {'gray' if ds.gray else 'colour'}; "
           f"{len(ds.class_names)} classes, {ds.total} pictures. You use {pictures:,} of your "
           f"{limits.max_images:,} pictures ({owndata.ENV_MAX_IMAGES}).")
adding_section(me, ds)
for class_name in ds.class_names:
    class_section(me, ds, class_name)
# built when clicked, not on every rerun: a full dataset is up to CNN_STUDIO_MAX_OWN_MB to zip
st.download_button("Download as .zip", lambda: own_store().export_zip(me, ds.name),
                   file_name=f"{ds.name}.zip", mime="application/zip", key="own_download",
                   icon=":material/download:")
