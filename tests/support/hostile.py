"""Hostile ``.keras`` archives built by editing one small real archive.

A tiny model (Input(4) -> Dense(3)) is saved once with Keras; each builder
rewrites its members with :mod:`zipfile`: the configuration of a model far too
large (the config bomb Input(50000) -> Dense(25000): 1.25 billion weights, 5 GB;
2 x 10^10 weights), 3,000 Dense layers in sequence, a config that is not JSON, a
truncated weights file, a member of 4 GiB of zeros. The zeros member is NOT
written: a 4 MiB member of zeros is deflated (~4 KB) and then its declared
uncompressed size is patched to 0xFFFFFFFE bytes (4 GiB less 2) in both its local
header and the central directory, which is all a reader that trusts declared
sizes (and the intake's check, which refuses it) sees; decompressing it would
fail its size and CRC checks at the end. The Lambda and two-input models are real
models saved by Keras.
"""

from __future__ import annotations

import copy
import io
import json
import struct
import zipfile
from pathlib import Path

KINDS = ("config bomb", "2e10 weights", "4 GiB of zeros", "3000 layers", "lambda",
         "truncated weights", "not json", "two inputs")


def _save(model, path: Path) -> bytes:
    model.save(path)
    return path.read_bytes()


def base_archive(tmp: Path) -> bytes:
    """The bytes of a tiny real archive: Input(4) -> Dense(3), 15 weights."""
    import keras

    return _save(keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)]), tmp / "base.keras")


def _members(data: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def _archive(members: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in members.items():
            z.writestr(name, content)
    return buf.getvalue()


def with_config(data: bytes, edit) -> bytes:
    """``data`` with its config.json replaced by ``edit(config)`` (a dict) or bytes."""
    members = _members(data)
    config = json.loads(members["config.json"])
    new = edit(config)
    members["config.json"] = new if isinstance(new, bytes) else json.dumps(new).encode()
    return _archive(members)


def _dense(config: dict, inputs: int, units: int) -> dict:
    layers = config["config"]["layers"]
    for layer in layers:
        layer.pop("build_config", None)
        if layer["class_name"] == "InputLayer":
            layer["config"]["batch_shape"] = [None, inputs]
        elif layer["class_name"] == "Dense":
            layer["config"]["units"] = units
    config["config"].pop("build_config", None)
    config.pop("build_config", None)
    return config


def _many_layers(config: dict, n: int) -> dict:
    layers = config["config"]["layers"]
    dense = next(layer for layer in layers if layer["class_name"] == "Dense")
    extra = []
    for i in range(n):
        layer = copy.deepcopy(dense)
        layer["config"]["name"] = f"dense_{i}"
        layer["config"]["units"] = 4
        layer.pop("build_config", None)
        extra.append(layer)
    config["config"]["layers"] = [layers[0]] + extra
    return config


def with_zeros_member(data: bytes, declared: int = 0xFFFFFFFE) -> bytes:
    """``data`` plus ``assets/zeros.bin``: 4 MiB of zeros deflated, declared as
    ``declared`` bytes (local header and central directory patched)."""
    members = _members(data)
    members["assets/zeros.bin"] = bytes(4 * 2**20)
    out = bytearray(_archive(members))
    with zipfile.ZipFile(io.BytesIO(bytes(out))) as z:
        info = z.getinfo("assets/zeros.bin")
    struct.pack_into("<I", out, info.header_offset + 22, declared)  # local: uncompressed size
    name = b"assets/zeros.bin"
    at = 0
    while True:  # its central directory entry: uncompressed size at +24
        at = out.index(b"PK\x01\x02", at)
        if out[at + 46:at + 46 + len(name)] == name:
            struct.pack_into("<I", out, at + 24, declared)
            break
        at += 4
    return bytes(out)


def with_truncated_weights(data: bytes) -> bytes:
    members = _members(data)
    members["model.weights.h5"] = members["model.weights.h5"][: len(members["model.weights.h5"]) // 2]
    return _archive(members)


def config_bomb_variant(base: bytes, n: int) -> bytes:
    """The config bomb with ``25_000 + n`` units: as large, but other bytes (another
    SHA-256), so that no remembered verdict spares the server its check."""
    return with_config(base, lambda c: _dense(c, 50_000, 25_000 + n))


def hostile(kind: str, tmp: Path, base: bytes) -> bytes:
    """The bytes of the hostile archive ``kind`` (one of :data:`KINDS`)."""
    import keras

    if kind == "config bomb":
        return config_bomb_variant(base, 0)
    if kind == "2e10 weights":
        return with_config(base, lambda c: _dense(c, 200_000, 100_000))
    if kind == "4 GiB of zeros":
        return with_zeros_member(base)
    if kind == "3000 layers":
        return with_config(base, lambda c: _many_layers(c, 3000))
    if kind == "lambda":
        return _save(keras.Sequential([keras.Input((4,)), keras.layers.Lambda(lambda x: x * 2)]),
                     tmp / "lambda.keras")
    if kind == "truncated weights":
        return with_truncated_weights(base)
    if kind == "not json":
        return with_config(base, lambda c: b"{'this is': not JSON")
    if kind == "two inputs":
        a, b = keras.Input((4,)), keras.Input((4,))
        return _save(keras.Model([a, b], keras.layers.Add()([a, b])), tmp / "two.keras")
    raise ValueError(f"kind must be one of {KINDS}. Received: kind={kind!r}")
