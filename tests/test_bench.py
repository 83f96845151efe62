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
