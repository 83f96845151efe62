"""Constants and markers shared by the tests (imported as ``from testutil import ...``)."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = (REPO.parent / "shared" / "datasets").resolve()

requires_shared_data = pytest.mark.skipif(
    not (SHARED_DATA / "mnist.npz").exists(),
    reason=f"real data not found at {SHARED_DATA}",
)
