"""Export of built models to Peak's ingestion API.

    contract   the Peak resources: columns, types, keys, in contract order
    settings   ExportSettings and how they are resolved (defaults < pyproject < meta < env < CLI)
    preflight  build and table checks before anything is serialized
    serialize  rows as JSON text, built in DuckDB, streamed in key order
    pages      rows packed into request bodies under row and byte limits
    files      --out DIR: page files and manifest.json
    deliver    --push: concurrency, rate limit, retries, splitting, bisection
    progress   progress lines / bar and the summary
    run        the steps composed, as the CLI uses them
"""
