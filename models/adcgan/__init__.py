"""AD-CGAN: networks (Table 2), the training step, the normality score NS, and its Method object."""
