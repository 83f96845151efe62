"""Placeholder of the configuration check (counts layers only).

# placeholder: replaced by the precheck helper's module at merge
"""

from __future__ import annotations

import dataclasses

from cnnlib.intake.errors import ModelLoadError
from cnnlib.intake.limits import Limits


@dataclasses.dataclass(frozen=True)
class ConfigReport:
    params: int
    layers: int
    nesting: int
    input_shape: tuple
    layer_types: frozenset


def _layers(config: dict) -> list:
    inner = config.get("config") if isinstance(config, dict) else None
    layers = inner.get("layers") if isinstance(inner, dict) else None
    return layers if isinstance(layers, list) else []


def check_config(config: dict, limits: Limits, name: str) -> ConfigReport:
    """Placeholder: refuses a config that is not a model's or has too many layers."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ModelLoadError(f"{name} cannot be loaded: its config.json does not describe a "
                             "model; save the model again with model.save('name.keras').")
    layers = _layers(config)
    if len(layers) > limits.max_layers:
        raise ModelLoadError(f"{name} is refused: it has {len(layers):,} layers, more than the "
                             f"{limits.max_layers:,} taken here; upload a smaller model.",
                             f"layers={len(layers)} max_layers={limits.max_layers}")
    return ConfigReport(0, len(layers), 1, (), frozenset(
        str(layer.get("class_name")) for layer in layers if isinstance(layer, dict)))
