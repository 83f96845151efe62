"""CNN Studio: routes to the pages and draws the shared sidebar.

Run with ``streamlit run app.py`` (``make run`` sets everything up).
"""

import os
from pathlib import Path

import streamlit as st

from pages import common, identity

# cnnlib knows no repository layout: point it at the bundled (read-only) models beside
# this file, before any page runs, unless the environment already says where they are.
# What people save and train goes to $CNN_STUDIO_HOME (default ~/.cnn-studio), outside
# the repository. Spawned training processes inherit these variables.
HERE = Path(__file__).resolve().parent
os.environ.setdefault("CNN_STUDIO_MODELS_DIR", str(HERE / "models"))

st.set_page_config(page_title="CNN Studio", page_icon=":material/neurology:", layout="wide")

pages = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/own_data.py", title="Your images", icon=":material/photo_camera:"),
    st.Page("pages/convolution.py", title="Convolution", icon=":material/grid_on:"),
    st.Page("pages/inside.py", title="Inside the network", icon=":material/account_tree:"),
    st.Page("pages/classify.py", title="Classify", icon=":material/image_search:"),
]
# Presentation mode (?present=1): large text, no toolbar, the sidebar collapsed and the
# page links in the top bar, so that moving between pages never opens the sidebar.
presenting = common.presentation_mode()
nav = st.navigation(pages, position="top" if presenting else "sidebar")
common.presentation_toggle()
st.sidebar.caption("CNN Studio: see and touch convolutional neural networks.")
with st.sidebar:
    identity.remember()  # this browser's owner token, in a cookie (jobs and models are theirs)
nav.run()
