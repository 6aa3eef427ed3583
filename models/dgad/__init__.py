"""DGAD: networks, the training step of Figure 3, s_rec and s_dir, and its Method object."""
