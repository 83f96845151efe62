"""A model file's configuration checked against the server's budget before Keras builds it.

:func:`check_config` reads the parsed ``config.json`` of a ``.keras`` archive
(Keras 3's form: ``{"module": ..., "class_name": "Sequential" | "Functional",
"config": {"layers": [...], ...}, "registered_name": ...}``, the same as
``keras.saving.serialize_keras_object(model)``) and refuses, with a
:class:`~.errors.ModelLoadError`, a model larger than :class:`~.limits.Limits`
allows or one CNN Studio does not load. Pure Python over the JSON: nothing is
built, nothing allocated, TensorFlow is never imported.

In order, each step stopping at the first refusal:

1. the configuration is a model's (a dict naming a Sequential or functional model);
2. one iterative walk over the layers (never a recursion per layer, so 3,000
   layers or 3,000 nested models cost milliseconds and no ``RecursionError``)
   counts them (every entry of every ``layers`` list, input layers and nested
   models included) against ``max_layers``, the models nested in models against
   ``max_nesting``, checks every layer type against :data:`LOADABLE_TYPES`
   (custom, registered and ``Lambda`` layers are refused) and that each model has
   one input and one output;
3. the input image's shape, fully known, ``H * W * C <= max_input_values``;
4. the weights, by :func:`.layer_shapes.apply` layer by layer from the input
   shape, the running sum refused as soon as it passes ``max_params``, and each
   layer's output refused above :data:`MAP_FACTOR` times ``max_input_values``
   (an ``UpSampling2D(size=1000)`` has no weights but a huge feature map).

A custom activation (a dict where Keras writes a built-in's name) is refused
with the layer types.
"""

from __future__ import annotations

import dataclasses
import math

from cnnlib.intake.errors import ModelLoadError
from cnnlib.intake.layer_shapes import SHAPE_TYPES, ShapeError, apply
from cnnlib.intake.limits import ENV_MAX_LAYERS, ENV_MAX_PARAMS, Limits

MODEL_TYPES = frozenset({"Sequential", "Functional", "Model"})
#: Layer types (Keras class names) a model file may use: those the explorer handles.
LOADABLE_TYPES = SHAPE_TYPES | MODEL_TYPES | frozenset({"InputLayer"})
#: A layer's output may hold this many times ``max_input_values`` per image (VGG16's
#: largest, 224 x 224 x 64, is 0.77 times the default budget): Keras allocates no
#: feature map at build time, but the explorer computes each layer's output.
MAP_FACTOR = 16


@dataclasses.dataclass(frozen=True)
class ConfigReport:
    """What a configuration that passed :func:`check_config` declares.

    Attributes:
        params: weights (trainable and not), as ``model.count_params()`` counts them.
        layers: layer entries, input layers and nested models (and their layers) included.
        nesting: depth of models in models, 1 for a model with none inside.
        input_shape: one input image's shape without the batch axis, e.g. ``(28, 28, 1)``.
        layer_types: the Keras class names used, e.g. ``{"InputLayer", "Conv2D", "Dense"}``.
    """

    params: int
    layers: int
    nesting: int
    input_shape: tuple
    layer_types: frozenset


def _not_a_model(name: str, what: str) -> ModelLoadError:
    return ModelLoadError(
        f"{name} does not hold a Keras model's configuration; save the model with "
        f"model.save(\"model.keras\") and use that file.", what)


def _single(refs) -> list:
    """``input_layers``/``output_layers`` as a list of ``[name, node, tensor]`` refs."""
    if isinstance(refs, (list, tuple)) and len(refs) == 3 and isinstance(refs[0], str):
        return [refs]
    return list(refs) if isinstance(refs, (list, tuple)) else [refs]


def _entry_name(entry: dict) -> str:
    return str(entry.get("name") or entry.get("config", {}).get("name", ""))


def _survey(top: dict, limits: Limits, name: str) -> tuple[int, int, frozenset]:
    """Count layers, nesting and types in one iterative walk; refuse at the first excess."""
    count, deepest, types = 0, 1, set()
    stack = [(top, 1)]
    while stack:
        model, depth = stack.pop()
        deepest = max(deepest, depth)
        cfg = model.get("config")
        if not isinstance(cfg, dict) or not isinstance(cfg.get("layers"), (list, tuple)):
            raise _not_a_model(name, f"{model.get('class_name')} without a list of layers")
        if model["class_name"] != "Sequential":
            for key, word in (("input_layers", "inputs"), ("output_layers", "outputs")):
                refs = _single(cfg.get(key, []))
                if len(refs) != 1:
                    raise ModelLoadError(
                        f"{name} has {len(refs)} {word}; CNN Studio explores models with "
                        f"one input image and one output, so use such a model.",
                        f"{key}={refs!r:.300}")
        for entry in cfg["layers"]:
            count += 1
            if count > limits.max_layers:
                raise ModelLoadError(
                    f"{name} declares a model of more than {limits.max_layers:,} layers; this "
                    f"server takes models up to {limits.max_layers:,} layers ({ENV_MAX_LAYERS}), "
                    f"so use a smaller model.", f"layers > {limits.max_layers} (counting stopped there)")
            if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
                raise _not_a_model(name, f"layer entry {count} is {type(entry).__name__}")
            cls = entry["class_name"]
            module = str(entry.get("module") or "keras")
            custom = entry.get("registered_name") not in (None, cls) or not module.startswith("keras")
            if custom or cls not in LOADABLE_TYPES:
                raise ModelLoadError(
                    f"{name} uses a layer type ({cls:.40}) that CNN Studio does not load; use a "
                    f"model made of built-in Keras layers such as Conv2D, Dense and "
                    f"MaxPooling2D.", f"layer {_entry_name(entry)!r}: module={module!r}, "
                    f"class_name={cls!r:.100}, registered_name={entry.get('registered_name')!r:.100}")
            activation = entry.get("config", {}).get("activation")
            if activation is not None and not isinstance(activation, str):
                raise ModelLoadError(
                    f"{name} uses an activation function of its own (layer "
                    f"{_entry_name(entry)!r:.60}) that CNN Studio does not load, so use built-in "
                    f"activations such as relu and softmax.", f"activation={activation!r:.300}")
            types.add(cls)
            if cls in MODEL_TYPES:
                if depth + 1 > limits.max_nesting:
                    raise ModelLoadError(
                        f"{name} nests models more than {limits.max_nesting} deep (a model in a "
                        f"model); this server takes up to {limits.max_nesting} levels, so save the "
                        f"model as one Sequential or functional model.",
                        f"nesting > {limits.max_nesting} at layer {_entry_name(entry)!r}")
                stack.append((entry, depth + 1))
    return count, deepest, frozenset(types)


#: The height and width a model of any image size is followed at, pixels.
NOMINAL_SIDE = 32


def _input_shape(top: dict, name: str) -> tuple[int, ...]:
    """The top model's one input image's shape, from its ``InputLayer``'s ``batch_shape``
    (an image's open height and width as :data:`NOMINAL_SIDE`)."""
    cfg = top["config"]
    layers = cfg["layers"]
    if top["class_name"] == "Sequential":
        first = layers[0] if layers else {}
        batch = (first.get("config", {}).get("batch_shape") if first.get("class_name") == "InputLayer"
                 else cfg.get("build_input_shape"))
    else:
        wanted = _single(cfg.get("input_layers"))[0][0]
        found = [e for e in layers if e.get("class_name") == "InputLayer" and _entry_name(e) == wanted]
        batch = found[0].get("config", {}).get("batch_shape") if found else None
    def whole(v) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and v >= 1

    if isinstance(batch, (list, tuple)) and len(batch) >= 2 and whole(batch[-1]) and all(
            whole(v) or (v is None and len(batch) == 4) for v in batch[1:-1]):
        # an image model of any height and width (a fully convolutional one): its weights do
        # not depend on them; the shapes are followed at NOMINAL_SIDE (the child process
        # that loads the file is the bound on what such a model may build)
        return tuple(NOMINAL_SIDE if v is None else v for v in batch[1:])
    raise ModelLoadError(
        f"{name} does not say the full size of its input images; save the model with a "
        f"fixed input shape, such as keras.Input((28, 28, 1)), and use that file.",
        f"input batch_shape={batch!r:.200}")


class _Weights:
    """The running weight count, refused as soon as it passes the budget."""

    def __init__(self, limits: Limits, name: str):
        self.total, self.limits, self.name = 0, limits, name

    def add(self, weights: int, layer: str) -> None:
        self.total += weights
        if self.total > self.limits.max_params:
            raise ModelLoadError(
                f"{self.name} declares a model of at least {self.total:,} weights; this server "
                f"takes models up to {self.limits.max_params:,} ({ENV_MAX_PARAMS}), so use a "
                f"smaller model.", f"running count {self.total} > max_params="
                f"{self.limits.max_params} at layer {layer!r}")


    def check_map(self, shape: tuple, layer: str) -> None:
        """Refuse a layer output of more than :data:`MAP_FACTOR` input budgets per image."""
        values, limit = math.prod(shape), MAP_FACTOR * self.limits.max_input_values
        if values > limit:
            raise ModelLoadError(
                f"{self.name} has a layer ({layer!r:.60}) whose output holds {values:,} values "
                f"per image; this server takes up to {limit:,} ({MAP_FACTOR} times the largest "
                f"input), so use a smaller model.", f"layer {layer!r} output shape {shape!r:.200}")


def _tensors(args) -> list:
    """The ``__keras_tensor__`` dicts in a node's ``args`` (lists of them for merges)."""
    found, stack = [], [args]
    while stack:
        item = stack.pop()
        if isinstance(item, dict) and item.get("class_name") == "__keras_tensor__":
            found.append(item)
        elif isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
    return found


def _layer(entry: dict, shapes: list, weights: _Weights, first_call: bool, depth: int) -> tuple:
    cls = entry["class_name"]
    if cls in MODEL_TYPES:
        if len(shapes) != 1:
            raise ShapeError(f"nested model takes one input. Received: {len(shapes)}")
        return _model(entry, shapes[0], weights if first_call else _Weights(weights.limits, weights.name),
                      depth + 1)
    count, out = apply(cls, entry.get("config", {}), shapes)
    if first_call:  # a layer called twice shares its weights
        weights.add(count, _entry_name(entry))
    weights.check_map(out, _entry_name(entry))
    return out


def _model(model: dict, shape: tuple, weights: _Weights, depth: int) -> tuple:
    """Add the weights of ``model`` fed ``shape``; its output shape (no batch axis)."""
    cfg = model["config"]
    if model["class_name"] == "Sequential":
        for entry in cfg["layers"]:
            if entry["class_name"] != "InputLayer":
                shape = _layer(entry, [shape], weights, True, depth)
        return shape
    outputs: dict[tuple[str, int], tuple] = {}
    input_name = _single(cfg["input_layers"])[0][0]
    for entry in cfg["layers"]:
        lname = _entry_name(entry)
        if entry["class_name"] == "InputLayer":
            if lname != input_name:
                raise ShapeError(f"InputLayer {lname!r} is not the model's input {input_name!r}")
            outputs[(lname, 0)] = shape
            continue
        for index, node in enumerate(entry.get("inbound_nodes") or []):
            refs = [t.get("config", {}).get("keras_history") for t in _tensors(node.get("args"))]
            if not refs or not all(isinstance(r, (list, tuple)) and len(r) == 3 for r in refs):
                raise ShapeError(f"layer {lname!r} node {index}: inputs {refs!r:.200}")
            try:
                shapes = [outputs[(r[0], r[1])] for r in refs]
            except (KeyError, TypeError):
                raise ShapeError(f"layer {lname!r} reads {refs!r:.200}, not a layer before it") from None
            outputs[(lname, index)] = _layer(entry, shapes, weights, index == 0, depth)
    out = _single(cfg["output_layers"])[0]
    if (out[0], out[1]) not in outputs:
        raise ShapeError(f"output {out!r} is not a layer's output")
    return outputs[(out[0], out[1])]


def check_config(config: dict, limits: Limits, name: str) -> ConfigReport:
    """Check a ``.keras`` archive's configuration against the budget, building nothing.

    Args:
        config: the parsed ``config.json`` (any JSON value: anything but a model's is refused).
        limits: the budget (:meth:`.Limits.from_env` on the server).
        name: the file's name, as the sentences say it, e.g. ``"upload.keras"``.

    Returns:
        A :class:`ConfigReport` of a model within every limit.

    Raises:
        ModelLoadError: one sentence naming ``name`` and what to do (the numbers apart,
            in ``detail``) for: not a model's configuration; more than
            ``limits.max_layers`` layers; models nested more than ``limits.max_nesting``
            deep; a layer type not in :data:`LOADABLE_TYPES` (``Lambda``, custom
            layers); several inputs or outputs; an input shape not fully known or of
            more than ``limits.max_input_values`` values; more than
            ``limits.max_params`` weights; layers whose shapes do not fit together.
    """
    if (not isinstance(config, dict) or config.get("class_name") not in MODEL_TYPES
            or config.get("registered_name") not in (None, config.get("class_name"))):
        what = (f"class_name={config.get('class_name')!r:.100}, registered_name="
                f"{config.get('registered_name')!r:.100}" if isinstance(config, dict)
                else f"a JSON {type(config).__name__}")
        raise _not_a_model(name, f"config.json holds {what}, not a Sequential or Functional model")
    try:
        layers, nesting, types = _survey(config, limits, name)
        shape = _input_shape(config, name)
        values = math.prod(shape)
        if values > limits.max_input_values:
            raise ModelLoadError(
                f"{name} takes input images of {' x '.join(map(str, shape))} = {values:,} values; "
                f"this server takes up to {limits.max_input_values:,} values per image (1024 x "
                f"1024 x 4, for one), so use a model with smaller inputs.",
                f"input shape {shape}, max_input_values={limits.max_input_values}")
        weights = _Weights(limits, name)
        _model(config, shape, weights, 1)
    except ShapeError as e:
        raise ModelLoadError(
            f"{name} describes layers whose shapes do not fit together; save the model again "
            f"with Keras (model.save) and use that file.", str(e)) from None
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as e:
        raise _not_a_model(name, f"{type(e).__name__}: {e}"[:300]) from None
    return ConfigReport(params=weights.total, layers=layers, nesting=nesting,
                        input_shape=shape, layer_types=types)
