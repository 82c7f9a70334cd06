"""Running data tests, model contracts and unit tests, and the files CI reads.

    data_tests   the executor of data tests: thresholds, where, limit, store_failures, preview
    contracts    a model's enforced contract, checked before the new relation replaces the old
    fixtures     unit test rows (YAML, CSV or SQL) as typed tables in the scratch database
    unit         the executor of unit tests: a model run against fixtures, diffed with expect
    junit        JUnit XML for --junit

Tests are found and turned into nodes when a project loads (stockx_export.core.testdefs).
"""
