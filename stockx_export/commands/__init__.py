"""Click commands, one module per family; each parses options, calls the library, prints."""
