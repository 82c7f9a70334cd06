"""The docs site: ``stockx docs generate`` writes ``target/docs/`` and ``target/catalog.json``;
``stockx docs serve`` serves the site on loopback.

The top layer of the library: it reads the project (core), the database's catalog
(adapters), column lineage (analysis), the last run's artifacts (run) and the sync
state (sync), and writes files; nothing imports it but the commands.

    catalog    target/catalog.json: every relation's columns and types, in dbt's catalog shape
    results    the last run (run_results.json) and every node's newest verdict (last_results.json)
    lineage    column lineage of every model as a graph of direct edges
    pushes     the sync state, read-only: each destination's pushes and the rows Peak refused
    site       the data the page shows, and the files of target/docs/
    generate   the library function behind ``stockx docs generate``
    serve      the one behind ``stockx docs serve``
    assets/    the page (index.html, app.js, style.css) and vendored libraries (vendor/)
"""
