"""Data tests, model contracts, unit tests and the files CI reads.

    collect      test nodes from property files (generic), tests/sql (singular), unit_tests:
    specs        one YAML test entry read into a GenericTestSpec (name, arguments, config)
    naming       dbt's deterministic test names and unique ids
    data_tests   the executor of data tests: thresholds, where, limit, store_failures, preview
    contracts    a model's enforced contract, checked before the new relation replaces the old
    fixtures     unit test rows (YAML, CSV or SQL) as typed in-memory tables
    unit         the executor of unit tests: a model run against fixtures, diffed with expect
    junit        JUnit XML for --junit
    install      the runner extension that wires the executors, checks and hooks in
"""
