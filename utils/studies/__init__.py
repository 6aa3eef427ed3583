"""Grids of runs: the runner, the DGAD paper's tables, the DGAD vs AD-CGAN comparison."""
