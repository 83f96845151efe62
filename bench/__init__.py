"""CNN Studio's benchmark suite: ``python -m bench [--quick] [--only ...] [--readme]``.

Each module (``training``, ``convolution``, ``classify``, ``app``) has
``run(quick) -> list[dict]``, one dict per row of the table (see
:func:`bench.common.row`); ``__main__`` runs them, prints the table, writes
``bench/results.json`` and, with ``--readme``, README.md's Performance section.

The suite lives outside :mod:`cnnlib` because it is a harness of the whole
repository: it starts ``streamlit run app.py``, drives Chromium through
Playwright (a dev dependency) and reads the shared data beside the checkout.
It is the one place besides the tests that may know that layout.
"""

from pathlib import Path

#: The repository: the folder that holds app.py, models/, README.md and bench/.
REPO_ROOT = Path(__file__).resolve().parent.parent
#: The real datasets beside the checkout (``../shared/datasets``), when present.
SHARED_DATA = REPO_ROOT.parent / "shared" / "datasets"
