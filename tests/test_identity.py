"""The owner token (pages/identity.py): one per browser, stable across reruns."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from pages import identity


def test_each_session_gets_its_own_unguessable_token_and_keeps_it():
    app = str(Path(__file__).resolve().parents[1] / "app.py")
    a, b = AppTest.from_file(app, default_timeout=60), AppTest.from_file(app, default_timeout=60)
    a.run()
    b.run()
    token = a.session_state[identity.KEY]
    assert identity.TOKEN_RE.match(token) and len(token) >= 24
    assert b.session_state[identity.KEY] != token
    a.run()
    assert a.session_state[identity.KEY] == token and not a.exception
