"""Jinja for SQL: the environment, macros, the render context and the renderer."""
