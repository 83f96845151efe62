"""Train page (being built: see the project's issues)."""

import streamlit as st

st.title("Train")
st.info("This page is not built yet. The library behind it is usable from the command line: "
        "`python -m cnnlib --help`.")
