"""DGAD's reconstruction score s_rec (eq 15), a pure function of the per-image errors.

Higher means more anomalous. The L1 norms are read as in the losses (losses/dgad.py, L1_READINGS): as
means over elements (the default) the image term and the latent term keep the paper's weighting
lambda_s = 10 at any image size; as sums each term grows with its element count.
"""

import numpy as np
import tensorflow as tf

LAMBDA_S = 10.0


def reconstruction_score(image_error, latent_error, lambda_s: float = LAMBDA_S):
    """Eq 15: s_rec = |x - x^|_1 + lambda_s |z - z^|_1, from the per-image errors of DGAD.reconstruction_errors().

    Arrays are added as float64 arrays; tensors (an exported model's graph) as float64 tensors.
    """
    if tf.is_tensor(image_error):
        return tf.cast(image_error, tf.float64) + lambda_s * tf.cast(latent_error, tf.float64)
    return np.asarray(image_error, np.float64) + lambda_s * np.asarray(latent_error, np.float64)
