"""The autoencoder's score over a trained model: each image's mean pixel reconstruction error."""

import numpy as np
import tensorflow as tf

from losses.autoencoder import image_errors
from models.method import ScoreResult, ScoringImages
from utils.scoring.batching import per_image_pass, timed


class Scorer:
    """s_rec = mean |x - De(En(x))| of each image, computed batch by batch in one compiled pass."""

    def __init__(self, model, batch_size: int, jit_compile: bool = True):
        self.model = model
        self.batch_size = batch_size
        self._errors = tf.function(self.errors_of_batch, jit_compile=jit_compile)
        # Compiling now keeps the compile time out of every measured images-per-second rate.
        self._errors(tf.zeros((batch_size, *model.image_shape)))

    def errors_of_batch(self, images):
        return {"image_error": image_errors(images, self.model.reconstruction(images))}

    def score(self, images: ScoringImages, scores: tuple[str, ...], fitted: dict | None = None
              ) -> dict[str, ScoreResult]:
        """s_rec of every test image; it learns nothing from the training images, so `fitted` is not read."""
        errors, seconds = timed(per_image_pass, self._errors, images.test, self.batch_size)
        raw_scores = errors["image_error"].astype(np.float64)
        return {score: ScoreResult(raw_scores, {"s_rec": raw_scores},
                                   {"images_per_second": len(raw_scores) / seconds, "scoring_seconds": seconds})
                for score in scores}

    def serving_scores(self, scores: tuple[str, ...], fitted: dict):
        """The raw scores of a batch in TensorFlow ops only."""
        model = self.model

        def raw_scores(images):
            errors = tf.cast(image_errors(images, model.reconstruction(images)), tf.float64)
            return {score: errors for score in scores}
        return raw_scores
