"""CNN Studio: routes to the pages and draws the shared sidebar.

Run with ``streamlit run app.py`` (``make run`` sets everything up).
"""

import streamlit as st

st.set_page_config(page_title="CNN Studio", page_icon=":material/neurology:", layout="wide")

pages = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/convolution.py", title="Convolution", icon=":material/grid_on:"),
    st.Page("pages/classify.py", title="Classify", icon=":material/image_search:"),
]
nav = st.navigation(pages)
st.sidebar.caption("CNN Studio: see and touch convolutional neural networks.")
nav.run()
