"""Fool it: an adversarial example of one input, FGSM or PGD, with its budget epsilon.

Not a page itself: the probe view (pages/classify.py) calls :func:`fool_section`. The
maths is :mod:`cnnlib.probe.attacks`; inputs are in [0, 1], so epsilon is shown in
those units and in grey levels out of 255.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnlib.probe import attacks
from cnnlib.viz.colour import colourise, value_scale
from cnnlib.viz.numbers import number
from cnnlib.viz.raster import enlarge

ATTACKS = ("FGSM", "PGD")
SENTENCES = {
    "FGSM": "One step of size epsilon on every pixel, in the direction that raises the "
            "loss of the true class fastest (the sign of its gradient). Goodfellow et al. 2015.",
    "PGD": "Many small steps of that kind, each pulled back into the epsilon budget and the "
           "[0, 1] range: stronger than one step. Madry et al. 2018.",
}
MAX_EPSILON = 0.5


def attack_settings(key: str, class_names: list[str], label: int) -> dict:
    """The attack's widgets; values clamped to their ranges."""
    a, b = st.columns(2)
    with a:
        kind = st.radio("Attack", ATTACKS, horizontal=True, key=f"{key}_kind")
        grey = st.slider("Epsilon, in grey levels out of 255", 0, int(MAX_EPSILON * 255), 8,
                         key=f"{key}_eps",
                         help="How far each pixel may move: the L-infinity budget.")
    with b:
        targets = ["none (any wrong class)"] + [n for i, n in enumerate(class_names) if i != label]
        target = st.selectbox("Push towards", targets, key=f"{key}_target")
        s1, s2 = st.columns(2)
        steps = s1.slider("PGD steps", 1, 50, 10, key=f"{key}_steps", disabled=kind != "PGD")
        size = s2.slider("PGD step size (grey levels; 0: 2.5 epsilon / steps)", 0, 32, 0,
                         key=f"{key}_step_size", disabled=kind != "PGD")
    eps = float(np.clip(grey, 0, MAX_EPSILON * 255)) / 255
    return {"kind": kind if kind in ATTACKS else "FGSM", "epsilon": eps,
            "target": class_names.index(target) if target in class_names else None,
            "steps": int(np.clip(steps, 1, 50)),
            "step_size": float(np.clip(size, 0, 32)) / 255 or None}


@st.cache_data(max_entries=64, show_spinner=False)
def adversarial(model_key: tuple, digest: str, label: int, params: tuple, _model,
                _x: np.ndarray) -> np.ndarray:
    """The adversarial input ``(1, H, W, C)`` float32 in [0, 1], cached per model version,
    input, label and settings."""
    p = dict(params)
    target = None if p["target"] is None else [p["target"]]
    if p["kind"] == "FGSM":
        return attacks.fgsm(_model, _x, [label], p["epsilon"], target=target)
    return attacks.pgd(_model, _x, [label], p["epsilon"], steps=p["steps"],
                       step_size=p["step_size"], target=target)


@st.cache_data(max_entries=64, show_spinner=False)
def smallest_epsilon(model_key: tuple, digest: str, label: int, kind: str, _model,
                     _x: np.ndarray) -> float | None:
    return attacks.smallest_flipping_epsilon(_model, _x[0], label, hi_epsilon=MAX_EPSILON,
                                             attack=kind.lower())


def fool_section(model, model_key: tuple, x: np.ndarray, digest: str, class_names: list[str],
                 label: int, probabilities, key: str) -> None:
    """The original, the perturbation (amplified, with its scale), the adversarial picture
    and its top-3, and the smallest epsilon that flips the answer.

    Args:
        model: a ``keras.Model`` classifier taking ``[0, 1]`` images.
        model_key: hashable, names the model's version (for the cache).
        x: float32 ``(H, W, C)`` in [0, 1]; digest names it.
        class_names: ``K`` names; label: the class the input should keep (its true
            class where known, else the model's answer).
        probabilities: ``f(x (N, H, W, C)) -> (N, K)`` the model's probabilities.
        key: the widgets' key prefix.
    """
    p = attack_settings(key, class_names, label)
    st.caption(SENTENCES[p["kind"]])
    xb = x[None].astype(np.float32)
    with st.spinner("Attacking..."):
        adv = adversarial(model_key, digest, label, tuple(sorted(p.items())), model, xb)
    delta = (adv - xb)[0]  # (H, W, C), in [-eps, eps]
    before, after = probabilities(xb)[0], probabilities(adv)[0]
    side = 200 if x.shape[0] < 100 else 224
    cols = st.columns(3)
    with cols[0]:
        st.image(enlarge(x, side), width=side)
        st.caption(f"Original: {class_names[int(np.argmax(before))]} "
                   f"({before.max():.1%}).")
    with cols[1]:
        d = delta.mean(axis=-1) if delta.shape[-1] > 1 else delta[..., 0]
        scale = value_scale(np.array([-p["epsilon"], p["epsilon"]]) if p["epsilon"] else d)
        st.image(enlarge(colourise(d, scale), side), width=side)
        st.caption(f"The change, amplified: {number(scale.zmin)} (blue) to "
                   f"{number(scale.zmax)} (red), that is {round(p['epsilon'] * 255)} grey "
                   f"levels at most; largest change made {number(float(np.abs(delta).max()))}.")
    with cols[2]:
        st.image(enlarge(adv[0], side), width=side)
        top = np.argsort(-after)[:3]
        flipped = int(top[0]) != label
        st.caption(("Fooled: " if flipped else "Not fooled: ")
                   + ", ".join(f"{class_names[int(i)]} {after[int(i)]:.1%}" for i in top) + ".")
    asked = (model_key, digest, label, p["kind"])
    st.button("Find the smallest epsilon that changes the answer", key=f"{key}_bisect",
              on_click=st.session_state.__setitem__, args=(f"{key}_bisect_asked", asked))
    if st.session_state.get(f"{key}_bisect_asked") == asked:  # until the input or attack changes
        with st.spinner("Bisecting epsilon..."):
            eps = smallest_epsilon(model_key, digest, label, p["kind"], model, xb)
        if eps is None:
            st.info(f"{p['kind']} does not change the answer even at epsilon {MAX_EPSILON} "
                    f"({int(MAX_EPSILON * 255)} grey levels).")
        elif eps == 0:
            st.info(f"The model already answers something other than {class_names[label]}.")
        else:
            st.success(f"{p['kind']} changes the answer from epsilon {number(eps)} "
                       f"(about {eps * 255:.0f} grey levels of 255) on.")
