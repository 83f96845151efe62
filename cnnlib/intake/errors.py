"""The one error of a model file that cannot be used (also the store's)."""

from __future__ import annotations


class ModelLoadError(RuntimeError):
    """A model file that cannot be loaded or is refused; ``str()`` is one sentence for
    the user that names the file and what to do.

    Attributes:
        detail: the technical detail (a framework's message, the numbers that broke a
            limit), shown folded below the sentence; "" when there is none.
    """

    def __init__(self, sentence: str, detail: str = ""):
        super().__init__(sentence)
        self.detail = detail
