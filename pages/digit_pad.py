"""The digit pad of the Classify page: a square canvas for one hand-drawn digit.

A Streamlit component of this app's own (``st.components.v2``, its script in
``digit_pad.js`` beside this file). streamlit-drawable-canvas 0.13 keeps a
toolbar floating over the canvas's top-right corner (hover-revealed and
invisible until then, but it takes the pointer: a stroke that starts there
draws nothing, and on a touch screen it is never revealed); since 0.11 it
can only be hidden by ``disabled=True``, which also stops drawing. The pad
has no toolbar; the page's Clear button blanks it.

Not a page itself (app.py does not route to it). Under AppTest the pad is an
unknown element; a test sets a drawing with
``at.session_state[key] = {"drawing": {"data": "data:image/png;base64,..."}}``.
"""

from __future__ import annotations

import functools
from pathlib import Path

import streamlit as st

CSS = """
.digit-pad {
  display: block;
  max-width: 100%;
  height: auto;
  touch-action: none;  /* a finger draws instead of scrolling the page */
  cursor: crosshair;
  outline: 1px solid var(--st-border-color, lightgrey);
  outline-offset: -1px;
}
"""


@functools.cache
def _component():
    """The registered component (once per process; Streamlit re-registers it on a new runtime)."""
    js = (Path(__file__).with_name("digit_pad.js")).read_text(encoding="utf-8")
    return st.components.v2.component("cnn_studio_digit_pad", js=js, css=CSS)


def digit_pad(key: str, generation: int, size: int = 280, stroke_width: int = 18,
              stroke_color: str = "#FFFFFF", background: str = "#000000") -> str | None:
    """Draw the pad; return the drawing once a stroke has ended.

    Args:
        key: the widget key (a new key is a new, blank pad with no drawing).
        generation: a number the page bumps to blank the pad (its Clear button).
        size: the side of the square canvas in pixels (its PNG has this size).
        stroke_width: the pen's width in canvas pixels, for the strokes to come.
        stroke_color, background: CSS colours of the ink and the canvas.

    Returns:
        The whole canvas as a ``data:image/png;base64,...`` URL (RGBA,
        ``size`` x ``size``, opaque), or None before the first stroke.
    """
    state = _component()(
        key=key, data={"size": size, "strokeWidth": stroke_width, "strokeColor": stroke_color,
                       "background": background, "generation": generation},
        default={"drawing": None}, on_drawing_change=lambda: None,
        width="content", height="content")
    drawing = state.get("drawing")
    return drawing.get("data") if isinstance(drawing, dict) else None
