"""Check specifications, one module per notebook (``nb01`` for notebook 1)."""
