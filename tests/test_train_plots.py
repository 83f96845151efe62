"""The Train page's figures: smoothing, downsampling and what each figure draws."""

import numpy as np

from cnnlib.viz import train_plots


def test_ema_matches_the_debiased_formula():
    v = np.array([1.0, 3.0, 2.0])
    a = 0.5
    s1, w1 = a * 1, a
    s2, w2 = (1 - a) * s1 + a * 3, (1 - a) * w1 + a
    s3, w3 = (1 - a) * s2 + a * 2, (1 - a) * w2 + a
    np.testing.assert_allclose(train_plots.ema(v, a), [s1 / w1, s2 / w2, s3 / w3])
    assert train_plots.ema(v, 1.0).tolist() == v.tolist()  # no smoothing


def test_ema_skips_missing_values():
    out = train_plots.ema(np.array([np.nan, 2.0, np.nan, 4.0]), 0.5)
    assert np.isnan(out[0])  # nothing seen yet
    assert out[1] == 2.0 and out[2] == 2.0  # a gap repeats the average so far
    assert np.isfinite(out[3]) and 2.0 < out[3] < 4.0  # and does not spoil what follows
    np.testing.assert_allclose(out[3], train_plots.ema(np.array([2.0, 4.0]), 0.5)[1])


def test_downsample_keeps_ends_and_caps_points():
    idx = train_plots.downsample_index(10_000, 400)
    assert len(idx) <= 400 and idx[0] == 0 and idx[-1] == 9_999
    assert np.all(np.diff(idx) > 0)
    assert train_plots.downsample_index(5, 400).tolist() == [0, 1, 2, 3, 4]


def test_batch_curves_cap_points_and_keep_nan_gaps_out_of_the_smoothed_line():
    events = [{"epoch": 1 + i // 1000, "batch": 1 + i % 1000, "batches": 1000,
               "loss": None if i == 5 else 1.0 / (i + 1), "accuracy": 0.5} for i in range(3000)]
    fig = train_plots.batch_curves(events, max_points=300)
    assert all(len(t.x) <= 300 for t in fig.data)
    smoothed = [t for t in fig.data if t.name == "loss (smoothed)"][0]
    assert np.all(np.isfinite(np.asarray(smoothed.y, dtype=float)))
    assert 0 < smoothed.x[0] < 0.01 and smoothed.x[-1] == 3.0  # fractional epochs


def test_epoch_curves_draw_validation_only_when_present():
    with_val = [{"epoch": 1, "loss": 1.0, "accuracy": 0.5, "val_loss": 1.1, "val_accuracy": 0.4}]
    without = [{"epoch": 1, "loss": 1.0, "accuracy": 0.5, "val_loss": None, "val_accuracy": None}]
    assert len(train_plots.epoch_curves(with_val).data) == 4
    assert {t.name for t in train_plots.epoch_curves(without).data} == {"training"}


def test_compare_runs_falls_back_to_training_metric():
    runs = [("a", [{"epoch": 1, "val_accuracy": 0.5}]), ("b", [{"epoch": 1, "accuracy": 0.7}])]
    fig = train_plots.compare_runs_figure(runs)
    assert [t.name for t in fig.data] == ["a (val_accuracy)", "b (accuracy)"]
    assert fig.data[1].y == (0.7,)


def test_confusion_figure_puts_true_classes_in_rows_and_labels_every_class_as_a_category():
    """Rows are true classes, columns predicted ones (a matrix that is not symmetric shows
    a transposition); every class is labelled on category axes, so Plotly does not thin
    out digit names as numbers."""
    names = [str(d) for d in range(10)]
    cm = np.arange(100).reshape(10, 10)  # cm[true, predicted]
    fig = train_plots.confusion_figure(cm, names)
    heat = fig.data[0]
    assert list(heat.x) == names and list(heat.y) == names
    np.testing.assert_array_equal(np.asarray(heat.z), cm)
    assert (fig.layout.xaxis.title.text, fig.layout.yaxis.title.text) == ("predicted", "true")
    for axis in (fig.layout.xaxis, fig.layout.yaxis):
        assert axis.type == "category" and list(axis.tickvals) == names


def test_batch_curves_draw_each_batch_s_own_value_not_the_running_mean():
    # three batches of 10 images with losses 3, 1, 2 -> Keras reports running means 3, 2, 2
    events = [{"epoch": 1, "batch": b, "batches": 3, "seen": 10 * b, "loss": m, "accuracy": 0.5}
              for b, m in ((1, 3.0), (2, 2.0), (3, 2.0))]
    raw = [t for t in train_plots.batch_curves(events).data if t.name == "loss (raw)"][0]
    np.testing.assert_allclose(raw.y, [3.0, 1.0, 2.0])
