"""Model-backed passive liveness scorers (``PassiveScorer`` adapters)."""
