"""Test definitions, read when a project loads: each data test and unit test becomes a node.

    collect      test nodes from property files (generic), tests/sql (singular), unit_tests:
    specs        one YAML test entry read into a GenericTestSpec (name, arguments, config)
    naming       dbt's deterministic test names and unique ids
"""
