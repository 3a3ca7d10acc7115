"""The members of transformers' base classes per release (``rules/data/transformers-members.json.gz``)."""
