"""evaluate: a pure function of (snapshot, knowledge, model card, options) -> findings."""
