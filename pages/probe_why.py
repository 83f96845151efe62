"""Why it answered: five explanation maps of one input and one class, side by side.

Not a page itself: the probe view (pages/classify.py) calls :func:`why_section` with
the model, the input as the model takes it and the picture shown. The maths is
:mod:`cnnlib.explain`; the colours are :func:`cnnlib.viz.colour.explanation_picture`.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnlib.explain import attributions, gradcam, occlusion
from cnnlib.probe import corruptions
from cnnlib.viz.colour import explanation_picture
from cnnlib.viz.numbers import number
from cnnlib.viz.raster import enlarge

#: name -> one sentence on what the map computes, with its source.
METHODS = {
    "Vanilla gradient": "How much a tiny change of each pixel moves the class's score (the "
                        "largest over the colour channels). Simonyan et al. 2014.",
    "SmoothGrad": "The vanilla gradient averaged over noisy copies of the input, which "
                  "removes its speckle. Smilkov et al. 2017.",
    "Integrated gradients": "Each pixel's share of the score's change from a baseline "
                            "picture to this one, along the straight path between them: the "
                            "shares add up to that change. Sundararajan et al. 2017.",
    "Occlusion": "How much the class's probability drops when a black square covers the "
                 "pixel, averaged over the square's positions. Zeiler & Fergus 2014.",
    "Grad-CAM": "The last convolutional block's feature maps, weighted by the score's mean "
                "gradient on each, upsampled. Selvaraju et al. 2017.",
}
BASELINES = ("black", "blurred")


#: The methods' default settings: for small inputs (MNIST, CIFAR-10), and for a 224x224
#: photo through VGG16, where one gradient costs ~0.6 s on 2 cores (bench/probe.py).
DEFAULTS = {"small": {"samples": 16, "steps": 64}, "large": {"samples": 16, "steps": 16}}


def default_settings(side: int) -> dict:
    """The default settings for a ``side x side`` input (occlusion: a square of a seventh
    of the side, on a large input a quarter; stride half the square)."""
    large = side >= 100
    d = dict(DEFAULTS["large" if large else "small"])
    d["patch"] = max(1, side // 4 if large else side // 7)
    d["stride"] = max(1, d["patch"] // 2)
    return {**d, "noise": 0.15, "baseline": "black"}


def settings(key: str, side: int) -> dict:
    """The methods' settings, in an expander; each widget value clamped to its range
    (session state is a person's input too)."""
    d = default_settings(side)
    with st.expander("Settings of the methods"):
        a, b, c = st.columns(3)
        with a:
            samples = st.slider("SmoothGrad: noisy copies", 2, 50, d["samples"], key=f"{key}_sg_n")
            noise = st.slider("SmoothGrad: noise (share of the input range)", 0.0, 0.5, d["noise"],
                              0.05, key=f"{key}_sg_noise")
        with b:
            steps = st.slider("Integrated gradients: steps", 4, 256, d["steps"], key=f"{key}_ig_steps")
            baseline = st.radio("Integrated gradients: baseline", BASELINES, horizontal=True,
                                key=f"{key}_ig_base")
        with c:
            patch = st.slider("Occlusion: square's side (pixels)", 1, max(1, side // 2),
                              d["patch"], key=f"{key}_occ_patch")
            stride = st.slider("Occlusion: stride (pixels)", 1, max(1, side // 2), d["stride"],
                               key=f"{key}_occ_stride")
    return {"samples": int(np.clip(samples, 2, 50)), "noise": float(np.clip(noise, 0, 0.5)),
            "steps": int(np.clip(steps, 4, 256)),
            "baseline": baseline if baseline in BASELINES else "black",
            "patch": int(np.clip(patch, 1, side)), "stride": int(np.clip(stride, 1, side))}


def baseline_of(x: np.ndarray, which: str) -> np.ndarray:
    """Integrated gradients' baseline for ``x`` ``(1, H, W, C)`` in [0, 1]: black, or the
    picture blurred (Gaussian, standard deviation a tenth of its side)."""
    if which == "blurred":
        return corruptions.blur(x, min(10.0, x.shape[1] / 10))
    return np.zeros_like(x)


@st.cache_data(max_entries=64, show_spinner=False)
def explanation(method: str, model_key: tuple, digest: str, class_index: int, params: tuple,
                _model, _x: np.ndarray) -> tuple[np.ndarray, str]:
    """One method's map of one input, float32 ``(H, W)``, and a note ("" or a sentence);
    cached per model version, input, class and setting, shared by the class."""
    p = dict(params)
    c = [class_index]
    if method == "Vanilla gradient":
        return attributions.vanilla_gradient(_model, _x, c)[0], ""
    if method == "SmoothGrad":
        return attributions.smoothgrad(_model, _x, c, samples=p["samples"], noise=p["noise"])[0], ""
    if method == "Integrated gradients":
        base = baseline_of(_x, p["baseline"])
        maps = attributions.integrated_gradients(_model, _x, c, baseline=base, steps=p["steps"])
        sums, diffs = attributions.completeness(_model, _x, c, maps, baseline=base)
        gap = abs(float(sums[0] - diffs[0])) / max(abs(float(diffs[0])), 1e-12)
        return maps[0], (f"The shares add up to {number(float(sums[0]))}; the score changed by "
                         f"{number(float(diffs[0]))} from the {p['baseline']} baseline: "
                         f"{gap:.1%} apart" + (" (more steps would close the gap)." if gap > 0.05
                                               else "."))
    if method == "Occlusion":
        return occlusion.occlusion(_model, _x, c, patch=p["patch"], stride=p["stride"])[0], ""
    try:
        cam = gradcam.gradcam(_model, _x[0], class_index=class_index)
    except ValueError as e:
        return np.full(_x.shape[1:3], np.nan, np.float32), str(e)
    return cam.heatmap, f"Layer {cam.layer}, {cam.map_size[0]}x{cam.map_size[1]} upsampled."


def why_section(model, model_key: tuple, x: np.ndarray, picture: np.ndarray, digest: str,
                class_names: list[str], probs: np.ndarray, key: str) -> None:
    """The five maps of one input for one class (default: the top-1), each with its sentence.

    Args:
        model: a ``keras.Model`` classifier taking ``[0, 1]`` images.
        model_key: hashable, names the model's version (for the cache).
        x: float32 ``(H, W, C)`` in [0, 1], as the model takes it.
        picture: uint8 or [0, 1] ``(H, W[, C])``, the picture drawn under the maps.
        digest: names the input (for the cache).
        class_names: ``K`` names; probs: float ``(K,)`` the model's probabilities.
        key: the widgets' key prefix.
    """
    order = [int(i) for i in np.argsort(-probs)]
    maps_area = st.container()  # the maps first (what the class looks at), their settings below
    pick, more = st.columns([1, 2])
    label = pick.selectbox("Explain the class", order, key=f"{key}_class",
                           format_func=lambda i: f"{class_names[i]} ({probs[i]:.1%})")
    c = int(label) if label in order else order[0]
    with more:
        params = settings(key, x.shape[0])
    xb = x[None].astype(np.float32)
    with maps_area:
        draw_maps(model, model_key, xb, picture, digest, c, params)


def draw_maps(model, model_key: tuple, xb: np.ndarray, picture: np.ndarray, digest: str, c: int,
              params: dict) -> None:
    """The five maps of class ``c`` side by side, each with its sentence, with a progress
    bar while they are computed."""
    bar = st.progress(0.0, text="Computing the explanations...")
    results = {}
    for i, method in enumerate(METHODS):
        try:
            results[method] = explanation(method, model_key, digest, c,
                                          tuple(sorted(params.items())), model, xb)
        except Exception as e:  # a model can be anything Keras loads: a sentence, no traceback
            results[method] = (None, f"It cannot be computed for this model ({type(e).__name__}).")
        bar.progress((i + 1) / len(METHODS), text=f"{method} done")
    bar.empty()
    side = 120
    for col, (method, (values, note)) in zip(st.columns(len(METHODS)), results.items()):
        with col:
            st.markdown(f"**{method}**")
            if values is None or not np.isfinite(values).any():
                st.info(note)
                continue
            rgb, scale_words = explanation_picture(picture, values)
            st.image(enlarge(rgb, side), width=side)
            st.caption(f"{METHODS[method]} Colours: {scale_words}. {note}".strip())
