"""Exact rewrites of DuckDB constructs sqlglot does not translate faithfully.

Each rewrite keeps DuckDB's semantics, including NULL handling; what cannot be
kept exactly is not rewritten, and ``transpile`` reports it instead.

Postgres:
    TRY_CAST(x AS T)             stockx_try_cast(CAST(x AS TEXT), NULL::T)   (support function)
    ARG_MAX(x, y)                (ARRAY_AGG(x ORDER BY y DESC) FILTER (WHERE y IS NOT NULL AND x IS NOT NULL))[1]
    ARG_MAX_NULL(x, y)           the same, keeping rows where x is NULL
    TO_MINUTES(n)                (n) * INTERVAL '1 MINUTE'
    REGEXP_FULL_MATCH(s, 'p')    s ~ '^(?:p)$'
    REGEXP_EXTRACT(s, 'p', ['a', 'b']) AS parts, then parts.a
                                 REGEXP_MATCH(s, 'p') AS parts, then COALESCE(parts[1], '')
                                 (DuckDB gives '' for a group that did not match, Postgres NULL)
    FROM (SELECT ...)            FROM (SELECT ...) AS stockx_subquery_1   (Postgres before 16 needs the alias)
    WITH x AS (SELECT ...)       WITH x AS MATERIALIZED (SELECT ...)
                                 (Postgres inlines a CTE read once, copying its expressions into each
                                 place that reads them: a regex read by ten expressions would run ten
                                 times per row; DuckDB computes each once)

Snowflake, BigQuery, Spark, Databricks:
    REGEXP_REPLACE(s, p, r, 'g') REGEXP_REPLACE(s, p, r)   (they replace every match by default)

Spark, Databricks (Java regular expressions, ANSI SQL):
    ARG_MAX(x, y)                MAX_BY(x, y) FILTER (WHERE x IS NOT NULL)   (DuckDB skips rows where x is NULL)
    ARG_MAX_NULL(x, y)           MAX_BY(x, y)
    TO_MINUTES(n)                (n) * INTERVAL '1' MINUTE
    REGEXP_FULL_MATCH(s, 'p')    s RLIKE '^(?:p)$'
    REGEXP_EXTRACT(s, 'p', ['a', 'b'])
                                 NAMED_STRUCT('a', REGEXP_EXTRACT(s, 'p', 1), 'b', REGEXP_EXTRACT(s, 'p', 2))
                                 (both give '' for a group that did not match, and for no match)
    '$' in a pattern             '\\z'   (Java's $ also matches before a final line break; RE2's does not)
    ROW_NUMBER() OVER ()         ROW_NUMBER() OVER (ORDER BY MONOTONICALLY_INCREASING_ID())
                                 (Spark refuses an unordered row_number: rows are numbered in scan order)
    CAST('-infinity' AS DATE)    DATE '0001-01-01'   (Spark has no infinite date; no date of its own is earlier)
    ROW_NUMBER(), RANK(), DENSE_RANK() OVER (...)
                                 CAST(... AS BIGINT)   (DuckDB's are BIGINT, Spark's INT)
"""

from __future__ import annotations

from stockx_export.adapters.postgres_functions import try_cast_sql

SUPPORT_FUNCTION = "stockx_try_cast"  # defined by support_sql(), once per Postgres database
# Functions the rewrites introduce: not DuckDB leftovers, so not reported as untranslatable.
OWN_FUNCTIONS = {"stockx_try_cast", "regexp_match", "monotonically_increasing_id", "named_struct"}

POSTGRES_SUPPORT = (
    "-- Support functions for SQL transpiled by `stockx compile --dialect postgres`.\n"
    "-- Run once in the target database, before the models.\n\n" + try_cast_sql()
)


def support_sql(dialect: str) -> str:
    return POSTGRES_SUPPORT if dialect == "postgres" else ""


def _template(text: str, dialect: str = "postgres", **values):
    """An expression of ``dialect`` from ``text`` whose columns named like ``values`` keys are replaced by copies."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(text, read=dialect)

    def put(node):
        if isinstance(node, exp.Column) and not node.table and node.name in values:
            return values[node.name].copy()
        return node

    return tree.transform(put)


def _struct_aliases(expression) -> dict[str, list[str]]:
    """alias -> group names, for each ``REGEXP_EXTRACT(s, p, [names]) AS alias``."""
    from sqlglot import exp

    found: dict[str, list[str]] = {}
    for alias in expression.find_all(exp.Alias):
        inner = alias.this
        group = inner.args.get("group") if isinstance(inner, exp.RegexpExtract) else None
        if isinstance(group, exp.Array) and all(
            isinstance(e, exp.Literal) and e.is_string for e in group.expressions
        ):
            found[alias.alias.lower()] = [e.name.lower() for e in group.expressions]
    return found


def _postgres(expression):
    from sqlglot import exp

    structs = _struct_aliases(expression)

    def rewrite(node):
        if isinstance(node, exp.TryCast):
            return exp.Anonymous(
                this="stockx_try_cast",
                expressions=[exp.cast(node.this.copy(), "text"), exp.cast(exp.null(), node.to.copy())],
            )
        if isinstance(node, exp.ArgMax) or (
            isinstance(node, exp.Anonymous) and node.name.lower() == "arg_max_null" and len(node.expressions) == 2
        ):
            x, y = (node.this, node.expression) if isinstance(node, exp.ArgMax) else node.expressions
            keep_null = isinstance(node, exp.Anonymous)
            condition = "__y IS NOT NULL" if keep_null else "__y IS NOT NULL AND __x IS NOT NULL"
            return _template(f"(ARRAY_AGG(__x ORDER BY __y DESC) FILTER (WHERE {condition}))[1]", __x=x, __y=y)
        if isinstance(node, exp.Anonymous) and node.name.lower() == "to_minutes" and len(node.expressions) == 1:
            return _template("(__n) * INTERVAL '1 MINUTE'", __n=node.expressions[0])
        if isinstance(node, exp.RegexpFullMatch) and isinstance(node.expression, exp.Literal) and not node.args.get("options"):
            return exp.RegexpLike(this=node.this.copy(), expression=exp.Literal.string(f"^(?:{node.expression.name})$"))
        if isinstance(node, exp.RegexpExtract) and isinstance(node.args.get("group"), exp.Array):
            if isinstance(node.parent, exp.Alias) and node.parent.alias.lower() in structs:
                return exp.Anonymous(this="regexp_match", expressions=[node.this.copy(), node.expression.copy()])
        if isinstance(node, exp.Column) and node.table.lower() in structs and not node.args.get("db"):
            names = structs[node.table.lower()]
            if node.name.lower() in names:
                index = names.index(node.name.lower()) + 1
                return _template(f"COALESCE(__s[{index}], '')", __s=exp.Column(this=node.args["table"].copy()))
        return node

    for cte in expression.find_all(exp.CTE):
        cte.set("materialized", True)
    for number, subquery in enumerate(
        (s for s in expression.find_all(exp.Subquery) if not s.alias and isinstance(s.parent, (exp.From, exp.Join))), 1
    ):
        subquery.set("alias", exp.TableAlias(this=exp.to_identifier(f"stockx_subquery_{number}")))
    # Children first (reversed pre-order), so a rewrite copies already rewritten arguments.
    for node in reversed(list(expression.dfs())):
        new = rewrite(node)
        if new is not node and isinstance(node, exp.Column) and isinstance(node.parent, exp.Select):
            new = exp.alias_(new, node.name)  # a projection keeps its output name
        if new is not node:
            if node is expression:
                expression = new
            else:
                node.replace(new)
    return expression


def _replace_all_by_default(expression):
    """DuckDB's ``REGEXP_REPLACE(s, p, r, 'g')`` is the plain call where every match is replaced by default.

    sqlglot would pass the 'g' on (Snowflake then reads it as the start position)
    or refuse it (BigQuery). Calls without 'g', or with other flags, are left for
    ``transpile`` to report: their DuckDB meaning has no plain equivalent.
    """
    from sqlglot import exp

    for node in expression.find_all(exp.RegexpReplace):
        flags = node.args.get("modifiers")
        if isinstance(flags, exp.Literal) and flags.is_string and flags.name == "g":
            node.set("modifiers", None)
            node.set("single_replace", False)
    return expression


def java_pattern(pattern: str) -> str:
    """An RE2 pattern for Java's engine: each ``$`` outside a character class becomes ``\\z`` (the end of
    the text: Java's ``$`` also matches before a line break that ends the text)."""
    out: list[str] = []
    escaped = in_class = False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]" or (out and out[-1] == "[")
        elif char == "[":
            in_class = True
        elif char == "$":
            out.append("\\z")
            continue
        out.append(char)
    return "".join(out)


def _spark(expression):
    from sqlglot import exp

    structs = _struct_aliases(expression)

    def rewrite(node):
        if isinstance(node, exp.ArgMax) and not isinstance(node.parent, exp.Filter):
            return exp.Filter(this=node.copy(), expression=exp.Where(this=exp.Not(this=exp.Is(
                this=node.this.copy(), expression=exp.Null()))))
        if isinstance(node, exp.Anonymous) and node.name.lower() == "arg_max_null" and len(node.expressions) == 2:
            return exp.ArgMax(this=node.expressions[0].copy(), expression=node.expressions[1].copy())
        if isinstance(node, exp.Anonymous) and node.name.lower() == "to_minutes" and len(node.expressions) == 1:
            return _template("(__n) * INTERVAL '1' MINUTE", "spark", __n=node.expressions[0])
        if isinstance(node, exp.RegexpFullMatch) and isinstance(node.expression, exp.Literal) and not node.args.get("options"):
            return exp.RegexpLike(this=node.this.copy(), expression=exp.Literal.string(f"^(?:{node.expression.name})$"))
        if (isinstance(node, exp.RegexpExtract) and isinstance(node.args.get("group"), exp.Array)
                and isinstance(node.parent, exp.Alias) and node.parent.alias.lower() in structs):
            fields = []
            for index, name in enumerate(structs[node.parent.alias.lower()], 1):
                fields += [exp.Literal.string(name), exp.RegexpExtract(
                    this=node.this.copy(), expression=node.expression.copy(), group=exp.Literal.number(index))]
            return exp.Anonymous(this="named_struct", expressions=fields)
        if isinstance(node, exp.Window) and isinstance(node.this, (exp.RowNumber, exp.Rank, exp.DenseRank)):
            window = node.copy()
            if not node.args.get("partition_by") and not node.args.get("order"):
                window.set("order", _template("SELECT 1 ORDER BY MONOTONICALLY_INCREASING_ID()", "spark").args["order"])
            return exp.cast(window, "bigint")
        if (isinstance(node, exp.Cast) and node.is_type("date") and isinstance(node.this, exp.Literal)
                and node.this.name.lower() == "-infinity"):
            return _template("DATE '0001-01-01'", "spark")
        return node

    for node in reversed(list(expression.dfs())):
        new = rewrite(node)
        if new is not node:
            if node is expression:
                expression = new
            else:
                node.replace(new)
    for node in expression.find_all(exp.RegexpLike, exp.RegexpExtract, exp.RegexpReplace):
        pattern = node.expression
        if isinstance(pattern, exp.Literal) and pattern.is_string:
            node.set("expression", exp.Literal.string(java_pattern(pattern.name)))
    return _replace_all_by_default(expression)


def rewrite(expression, dialect: str):
    """``expression`` (parsed DuckDB) with the exact rewrites for ``dialect`` applied."""
    if dialect == "postgres":
        return _postgres(expression)
    if dialect in ("spark", "databricks"):
        return _spark(expression)
    return _replace_all_by_default(expression)
