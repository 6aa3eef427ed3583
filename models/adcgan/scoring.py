"""AD-CGAN's normality score NS (eqs 4-5) and its Table 4 ablations over a trained model.

The four per-image terms come from one compiled pass (ADCGAN.score_terms); every score is a
weighted sum of them (models/adcgan/score_functions.py).
"""

import numpy as np
import tensorflow as tf

from data.random_streams import SCORE_STREAM
from models.adcgan.score_functions import normality_score
from models.method import ScoreResult, ScoringImages
from utils.scoring.batching import per_image_pass, timed


class Scorer:
    """The four terms of NS for each image, computed batch by batch, and the scores made of them.

    L_FL's random z is drawn from `seed` (the run's), the same z for every batch, so a score
    depends on neither the batch an image lands in nor the invocation.
    """

    def __init__(self, model, batch_size: int, seed: int, ns_lambda: float, ns_rho: float, jit_compile: bool = True):
        self.model = model
        self.batch_size = batch_size
        self.seed = tf.constant([seed, SCORE_STREAM], tf.int64)
        self.ns_lambda = ns_lambda
        self.ns_rho = ns_rho
        self._terms = tf.function(model.score_terms, jit_compile=jit_compile)
        # Compiling now keeps the compile time out of every measured images-per-second rate.
        self.terms(tf.zeros((batch_size, *model.image_shape)))

    def terms(self, images) -> dict[str, np.ndarray]:
        """{"image_error", "feature_error", "encoded_error", "latent_error"} for each image."""
        return per_image_pass(self._terms, images, self.batch_size, self.seed)

    def score(self, images: ScoringImages, scores: tuple[str, ...], fitted: dict | None = None
              ) -> dict[str, ScoreResult]:
        """Every score of `scores`; NS learns nothing from the training images, so `fitted` is not read."""
        terms, seconds = timed(self.terms, images.test)
        terms = {name: values.astype(np.float64) for name, values in terms.items()}
        results = {}
        for score in scores:
            # NS is an anomaly score already: every term is a reconstruction error.
            raw_scores = normality_score(terms, self.ns_lambda, self.ns_rho, score)
            results[score] = ScoreResult(raw_scores, {f"ns_{score}": raw_scores, **terms},
                                         {"images_per_second": len(raw_scores) / seconds, "scoring_seconds": seconds,
                                          "lambda": self.ns_lambda, "rho": self.ns_rho}, parts=tuple(terms))
        return results

    def serving_scores(self, scores: tuple[str, ...], fitted: dict):
        """The raw scores of a batch in TensorFlow ops only, with the same z as score()."""
        model, seed, ns_lambda, ns_rho = self.model, self.seed, self.ns_lambda, self.ns_rho

        def raw_scores(images):
            terms = {name: tf.cast(values, tf.float64) for name, values in model.score_terms(images, seed).items()}
            return {score: normality_score(terms, ns_lambda, ns_rho, score) for score in scores}
        return raw_scores
