"""Benchmarks: each ``*_bench.py`` module times our code against a baseline measured in the
same run and reports the ratio (absolute times vary by machine, ratios much less).

Run all with ``python -m bench`` (``make bench``) or one with ``python -m bench.summary_bench``.
Results go to bench/results/ (not committed). Tests never assert on timings.
"""
