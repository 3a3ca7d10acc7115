"""A model's own code, read with ast: imports, their guards, and what they need."""
