"""A model card on disk, as this version reads it: owners as tags, older cards upgraded.

This version's cards record who saved a model as ``owner_tag``
(:func:`cnnlib.owners.owner_tag` of the owner's token, or None for a script that
named no owner). Cards written by earlier versions record the raw token as
``owner``; whoever could read the models folder could then act as that owner.

Reading converts such a card in memory (``owner`` dropped, ``owner_tag`` computed
from it: the card alone is enough, so any reader can do it, owner or not), and
:func:`upgrade` rewrites it on disk the same way, atomically, under the store's
lock (:func:`cnnlib.store.files.rewrite_card`). The store's readers call
:func:`upgrade` after their first read of an old card, so the token leaves the
disk at the first listing, card read or load, and the owner keeps the model. A
bundled folder is never written by a reader: its old cards are converted in
memory only. A card that cannot be rewritten (read-only folder) is likewise
converted on every read.
"""

from __future__ import annotations

import json
from pathlib import Path

from cnnlib.owners import owner_tag
from cnnlib.store import files

#: This version's field: the tag of the owner's token.
OWNER_TAG = "owner_tag"
#: Earlier versions' field: the owner's raw token.
LEGACY_OWNER = "owner"


def _parse(text: str) -> dict:
    card = json.loads(text)
    return card if isinstance(card, dict) else {}


def convert(card: dict) -> tuple[dict, bool]:
    """This version's view of a card: ``(card, whether it was an older version's)``.

    An older card's ``owner`` (a raw token, or None) is replaced by ``owner_tag``;
    a card with neither field (before owners) gets ``owner_tag`` None. The input is
    not modified.
    """
    if LEGACY_OWNER not in card:
        return (card if OWNER_TAG in card else {**card, OWNER_TAG: None}), False
    new = {k: v for k, v in card.items() if k != LEGACY_OWNER}
    token = card[LEGACY_OWNER]
    new[OWNER_TAG] = owner_tag(token) if isinstance(token, str) else None
    return new, True


def read(folder: Path, name: str) -> tuple[dict, bool]:
    """Card ``name`` of ``folder`` as :func:`convert` gives it, ``({}, False)`` when
    missing or unreadable. No side effects (a store reader may call it twice)."""
    try:
        return convert(_parse(files.card_path(folder, name).read_text()))
    except (OSError, ValueError):
        return {}, False


def read_card_file(folder: Path, name: str) -> dict:
    """Card ``name`` of ``folder`` (see :func:`read`), without the flag."""
    return read(folder, name)[0]


def upgrade(folder: Path, name: str) -> bool:
    """Rewrite an older version's card on disk as :func:`convert` sees it (see the
    module docstring). Never raises: a card that cannot be rewritten stays as it is
    and is converted again at each read.

    Returns:
        Whether the card was rewritten now (False: already this version's, gone, or
        the folder cannot be written).
    """
    def rewrite(text: str) -> str | None:
        card, legacy = convert(_parse(text))
        return json.dumps(card, indent=2) if legacy else None

    try:
        return files.rewrite_card(folder, name, rewrite)
    except (OSError, ValueError):
        return False


def card_text(card: dict, owner: str | None) -> str:
    """The JSON text of a card this version writes: ``card`` with the ``owner_tag`` of
    ``owner``, and no ``owner`` field (a token is never written down)."""
    body = {k: v for k, v in card.items() if k != LEGACY_OWNER}
    return json.dumps({**body, OWNER_TAG: owner_tag(owner)}, indent=2)
