"""One run: its configuration, training, checkpoints, locks, pre-flight checks, the experiment per class."""
