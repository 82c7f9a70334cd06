"""stockx: build warehouse inventory into Peak's stock_extra and ship it."""

__version__ = "0.1.0"
