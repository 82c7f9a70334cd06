"""Export of built models to Peak's ingestion API.

    contract   the Peak resources: columns, types, keys, in contract order
    settings   ExportSettings and how they are resolved (defaults < pyproject < meta < env < CLI)
    urls       what a base URL may be (no credentials; https unless to this machine), normalised
    preflight  build and table checks before anything is serialized
    serialize  rows as JSON text, built in DuckDB, streamed in key order
    pages      rows packed into request bodies under row and byte limits
    files      --out DIR: page files and manifest.json
    http       the only module importing httpx: the client, one POST and its whole answer, what it means
    retry      the retry policy and the rate limiter, pure, over an injected clock
    deliver    --push: worker threads, page order, splitting, bisection (orchestration only)
    report     a delivery as text
    run        one export's steps (prepare, preflight, pages, write or send)
    service    write_files and validate: an export without state, from a loaded project to its result
"""
