"""A small OP library for the documentation's examples (``examples/screen.graph.json`` names it)."""
