"""pages/common.py: the helpers every page shares, and the private Streamlit
flag the deep-link workaround relies on."""

import importlib
import inspect
import re

import pytest
from streamlit.testing.v1 import AppTest
from testutil import REPO

from pages import common

WORKAROUND = ("pages/common.require_app_navigation (which keeps deep links such as /train on a "
              "fresh server going through app.py's st.navigation)")


def test_streamlit_still_has_the_private_pages_directory_flag(monkeypatch):
    """The workaround writes PagesManager.uses_pages_directory, a private class flag of
    Streamlit 1.67. If an upgrade moves or renames it, say which workaround to revisit."""
    module_path, flag = "streamlit.runtime.pages_manager", "uses_pages_directory"
    source = inspect.getsource(common.require_app_navigation)
    assert module_path in source and f"PagesManager.{flag}" in source  # the same flag as below
    try:
        pages_manager = importlib.import_module(module_path)
    except ImportError as e:
        pytest.fail(f"Streamlit has no module {module_path} any more ({e}): revisit {WORKAROUND}.")
    manager = getattr(pages_manager, "PagesManager", None)
    if manager is None or not hasattr(manager, flag):
        pytest.fail(f"Streamlit's PagesManager has no class attribute {flag} any more: "
                    f"revisit {WORKAROUND}.")
    # A fresh server decides the flag on its first PagesManager: True beside a pages/ folder.
    monkeypatch.setattr(manager, flag, None)  # restored after the test
    manager(str(REPO / "app.py"))
    value = getattr(manager, flag)
    if not isinstance(value, bool) or value is not (REPO / "pages").is_dir():
        pytest.fail(f"PagesManager.{flag} is {value!r} for an app with a pages/ folder, not True: "
                    f"Streamlit changed its legacy pages/ mode; revisit {WORKAROUND}.")


def test_the_last_digit_key_is_written_in_one_place_only():
    """The cross-page key has one home: its constant. No page spells the string again."""
    assert common.LAST_DIGIT_KEY == "classify_last_digit"  # the value sessions already hold
    spelled = [p.name for p in sorted((REPO / "pages").glob("*.py")) if p.name != "common.py"
               and f'"{common.LAST_DIGIT_KEY}"' in p.read_text(encoding="utf-8")]
    assert spelled == []
    users = {p.name for p in (REPO / "pages").glob("*.py")
             if "LAST_DIGIT_KEY" in p.read_text(encoding="utf-8")}
    assert {"classify.py", "convolution.py"} <= users


def picker_app(names, default, problems=None):
    """A one-widget app around common.pick_model (run by AppTest from its source)."""
    import streamlit as st

    from pages.common import pick_model

    class Entry:  # what pick_model needs of a store entry
        def __init__(self, name):
            self.name = name

        def label(self):
            return f"{self.name} (label)"

    entry = pick_model([Entry(n) for n in names], key="test_model", default=default,
                       problems=problems)
    st.markdown(f"chosen: {entry.name}")


@pytest.mark.parametrize("default,expected", [("b", "b"), ("missing", "a"), (None, "a")])
def test_pick_model_preselects_the_default_and_labels_each_entry(default, expected):
    at = AppTest.from_function(picker_app, args=(["a", "b", "c"], default),
                               default_timeout=30).run()
    assert not at.exception
    box = at.selectbox(key="test_model")
    assert box.label == "Model" and box.value == expected
    assert box.options == ["a (label)", "b (label)", "c (label)"]
    assert at.markdown[0].value == f"chosen: {expected}"
    box.set_value("c").run()
    assert at.markdown[0].value == "chosen: c"


@pytest.mark.parametrize("default,expected", [("a", "b"), ("c", "c"), (None, "b")])
def test_pick_model_lists_unusable_models_with_their_reason_and_does_not_preselect_them(
        default, expected):
    problems = {"a": "The model takes 2 inputs; a classifier here takes one image."}
    at = AppTest.from_function(picker_app, args=(["a", "b", "c"], default, problems),
                               default_timeout=30).run()
    assert not at.exception
    box = at.selectbox(key="test_model")
    assert box.value == expected
    assert box.options == [f"a (unusable here: {problems['a']})", "b (label)", "c (label)"]
    box.set_value("a").run()  # still choosable: the page says why it cannot be used
    assert at.markdown[0].value == "chosen: a"
    every = {n: "It cannot be loaded." for n in "abc"}
    at = AppTest.from_function(picker_app, args=(["a", "b", "c"], "b", every),
                               default_timeout=30).run()
    assert at.selectbox(key="test_model").value == "a"  # none usable: the first


def test_both_pages_pick_models_with_the_one_widget():
    for page in ("classify.py", "conv_sections.py"):
        text = (REPO / "pages" / page).read_text(encoding="utf-8")
        assert "pick_model(" in text and 'st.selectbox("Model"' not in text, page
    assert not hasattr(importlib.import_module("pages.classify_parts"), "pick_model")


# ------------------------------------------------------------ presentation --
def presentation_app():
    """app.py's call, and what a page then reads (run by AppTest from its source)."""
    import streamlit as st

    from pages import common

    common.presentation_mode()
    common.presentation_toggle()
    st.markdown(f"presenting: {common.presenting()}")


def shown(at) -> str:
    return at.markdown[0].value


def test_presentation_mode_starts_from_the_url_and_the_toggle_writes_it():
    at = AppTest.from_function(presentation_app, default_timeout=30)
    at.query_params[common.PRESENT_PARAM] = "1"  # a shared link ...?present=1
    at.run()
    assert not at.exception
    toggle = at.toggle(key=common.PRESENT_KEY)
    assert toggle.label == "Presentation mode" and toggle.value is True
    assert shown(at) == "presenting: True"
    toggle.set_value(False).run()
    assert common.PRESENT_PARAM not in at.query_params and shown(at) == "presenting: False"
    at.toggle(key=common.PRESENT_KEY).set_value(True).run()
    assert at.query_params[common.PRESENT_PARAM] == "1" and shown(at) == "presenting: True"


def test_a_new_session_without_the_parameter_is_not_presenting():
    at = AppTest.from_function(presentation_app, default_timeout=30).run()
    assert at.toggle(key=common.PRESENT_KEY).value is False
    assert common.PRESENT_PARAM not in at.query_params and shown(at) == "presenting: False"


def test_a_page_switch_keeps_present_1_in_the_url():
    """A click in the sidebar's navigation clears the query string; the next run of app.py
    writes ?present=1 back before the page runs, so the page still reads presenting()."""
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.query_params[common.PRESENT_PARAM] = "1"
    at.run()
    for page in ("pages/convolution.py", "pages/home.py"):
        at.query_params.clear()  # what Streamlit's navigation does on a page switch
        at.switch_page(page).run()
        assert not at.exception, page
        assert at.query_params.get(common.PRESENT_PARAM) == "1", page
        assert at.toggle(key=common.PRESENT_KEY).value is True, page


def blocks(node):
    """Every block and element of an AppTest tree, depth first."""
    yield node
    for child in getattr(node, "children", {}).values():
        yield from blocks(child)


def test_the_presentation_css_enlarges_the_root_only_while_the_drawn_toggle_is_on():
    """The style the app delivers sets the root font size under a selector that names the
    container the toggle is really drawn in (a renamed key would leave the CSS matching
    nothing), and that size makes Streamlit 1.67's 0.875 rem text and 0.75 rem Plotly tick
    labels at least 20 px and 16 px (the browser test measures them in Chromium)."""
    at = AppTest.from_function(presentation_app, default_timeout=30).run()
    (style,) = [h.proto.body for h in at.get("html") if "font-size" in h.proto.body]
    rule = re.search(r"html:has\(\.st-key-([\w-]+) input:checked\) \{ font-size: (\d+)px; \}",
                     style)
    assert rule, style
    box, root_px = rule.group(1), int(rule.group(2))
    (container,) = [b for b in blocks(at._tree)
                    if getattr(b, "proto", None) is not None and
                    str(getattr(b.proto, "id", "")).endswith(f"-{box}")]
    toggles = [e for e in blocks(container) if type(e).__name__ == "Toggle"]
    assert [t.label for t in toggles] == ["Presentation mode"]
    assert root_px * 0.875 >= 20 and root_px * 0.75 >= 16
