"""Helpers shared by the pages: cached resources and small UI pieces.

Pages import this module; cnnlib never does.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnlib import store
from cnnlib.data import datasets
from cnnlib.viz.raster import enlarge, png_bytes

#: Session-state keys that one page writes and another reads (each page's own
#: keys carry its prefix and stay in that page).
#: The last digit drawn on Classify, float32 (28, 28) in [0, 1]; read by Convolution.
LAST_DIGIT_KEY = "classify_last_digit"

#: Presentation mode lives in the URL as ``?present=1``, so a link opens in it.
PRESENT_PARAM = "present"
#: The key of app.py's Presentation mode toggle (drawn on every page).
PRESENT_KEY = "app_present"


@st.cache_resource(show_spinner=False, ttl=3600, max_entries=8)
def load_dataset(name: str) -> datasets.Dataset:
    """The whole dataset ``name`` (uint8 NHWC images, int64 labels), one shared copy
    for all sessions. A run's test images are picked from it by the indices stored
    with its predictions (:class:`cnnlib.rundir.Predictions`).

    A resource rather than ``st.cache_data``: cache_data would copy the arrays
    (tens of MB) on every script run. They are made read-only instead, so no
    page can change the shared copy.
    """
    ds = datasets.load(name)
    for array in (ds.x_train, ds.y_train, ds.x_test, ds.y_test):
        array.flags.writeable = False
    return ds


@st.cache_resource(show_spinner="Loading model...", max_entries=16)
def load_stored_model(name: str, mtime: float):
    """A model from the store, shared by all sessions (``mtime`` keys the cache
    so that a model saved again under the same name is reloaded; at most 16 kept,
    so a class's saved models do not pile up in the server's memory)."""
    return store.load_model(name)


def pick_model(entries: list[store.StoredModel], key: str, default: str | None = None,
               problems: dict[str, str | store.ModelLoadError] | None = None) -> store.StoredModel:
    """The model picker of every page: a "Model" select box over store entries.

    Args:
        entries: the :class:`cnnlib.store.StoredModel` entries offered, at least one.
        key: the widget key (prefixed with the page's name).
        default: the name preselected when it is among ``entries`` and usable;
            else the first usable entry (the first entry if none is).
        problems: why a model cannot be used on this page, by name: a sentence
            (such as :func:`cnnlib.models.inference.check_classifier` raises) or a
            :class:`store.ModelLoadError` whose ``str()`` is one. Such a
            model is still listed, labelled ``name (unusable here: <why>)``, so
            that nobody wonders where it went; the page shows the sentence when
            it is chosen.

    Returns:
        The chosen entry (possibly one named in ``problems``). Each option is
        shown by its :meth:`StoredModel.label` or its problem.
    """
    problems = problems or {}
    by_name = {m.name: m for m in entries}
    names = list(by_name)
    usable = [n for n in names if n not in problems]
    first = default if default in usable else (usable or names)[0]

    def label(name: str) -> str:
        why = problems.get(name)
        return f"{name} (unusable here: {why})" if why else by_name[name].label()

    chosen = st.selectbox("Model", names, index=names.index(first), format_func=label, key=key)
    return by_name[chosen]


def show_refusal(sentence: str, detail: str = "") -> None:
    """A refused or unusable model on the page: ``sentence`` (one sentence naming the
    file and what to do) as an error, and the technical ``detail`` (a framework's
    message, the numbers that broke a limit) folded below it when there is one."""
    st.error(sentence)
    if detail:
        with st.expander("Details"):
            st.code(detail, language=None)


def dataset_error(e: Exception) -> None:
    """Show a dataset loading problem as a sentence on the page."""
    st.error(f"The dataset cannot be loaded. {e}")


def require_app_navigation() -> None:
    """Make sure the page runs under app.py's ``st.navigation``.

    Streamlit 1.67 keeps a legacy mode for apps with a ``pages/`` folder: when
    the first request a fresh server gets is a deep link such as ``/train``,
    it runs ``pages/train.py`` directly, ``app.py`` never calls
    ``st.navigation`` and the sidebar lists every file of the folder. Leave
    that mode (a class flag of Streamlit's PagesManager) and run again: the
    same URL then goes through app.py. Call it first thing in every page.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


_KERAS_READY = False


def import_keras():
    """Import Keras (and TensorFlow) once per server, and keep the garbage
    collector off their objects.

    After every script run Streamlit calls ``keras.backend.clear_session()``,
    which runs ``gc.collect()``; with TensorFlow's millions of objects each
    collection took ~140 ms here (measured), on every rerun of every page.
    ``gc.freeze()`` right after the import moves those long-lived module
    objects to the permanent generation: the same collection then takes ~2 ms.
    Objects are still freed by reference counting; only cyclic garbage that
    exists at this moment is kept.

    The collection still walked every object made since (30 sessions' widgets,
    messages and pictures): ~10% of the server's CPU under a 30-session load
    (py-spy). So this server's ``clear_session`` keeps its work (Keras's global
    state, TensorFlow's default graph and kernel cache) but leaves the collection
    to Python's own generational collector (``free_memory=False``). Training runs
    in its own processes and is not affected.
    """
    global _KERAS_READY
    import keras

    if not _KERAS_READY:
        import functools
        import gc

        gc.collect()
        gc.freeze()
        if not isinstance(keras.backend.clear_session, functools.partial):
            keras.backend.clear_session = functools.partial(keras.backend.clear_session,
                                                            free_memory=False)
        _KERAS_READY = True
    return keras


@st.cache_data(max_entries=2048, show_spinner=False)
def enlarged_png(img: np.ndarray, side: int) -> bytes:
    """:func:`cnnlib.viz.raster.enlarge` then PNG-encoded, cached by the pixels: a rerun that shows the
    same picture sends the stored bytes instead of encoding it again (a class of 30
    browsing the same galleries; profiled as ~15% of the server's busy time).

    Args:
        img: uint8 ``(H, W[, C])`` or float in [0, 1].
        side: the longer side wanted, pixels (a whole repeat factor: about).

    Returns:
        PNG bytes, for ``st.image``.
    """
    return png_bytes(enlarge(img, side))


@st.cache_data(max_entries=1024, show_spinner=False)
def enlarged_pngs(images: np.ndarray, side: int) -> list[bytes]:
    """:func:`enlarged_png` of each of ``images`` ``(N, H, W[, C])``, in one cached call
    (each call of a cached function costs its hashing: a gallery is one call; the
    pictures are made here, not cached a second time one by one)."""
    return [png_bytes(enlarge(img, side)) for img in images]


def prediction_grid(images: np.ndarray, y_true: np.ndarray, probs: np.ndarray,
                    class_names: list[str], *, per_row: int = 8, side: int = 64, top_k: int = 0,
                    on_pick=None, key: str = "") -> None:
    """Images in rows, each with its true class and its predicted class (green when
    right, red when wrong) with that prediction's probability.

    Args:
        images: uint8 ``(N, H, W, C)`` (or float in [0, 1]).
        y_true: int ``(N,)`` true labels.
        probs: float ``(N, num_classes)`` softmax outputs.
        class_names: one name per class.
        per_row: images per row.
        side: drawn size of each image's longer side, pixels (enlarged without blur).
        top_k: when > 0, a caption with the ``top_k`` most probable classes.
        on_pick: when given, an "Enlarge" button under each image calls ``on_pick(k)``
            (``k`` = the image's position); its key is ``f"{key}_pick_{k}"``.
        key: prefix of the buttons' keys, unique on the page.
    """
    pred = probs.argmax(1)
    pictures = enlarged_pngs(np.asarray(images), side)
    for k in range(len(images)):
        if k % per_row == 0:
            cols = st.columns(per_row)
        truth, guess = class_names[y_true[k]], class_names[pred[k]]
        colour = "green" if y_true[k] == pred[k] else "red"
        text = f"true **{truth}**  \npredicted :{colour}[**{guess}**] ({probs[k, pred[k]]:.0%})"
        if top_k:  # one element with the lines above: each element costs every rerun
            text += "  \n:gray[" + ", ".join(f"{class_names[j]} {probs[k, j]:.0%}"
                                             for j in np.argsort(-probs[k])[:top_k]) + "]"
        with cols[k % per_row]:
            st.image(pictures[k], output_format="PNG")
            st.markdown(text)
            if on_pick is not None:
                st.button("Enlarge", key=f"{key}_pick_{k}", on_click=on_pick, args=(k,))


# ------------------------------------------------------------ presentation --
#: Presentation mode's root font size, px. Streamlit sizes text in rem (body text,
#: captions and widget labels 0.875 rem), and its Plotly theme sizes chart text from
#: the root too (tick labels 0.75 rem): 23 px gives 20.1 px text, 17.25 px chart labels.
PRESENT_ROOT_PX = 23

#: The toggle's container (its CSS class is ``st-key-<key>``).
_PRESENT_BOX = f"{PRESENT_KEY}_box"
#: A CSS selector prefix that matches while the toggle is checked: the style applies in
#: the browser at the click, before the script reruns.
_ON = f"body:has(.st-key-{_PRESENT_BOX} input:checked)"

#: The style of presentation mode: larger text, no toolbar, less of Streamlit's
#: chrome (header, paddings, gaps) so that a page's content gets the screen.
#:
#: Charts: Streamlit's Plotly theme sizes a chart's text when it draws the chart, so a
#: chart drawn (or redrawn, as live curves are) in presentation mode is laid out for
#: the larger root. A chart drawn before the switch keeps its layout until its figure
#: changes; the ``.js-plotly-plot`` rules give its labels the same sizes meanwhile
#: (Plotly placed them for the smaller text, so long labels may crowd a little).
PRESENT_CSS = f"""<style>
html:has(.st-key-{_PRESENT_BOX} input:checked) {{ font-size: {PRESENT_ROOT_PX}px; }}
{_ON} .js-plotly-plot :is(.xtick text, .ytick text, .legendtext) {{ font-size: 0.75rem !important; }}
{_ON} .js-plotly-plot :is(.xtitle, .ytitle) {{ font-size: 0.875rem !important; }}
{_ON} [data-testid="stToolbarActions"], {_ON} [data-testid="stMainMenu"],
{_ON} [data-testid="stAppDeployButton"], {_ON} [data-testid="stDecoration"] {{ display: none; }}
{_ON} [data-testid="stHeader"] {{ height: 2.2rem; min-height: 0; }}
{_ON} [data-testid="stMainBlockContainer"] {{ padding: 2.4rem 1.5rem 1.5rem; max-width: none; }}
{_ON} [data-testid="stMain"] h1 {{ font-size: 1.9rem; padding: 0 0 0.35rem; }}
{_ON} [data-testid="stMain"] h2 {{ font-size: 1.45rem; padding: 0.4rem 0 0.2rem; }}
{_ON} [data-testid="stMain"] h3 {{ font-size: 1.2rem; padding: 0.3rem 0 0.15rem; }}
{_ON} [data-testid="stVerticalBlock"] {{ gap: 0.55rem; }}
{_ON} [data-testid="stMain"] .katex-display {{ margin: 0.15em 0; }}
.st-key-{_PRESENT_BOX} {{ position: fixed; top: 0.45rem; right: 4.5rem; z-index: 999990;
  width: auto; }}
{_ON} .st-key-{_PRESENT_BOX} {{ right: 1rem; }}
</style>"""


#: Phones and tablets (issue 24): the page-wide rules for narrow screens, beside
#: :data:`PRESENT_CSS` and injected with it on every page.
#:
#: - Formulas: KaTeX cuts a formula into unbreakable pieces after each top-level
#:   relation (=) and binary operator (+, -, x) but keeps a display formula on one line
#:   (``white-space: nowrap``); below 900 px the line may break there, so the number a
#:   formula computes (``= 126``) goes to the next line instead of past the edge. A piece
#:   that is still wider than the screen (a long fraction) scrolls inside its block. On a
#:   phone formulas are drawn a little smaller, so that the output-size fraction fits.
#: - A checkbox's label wraps instead of being cut with an ellipsis: in Train's four
#:   columns of hyperparameters on a tablet "Keep the best epoch" was cut to 56 px, its
#:   text running to 828 px of 820.
#: - Anything that scrolls sideways inside the main area (a formula, a wide grid: the
#:   ``NARROW_SCROLL`` class) shows a shadow on the side where more is hidden
#:   (white backgrounds that scroll with the content, the theme being light, cover the
#:   shadows at the ends).
#: - A :func:`stacked_only` container (an answer repeated in one line next to its input)
#:   shows only where Streamlit stacks columns (viewports up to ``STACKED_MAX_PX``, its
#:   ``breakpoints.columns``): there the full answer has gone below the fold.
NARROW_MAX_PX = 900
STACKED_MAX_PX = 640
PHONE_MAX_PX = 480  # ... and on a phone formulas are drawn at 1.05 em instead of KaTeX's 1.21
NARROW_SCROLL = "narrow-scroll"
_STACKED_ONLY = "stacked_only_"  # the key prefix of stacked_only containers
_SHADOWS = ("background: linear-gradient(to right, #fff 30%, transparent),"
            " linear-gradient(to left, #fff 30%, transparent) 100% 0,"
            " radial-gradient(farthest-side at 0 50%, rgba(0,0,0,.25), transparent),"
            " radial-gradient(farthest-side at 100% 50%, rgba(0,0,0,.25), transparent) 100% 0;"
            " background-repeat: no-repeat; background-size: 2.5em 100%, 2.5em 100%, 0.9em 100%, 0.9em 100%;"
            " background-attachment: local, local, scroll, scroll;")
NARROW_CSS = f"""<style>
[data-testid="stMain"] :is(.katex-display, .{NARROW_SCROLL}) {{ overflow-x: auto; overflow-y: hidden;
  max-width: 100%; {_SHADOWS} }}
@media (max-width: {NARROW_MAX_PX}px) {{
  [data-testid="stMain"] .katex-display > .katex {{ white-space: normal; }}
  [data-testid="stMain"] .katex-display > .katex > .katex-html {{ white-space: normal; }}
  [data-testid="stMain"] .katex-display .base {{ margin: 0.1em 0; }}
  [data-testid="stMain"] [data-testid="stCheckbox"] [data-testid="stMarkdownContainer"],
  [data-testid="stMain"] [data-testid="stCheckbox"] [data-testid="stMarkdownContainer"] p {{
    white-space: normal; overflow: visible; }}
}}
@media (max-width: {PHONE_MAX_PX}px) {{
  [data-testid="stMain"] .katex-display > .katex {{ font-size: 1.05em; }}
}}
@media not all and (max-width: {STACKED_MAX_PX}px) {{
  [data-testid="stLayoutWrapper"]:has(> [class*="st-key-{_STACKED_ONLY}"]),
  [class*="st-key-{_STACKED_ONLY}"] {{ display: none; }}
}}
</style>"""


def stacked_only(key: str):
    """A container drawn only on screens where Streamlit stacks columns (up to
    :data:`STACKED_MAX_PX` wide: phones, a narrow window), by :data:`NARROW_CSS`; e.g. a
    prediction in one line under the picture it answers, whose chart has gone below.

    Args:
        key: unique on the page (the container's key is ``stacked_only_<key>``).
    """
    return st.container(key=f"{_STACKED_ONLY}{key}")


def presenting() -> bool:
    """Whether this session shows the app in presentation mode (``?present=1``).

    app.py settles the mode (:func:`presentation_mode`) before any page runs, so a
    page that asks reads this run's mode. Pages may use it to lay out their main idea
    for one 1280x720 screen.
    """
    return st.query_params.get(PRESENT_PARAM) == "1"


def presentation_mode() -> bool:
    """This run's presentation mode, with the URL made to say it; app.py calls it before
    ``st.navigation`` (which puts the page links in the top bar when presenting).

    The URL is the mode's home: a new session starts from ``?present=1``; after that
    the toggle (:func:`presentation_toggle`, whose value a click sets before the run
    starts) decides, and this writes the parameter back when a page switch has
    cleared the query string.
    """
    if PRESENT_KEY not in st.session_state:  # a new session: the URL decides
        st.session_state[PRESENT_KEY] = presenting()
    on = bool(st.session_state[PRESENT_KEY])
    if on and not presenting():
        st.query_params[PRESENT_PARAM] = "1"
    elif not on and PRESENT_PARAM in st.query_params:
        del st.query_params[PRESENT_PARAM]
    return on


def presentation_toggle() -> None:
    """Draw the Presentation mode toggle and apply the mode's look; app.py calls it on
    every run, after ``st.navigation`` (a widget drawn before it would belong to each
    page in turn and lose its value on a page switch).

    In presentation mode the sidebar collapses, Streamlit's toolbar is hidden and text
    is larger (:data:`PRESENT_CSS`). The rules for phones and tablets
    (:data:`NARROW_CSS`) are drawn here too, on every page.
    """
    with st.container(key=_PRESENT_BOX):  # placed in the header's corner by PRESENT_CSS
        on = st.toggle("Presentation mode", key=PRESENT_KEY,
                       help="Large text, no sidebar or toolbar: each page's main idea on one "
                            "1280x720 screen. The address keeps it as present=1.")
    st.set_page_config(initial_sidebar_state="collapsed" if on else "auto")
    st.html(PRESENT_CSS + NARROW_CSS)
