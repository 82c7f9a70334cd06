"""The core: reading a project into nodes and a DAG, selecting, and rendering its Jinja SQL.

Nothing here opens a database or knows a kind of project other than stockx's:
a database is attached from above (an adapter, stockx_export.adapters), and
other kinds of project plug in through ``layout.Layout`` and ``config.ProjectKind``.
"""
