"""Who is at this browser: an unguessable owner token, kept in a cookie.

Training jobs and saved models belong to the browser that made them. The token is
``secrets.token_urlsafe(18)`` (144 random bits), made on a browser's first visit and
written to the cookie :data:`COOKIE` by a tiny component, so a refresh or a second
tab of the same browser (the presenter's) finds the same owner, while another
browser (a student's) has its own. Streamlit reads a session's cookies when its
connection opens (``st.context.cookies``), so the cookie counts from the next
refresh on; until then the session keeps its token in ``st.session_state``.

Nothing here is a login: anyone who copies the cookie is the same owner. It keeps
the people of one class from stopping or replacing each other's work by accident.
The token works like a password, so it is never written to disk: run directories
and model cards record its tag (:mod:`cnnlib.owners`).
"""

from __future__ import annotations

import re
import secrets

import streamlit as st

#: The cookie that holds the token.
COOKIE = "cnn_studio_owner"
#: Where a session keeps its token.
KEY = "identity_owner"
#: What a token looks like (token_urlsafe output); anything else in the cookie is ignored.
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{22,64}$")
#: One year, in seconds.
MAX_AGE_S = 365 * 24 * 3600

_JS = """
export default function (component) {
  const { data } = component;
  document.cookie = `${data.name}=${data.value}; path=/; max-age=${data.max_age}; SameSite=Strict`;
}
"""
_cookie_writer = st.components.v2.component("cnn_studio_owner_cookie", js=_JS)


def _cookie() -> str:
    """The token cookie this session's connection brought ("" if none; AppTest has none)."""
    value = st.context.cookies.get(COOKIE)
    return value if isinstance(value, str) else ""


def owner() -> str:
    """This browser's owner token (made and remembered on first use)."""
    token = st.session_state.get(KEY)
    if token is None:
        cookie = _cookie()
        token = cookie if TOKEN_RE.match(cookie) else secrets.token_urlsafe(18)
        st.session_state[KEY] = token
    return token


def remember() -> None:
    """Write the token to the browser's cookie when the browser does not have it yet;
    app.py calls this on every run (it draws nothing visible)."""
    token = owner()
    if _cookie() != token:
        _cookie_writer(data={"name": COOKIE, "value": token, "max_age": MAX_AGE_S},
                       key="identity_cookie_writer")
