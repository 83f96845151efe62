"""A ``.keras`` archive looked at before anything is built: its zip members checked
from the central directory's declared sizes (nothing decompressed), ``config.json``
read with a byte bound and parsed, and the weights file's dataset shapes read with
h5py without reading the data.

``ZipFile.testzip`` is never called (it decompresses everything); each member read
here is read with a bound and its CRC is checked as it is read.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from cnnlib.intake.errors import ModelLoadError
from cnnlib.intake.limits import Limits

#: The members a Keras 3 archive holds; anything under ``assets/`` is allowed too.
KERAS_MEMBERS = frozenset({"config.json", "metadata.json", "model.weights.h5",
                           "model.weights.npz"})
#: Members smaller than this are never refused for their ratio (a short JSON
#: file compresses well and costs nothing).
RATIO_FLOOR_BYTES = 64 * 2**10
RESAVE = "save the model again with model.save('name.keras')"


@dataclasses.dataclass(frozen=True)
class ArchiveReport:
    """What :func:`inspect_archive` read.

    Attributes:
        config: the parsed ``config.json`` (Keras 3: ``{"module", "class_name",
            "config", "registered_name", ...}``).
        weight_shapes: each dataset of ``model.weights.h5`` by its HDF5 path, its shape
            (``()`` for a scalar): the layers' under ``layers/``, a compiled model's
            optimizer state under ``optimizer/``; ``{}`` when the archive has no h5
            weights file.
    """

    config: dict
    weight_shapes: dict


def _refuse(name: str, reason: str, todo: str = RESAVE, detail: str = "") -> ModelLoadError:
    return ModelLoadError(f"{name} cannot be loaded: {reason}; {todo}.", detail)


def _check_members(infos: list, limits: Limits, name: str) -> None:
    """Refuse at the first member whose declared size is out of proportion (ratio
    ``file_size / compress_size`` over ``limits.max_ratio``; a stored member has ratio
    1) or that takes the total declared size over ``limits.max_uncompressed_bytes``."""
    total = 0
    for info in infos:
        if info.filename not in KERAS_MEMBERS and not info.filename.startswith("assets/"):
            raise _refuse(name, f"it holds a file a Keras model archive does not have "
                                f"({info.filename[:80]})", detail=f"member={info.filename!r}")
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_FLOOR_BYTES and ratio > limits.max_ratio:
            raise _refuse(name, f"its member {info.filename[:80]} declares "
                                f"{info.file_size / 2**20:,.0f} MB compressed "
                                f"{ratio:,.0f} to 1, far more than a model's weights",
                          detail=f"member={info.filename!r} file_size={info.file_size} "
                                 f"compress_size={info.compress_size} max_ratio={limits.max_ratio}")
        total += info.file_size
        if total > limits.max_uncompressed_bytes:
            raise _refuse(name, f"its members declare more than "
                                f"{limits.max_uncompressed_bytes / 2**20:,.0f} MB once unpacked",
                          todo="upload a smaller model",
                          detail=f"declared total >= {total} bytes, "
                                 f"max_uncompressed_bytes={limits.max_uncompressed_bytes}")


def _read_config(z: zipfile.ZipFile, limits: Limits, name: str) -> dict:
    info = z.getinfo("config.json")
    if info.file_size > limits.max_config_bytes:
        raise _refuse(name, f"its config.json is {info.file_size / 2**20:,.1f} MB, more than "
                            f"{limits.max_config_bytes / 2**20:,.0f} MB", todo="upload a smaller model",
                      detail=f"config.json file_size={info.file_size}")
    with z.open(info) as f:
        raw = f.read(limits.max_config_bytes + 1)
    if len(raw) > limits.max_config_bytes:
        raise _refuse(name, "its config.json is larger than it declares", detail=f"read {len(raw)} bytes")
    try:
        config = json.loads(raw)
    except (ValueError, RecursionError) as e:  # UnicodeDecodeError is a ValueError
        raise _refuse(name, "its config.json is not valid JSON",
                      detail=f"{type(e).__name__}: {str(e)[:300]}") from None
    if not isinstance(config, dict):
        raise _refuse(name, "its config.json does not describe a model",
                      detail=f"config.json holds a {type(config).__name__}")
    return config


def _weight_shapes(z: zipfile.ZipFile, name: str) -> dict:
    """Dataset shapes of ``model.weights.h5``, extracted (bounded by its checked declared
    size) to a temporary file and opened with h5py; no dataset's data is read."""
    if "model.weights.h5" not in z.namelist():
        return {}
    import h5py

    fd, tmp = tempfile.mkstemp(suffix=".h5", prefix="cnn-studio-intake-")
    try:
        with os.fdopen(fd, "wb") as out, z.open("model.weights.h5") as member:
            shutil.copyfileobj(member, out, 2**20)  # the CRC is checked at the member's end
        shapes = {}
        with h5py.File(tmp, "r") as h5:
            h5.visititems(lambda key, obj: shapes.__setitem__(key, tuple(obj.shape))
                          if isinstance(obj, h5py.Dataset) else None)
        return shapes
    except (OSError, KeyError, ValueError, RuntimeError) as e:
        raise _refuse(name, "its weights file (model.weights.h5) is damaged or truncated",
                      detail=f"{type(e).__name__}: {str(e)[:300]}") from None
    finally:
        os.unlink(tmp)


def inspect_archive(path, limits: Limits | None = None, name: str | None = None) -> ArchiveReport:
    """Look at a ``.keras`` file without building anything.

    Args:
        path: the file.
        limits: the budget (default :meth:`Limits.from_env`).
        name: the file's name for sentences (default: the path's).

    Returns:
        An :class:`ArchiveReport`.

    Raises:
        ModelLoadError: an empty file, not a zip, a member a Keras archive does not
            have, a member whose declared size is out of proportion, a total
            declared size over the budget, no or too large or not-JSON
            ``config.json``, a damaged weights file, a failing CRC; one sentence
            naming the file, the technical text in ``detail``.
    """
    path = Path(path)
    limits = limits or Limits.from_env()
    name = name or path.name
    try:
        if path.stat().st_size == 0:
            raise _refuse(name, "the file is empty")
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            if "config.json" not in {i.filename for i in infos}:
                raise _refuse(name, "not a Keras model archive (no config.json inside)")
            _check_members(infos, limits, name)
            return ArchiveReport(_read_config(z, limits, name), _weight_shapes(z, name))
    except zipfile.BadZipFile as e:  # also a failing CRC
        raise _refuse(name, "not a Keras model archive (not a zip file, or a damaged one)",
                      detail=str(e)[:300]) from None
    except (OSError, EOFError) as e:
        raise _refuse(name, f"the file cannot be read ({getattr(e, 'strerror', None) or e})",
                      todo="check the file and try again", detail=str(e)[:300]) from None
