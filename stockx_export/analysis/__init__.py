"""Understanding the SQL of a project with sqlglot: static checks, column lineage,
fingerprints for change detection, and transpiling to other warehouses.

sqlglot is imported only inside functions here, so commands that do not analyse
SQL never pay for it.
"""
