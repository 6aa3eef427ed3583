"""Scores and metrics that know no model: min-max normalisation, the Dirichlet score, batched passes."""
