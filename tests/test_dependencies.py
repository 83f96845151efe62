"""The packages the code imports directly are pinned, and no private Keras module is used."""

import re
from importlib import metadata

import pytest
from testutil import REPO


def pins() -> dict[str, str]:
    """``name==version`` lines of requirements.txt, by lower-case name."""
    out = {}
    for line in (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\s*([A-Za-z0-9_.-]+)\s*==\s*([^\s#]+)", line)
        if m:
            out[m.group(1).lower()] = m.group(2)
    return out


@pytest.mark.parametrize("package", ["keras", "h5py", "tensorflow", "streamlit"])
def test_directly_imported_packages_are_pinned_to_the_installed_version(package):
    assert pins().get(package) == metadata.version(package), \
        f"pin {package}=={metadata.version(package)} in requirements.txt"


def test_no_private_keras_module_is_imported():
    """keras.src.* changes without notice between Keras releases."""
    files = [p for folder in ("cnnlib", "pages", "tests") for p in (REPO / folder).rglob("*.py")]
    files.append(REPO / "app.py")
    private = re.compile(r"^\s*(from|import)\s+keras\.src\b", re.MULTILINE)
    assert [str(p.relative_to(REPO)) for p in files if private.search(p.read_text("utf-8"))] == []
