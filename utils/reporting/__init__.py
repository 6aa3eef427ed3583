"""Files a person reads: per-class results, summaries, plots, Markdown tables, the papers' numbers."""
