"""The benchmark suite (bench/, outside the library): its rows have the promised fields."""

import pytest

from bench import convolution as bench


def test_benchmark_rows_have_the_promised_fields():
    rows = bench.run(quick=True)  # timings are not asserted: this machine is shared
    assert len(rows) == 2
    for row in rows:
        for key in ("figure", "value_ms", "min_ms", "max_ms", "reference", "reference_ms", "ratio",
                    "target", "ok", "value", "unit"):
            assert key in row, key
        assert row["min_ms"] <= row["value_ms"] <= row["max_ms"] and row["unit"] == "ms"
        assert row["ratio"] == pytest.approx(row["value_ms"] / row["reference_ms"])


def test_only_one_module_keeps_the_other_modules_rows(tmp_path, monkeypatch):
    """``--only NAME`` measures NAME again and keeps every other module's previous rows."""
    import json
    import types

    import bench.__main__ as runner

    def fake(name, value):
        return types.SimpleNamespace(run=lambda quick: [{"figure": f"{name} figure", "value": value,
                                                          "unit": "ms", "target": "", "ok": True}])

    values = {"training": 1.0, "convolution": 2.0}
    monkeypatch.setattr(runner, "MODULES", ("training", "convolution"))
    monkeypatch.setattr(runner.importlib, "import_module",
                        lambda path: fake(path.split(".")[-1], values[path.split(".")[-1]]))
    monkeypatch.setattr(runner, "machine", lambda: {})
    out = tmp_path / "results.json"
    assert runner.main(out_path=out) == 0
    values.update(training=9.0, convolution=8.0)
    assert runner.main(only=["convolution"], out_path=out) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [(r["module"], r["value"]) for r in rows] == [("training", 1.0), ("convolution", 8.0)]
