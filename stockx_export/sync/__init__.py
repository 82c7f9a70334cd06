"""Sync state: send only what changed, survive a crash, account for every row.

    settings  SyncSettings: where the state lives, the volume guard's limits
    state     the state database (acknowledged rows, rejected rows, runs), per destination
    plan      new / changed / unchanged / previously rejected / gone keys (and the gone-keys policy), in SQL
    guard     the volume guard: far more to send than this destination's recent pushes, or a table that shrank
    lock      one push per destination at a time (an OS file lock)
    push      the steps composed: lock, plan, guard, deliver, record every page
    service   plan, push, runs, rejected: from a loaded project to a result (the API and the CLI call it)
    report    plans, runs and rejected rows as text

The state is a DuckDB file of its own (``.stockx/state.duckdb`` by default),
attached next to the read-only project database so plans are one SQL join.
A page's rows are recorded as acknowledged only after its 2xx answer, in one
transaction: delivery is at-least-once, and nothing is ever marked sent that
was not.
"""
