"""Benchmarks run by ``python -m cnnlib bench``; each module has ``run(quick) -> list[dict]``."""
