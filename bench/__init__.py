"""boldrules's benchmarks: how close plan and apply come to Bold's rate limit, and the baseline.

``python -m bench`` runs them (see bench/README.md). The package owns the synthetic shops
(``data``), the served sandbox in its own process (``server``), the measured cases (``cases``),
the baseline sync script (``baseline``), the run (``run``), fresh-process jobs (``worker``) and
the results files and README table (``report``). ``sandbox_throughput`` is the sandbox's own
benchmark and is not part of this run. Nothing here is imported by ``reconciler`` or run by the
test suite, except the smoke test that keeps it from rotting.
"""
