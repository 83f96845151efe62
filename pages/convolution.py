"""Convolution page (being built: see the project's issues)."""

import streamlit as st

st.title("Convolution")
st.info("This page is not built yet. The library behind it is usable from the command line: "
        "`python -m cnnlib --help`.")
