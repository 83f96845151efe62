"""Owners: who may stop a training job or replace and delete a saved model.

An owner is a token: the browser's (``pages/identity.py``: 144 random bits in a
cookie), the command line's ``"cli"``, a script's own string, or None for nobody
in particular. A token works like a password (whoever presents it is that
owner), so it is never written to disk: run directories (``job.json``) and the
model store's cards record its **tag**, :func:`owner_tag`, and every ownership
check compares tags (:func:`is_owner`). Anyone who can read those files learns
which things share an owner, not how to act as that owner.

:class:`NotOwnerError` is the one refusal, raised by the job manager (stopping
another person's job) and by the model store (replacing or deleting another
person's model).
"""

from __future__ import annotations

import hashlib
import re

#: How many hex digits of the SHA-256 a tag keeps (64 bits).
TAG_HEX_DIGITS = 16
#: What a tag looks like.
TAG_RE = re.compile(rf"^[0-9a-f]{{{TAG_HEX_DIGITS}}}$")


class NotOwnerError(PermissionError):
    """Someone other than the owner tried to stop a job, or to replace or delete a
    saved model; ``str()`` is a sentence to show as it is."""


def owner_tag(owner: str | None) -> str | None:
    """What is written down of an owner: the first 16 hex digits of the SHA-256 of
    the token's UTF-8 bytes (FIPS 180-4), e.g. ``owner_tag("cli") ==
    "99bb88401742848e"``; None for None (nobody in particular).

    Args:
        owner: the owner token (any string, "" included), or None.

    Returns:
        16 lowercase hex digits (:data:`TAG_RE`), or None.

    Raises:
        TypeError: ``owner`` is neither a string nor None.
    """
    if owner is None:
        return None
    if not isinstance(owner, str):
        raise TypeError(f"An owner token is a string. Received: owner={owner!r}")
    return hashlib.sha256(owner.encode()).hexdigest()[:TAG_HEX_DIGITS]


def is_owner(tag: str | None, owner: str | None) -> bool:
    """Whether the token ``owner`` is the one that ``tag`` records (both None: a thing
    of nobody in particular, and a caller who names nobody)."""
    return tag == owner_tag(owner)
