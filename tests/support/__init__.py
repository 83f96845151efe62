"""Test support code that is not a test: the Streamlit test server (``server``).

Imported as ``tests.support.server`` (the repository root is on ``sys.path``
under ``python -m pytest`` and ``python -m bench``), by the browser tests and
by the app benchmark alike.
"""
