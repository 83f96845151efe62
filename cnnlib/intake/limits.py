"""What one model file may cost the server: each limit has an environment variable.

:class:`Limits` bound reading a file (the intake); :class:`ExportLimits` bound
converting one to TFLite and ONNX for the Train page's downloads.

The defaults fit every model of this project (VGG16's 138,357,544 weights, 23
layers, 224 x 224 x 3 inputs, the zoo) with room to spare, and keep a hostile file
far below what would hurt a 2-core, 24 GiB class server.
"""

from __future__ import annotations

import dataclasses
import os

ENV_MAX_PARAMS = "CNN_STUDIO_MAX_MODEL_PARAMS"
ENV_MAX_LAYERS = "CNN_STUDIO_MAX_MODEL_LAYERS"
ENV_SANDBOX_MB = "CNN_STUDIO_MODEL_LOAD_MB"
ENV_SANDBOX_S = "CNN_STUDIO_MODEL_LOAD_S"


def _env_int(name: str, default: int) -> int:
    """A positive whole number from the environment, else ``default``.

    Raises:
        ValueError: the variable is set to something else; the message names it.
    """
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise ValueError(f"{name} must be a whole number. Received: {name}={text!r}") from None
    if value < 1:
        raise ValueError(f"{name} must be at least 1. Received: {name}={text!r}")
    return value


@dataclasses.dataclass(frozen=True)
class Limits:
    """The budget of one model file.

    Attributes:
        max_params: weights (trainable and not), counted from the configuration.
        max_layers: layers, nested models' layers included.
        max_nesting: models inside models (a Sequential inside a functional model: 2).
        max_input_values: values of one input image, ``H * W * C``.
        max_file_bytes: the archive's size on disk.
        max_uncompressed_bytes: all members of the archive together, as declared.
        max_ratio: a member's declared size over its compressed size (zeros compress
            about 1000:1; real weights about 1.1:1, a JSON config about 10:1).
        max_config_bytes: ``config.json`` (a 500-layer config is ~1 MB).
        sandbox_mb: address space of the child process that loads the file, MB.
        sandbox_cpu_s: its CPU time, seconds.
        sandbox_wall_s: its wall-clock time, seconds (TensorFlow's import included).
    """

    max_params: int = 200_000_000
    max_layers: int = 500
    max_nesting: int = 3
    max_input_values: int = 1024 * 1024 * 4
    max_file_bytes: int = 25 * 2**20
    max_uncompressed_bytes: int = 1024 * 2**20
    max_ratio: int = 200
    max_config_bytes: int = 4 * 2**20
    sandbox_mb: int = 3072  # the child loads the bundled models and a 25 MB one from 2048 (measured)
    sandbox_cpu_s: int = 20
    sandbox_wall_s: int = 60

    @classmethod
    def from_env(cls) -> "Limits":
        """The limits, with ``CNN_STUDIO_MAX_MODEL_PARAMS``, ``CNN_STUDIO_MAX_MODEL_LAYERS``,
        ``CNN_STUDIO_MODEL_LOAD_MB`` and ``CNN_STUDIO_MODEL_LOAD_S`` (CPU seconds) applied.

        Raises:
            ValueError: a variable that is not a positive whole number.
        """
        base = cls()
        return dataclasses.replace(
            base,
            max_params=_env_int(ENV_MAX_PARAMS, base.max_params),
            max_layers=_env_int(ENV_MAX_LAYERS, base.max_layers),
            sandbox_mb=_env_int(ENV_SANDBOX_MB, base.sandbox_mb),
            sandbox_cpu_s=_env_int(ENV_SANDBOX_S, base.sandbox_cpu_s))


ENV_EXPORT_MB = "CNN_STUDIO_EXPORT_MB"
ENV_EXPORT_S = "CNN_STUDIO_EXPORT_S"
ENV_EXPORT_WALL_S = "CNN_STUDIO_EXPORT_WALL_S"
ENV_EXPORTS_AT_ONCE = "CNN_STUDIO_EXPORTS_AT_ONCE"
ENV_EXPORT_WAIT_S = "CNN_STUDIO_EXPORT_WAIT_S"


@dataclasses.dataclass(frozen=True)
class ExportLimits:
    """The budget of one model's conversion to TFLite and ONNX on the server
    (:mod:`cnnlib.export.child`): the child process that loads, converts and checks it,
    and how many such children run at once.

    Measured on the 2-core AMD EPYC class VM (2026-12-05, TF 2.21, Keras 3.15, tf2onnx;
    the child on one thread, TensorFlow's import included; the machine shared with other
    work): peak address space (``VmPeak``, what ``RLIMIT_AS`` bounds), peak resident
    memory (``VmHWM``), CPU and wall time of the whole child, 64 check images:

    - bundled mnist (205,546 weights): 2,712 / 816 MB, 5.1 s CPU, 7.0 s wall;
    - bundled cifar10: 2,751 / 857 MB, 5.6 s CPU, 7.5 s wall;
    - a VGG16-based transfer model (:func:`cnnlib.models.transfer.build`, 14,781,009
      weights, 56 MB files), 96 x 96 x 3: 5,483 / 3,558 MB, 32-36 s CPU, 49 s wall
      alone, 81-89 s with two at once; at 32 x 32 x 3: 5,491 / 3,503 MB, 21 s CPU.
      Under ``RLIMIT_AS`` 6144 MB it converts; under 5120 MB its TFLite file is made and
      tf2onnx then runs out of memory.

    Defaults: 8192 MB (1.5 x the largest peak), 120 s of CPU (3.3 x), 240 s of wall clock
    (2.7 x the slowest under contention); one conversion at once: each needs a whole core
    (the other serves the class), two at once took 81-89 s each against 49 s alone and
    twice the memory; 256 MB files (4.5 x VGG16's base).

    Attributes:
        mb: address space of the conversion child, MiB.
        cpu_s: its CPU time, seconds.
        wall_s: its wall-clock time, seconds (a loaded server shares its two cores).
        at_once: conversions running at once in one server; another waits.
        wait_s: how long another waits for a free slot before it is told to press
            Prepare again, seconds (a bundled model's conversion takes ~7 s).
        file_mb: the largest ``.tflite`` or ``.onnx`` file the server reads back and
            offers, MiB (about 4 bytes a weight).
    """

    mb: int = 8192
    cpu_s: int = 120
    wall_s: int = 240
    at_once: int = 1
    wait_s: float = 20
    file_mb: int = 256

    @classmethod
    def from_env(cls) -> "ExportLimits":
        """The limits, with ``CNN_STUDIO_EXPORT_MB``, ``CNN_STUDIO_EXPORT_S`` (CPU
        seconds), ``CNN_STUDIO_EXPORT_WALL_S``, ``CNN_STUDIO_EXPORTS_AT_ONCE`` and
        ``CNN_STUDIO_EXPORT_WAIT_S`` applied.

        Raises:
            ValueError: a variable that is not a positive whole number.
        """
        base = cls()
        return dataclasses.replace(
            base, mb=_env_int(ENV_EXPORT_MB, base.mb), cpu_s=_env_int(ENV_EXPORT_S, base.cpu_s),
            wall_s=_env_int(ENV_EXPORT_WALL_S, base.wall_s),
            at_once=_env_int(ENV_EXPORTS_AT_ONCE, base.at_once),
            wait_s=_env_int(ENV_EXPORT_WAIT_S, base.wait_s))
