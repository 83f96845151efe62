"""TrainConfig: its metadata is the single source of validation, flags and widget reading."""

import dataclasses

import pytest

from cnnlib.training import config
from cnnlib.training.config import Range, TrainConfig


def test_every_field_has_help_and_numbers_have_a_range():
    for f in dataclasses.fields(TrainConfig):
        assert f.metadata["help"].strip(), f.name
        if f.type in ("int", "float"):
            assert f.metadata["range"] is not None, f"{f.name} has no range"


def test_defaults_are_valid():
    TrainConfig().validate()


@pytest.mark.parametrize("field,value", [
    ("epochs", 0), ("epochs", 2.5), ("batch_size", 0), ("optimizer", "adagrad"),
    ("learning_rate", 0.0), ("learning_rate", float("nan")), ("validation_split", 0.9),
    ("augment_rotation", 181), ("dataset", "imagenet"), ("arch", "resnet"), ("n_train", 1),
    ("n_test", 0), ("keep_best", "yes"), ("seed", -1), ("augment_flip", 1)])
def test_validate_names_the_bad_field_and_value(field, value):
    with pytest.raises(ValueError, match=f"{field}={value!r}"):
        TrainConfig(**{field: value}).validate()


def test_optional_fields_accept_none_and_ints_count_as_floats():
    TrainConfig(n_train=None, n_test=None, data_dir=None, learning_rate=1).validate()


def test_range_bounds_and_text():
    r = Range(0, 0.9, hi_open=True)
    assert 0 in r and 0.89 in r and 0.9 not in r and -0.1 not in r and float("inf") not in r
    assert r.describe() == "0 <= x < 0.9"
    assert Range(2).describe() == "2 <= x" and 10**9 in Range(2)


def test_from_state_reads_prefixed_keys_and_converts_types():
    state = {"train_epochs": 7.0, "train_learning_rate": 0.01, "train_augment_flip": True,
             "train_n_test": 100.0, "train_job_id": "job3", "epochs": 99}
    cfg = config.from_state(state)
    assert cfg.epochs == 7 and isinstance(cfg.epochs, int)
    assert cfg.learning_rate == 0.01 and cfg.augment_flip is True and cfg.n_test == 100
    # absent widgets keep the base's values
    assert cfg.batch_size == TrainConfig().batch_size
    base = TrainConfig(batch_size=16)
    assert config.from_state({}, base) == base


def test_dict_round_trip_ignores_unknown_keys():
    cfg = TrainConfig(epochs=2, augment_zoom=0.2)
    assert TrainConfig.from_dict({**cfg.to_dict(), "from_a_newer_version": 1}) == cfg
