"""DGAD's two scores over a trained model: s_rec (eqs 15-16) and the Dirichlet score s_dir (eq 17).

Every pass is compiled once per model and runs batch by batch (utils.scoring.batching).
"""

import numpy as np
import tensorflow as tf

from models.dgad.dirichlet import (fit_grouped_dirichlet, grouped_dirichlet_normality_score,
                                   grouped_dirichlet_normality_tensor)
from models.dgad.pretext import LABEL_GROUPS, scoring_transformations
from models.dgad.score_functions import reconstruction_score
from models.method import ScoreResult, ScoringImages
from utils.scoring.batching import padded_batches, per_image_pass, timed


class ScoringPasses:
    """The compiled passes over a model that give the per-image quantities behind DGAD's two scores, batch by
    batch."""

    def __init__(self, model, batch_size: int, jit_compile: bool = True):
        self.batch_size = batch_size
        self.label_groups = LABEL_GROUPS[model.protocol]
        self.transformations = scoring_transformations(model.protocol)
        self._reconstruction_errors = tf.function(model.reconstruction_errors, jit_compile=jit_compile)
        self._transformation_probabilities = tf.function(model.transformation_probabilities,
                                                         jit_compile=jit_compile)
        # Compiling now keeps the compile time out of every measured images-per-second rate.
        zero_batch = tf.zeros((batch_size, *model.image_shape))
        self.reconstruction_errors(zero_batch)
        self.transformation_probabilities(zero_batch)

    def reconstruction_errors(self, images) -> dict[str, np.ndarray]:
        """{"image_error", "latent_error"}: the parts of s_rec (eq 15) for each image."""
        return per_image_pass(self._reconstruction_errors, images, self.batch_size)

    def transformation_probabilities(self, images) -> np.ndarray:
        """(T, N, label_size): D_cls's probabilities for every scoring transformation of every image (eq 17)."""
        count, batches = padded_batches(images, self.batch_size)
        per_batch = [np.stack([self._transformation_probabilities(batch, transformation).numpy()
                               for transformation in self.transformations])
                     for batch in batches]
        return np.concatenate(per_batch, axis=1)[:, :count]

    def discriminator_accuracy(self, probabilities: np.ndarray) -> np.ndarray:
        """Per image, the fraction of scoring transformations whose label D_cls predicts (every group right).

        The supplement's Tables 6 and 7 average this over the normal test images and over all of them.
        """
        true_indices = self.transformations.numpy()
        correct = np.ones(probabilities.shape[:2], bool)
        starts = np.cumsum((0,) + self.label_groups[:-1])
        for group, (start, size) in enumerate(zip(starts, self.label_groups)):
            predicted = probabilities[..., start:start + size].argmax(axis=-1)
            correct &= predicted == true_indices[:, group, None]
        return correct.mean(axis=0)


class Scorer:
    """DGAD's scores of the test images of one class, from one model's ScoringPasses."""

    def __init__(self, model, batch_size: int, lambda_s: float, jit_compile: bool = True):
        self.model = model
        self.passes = ScoringPasses(model, batch_size, jit_compile)
        self.lambda_s = lambda_s

    def score(self, images: ScoringImages, scores: tuple[str, ...], fitted: dict | None = None
              ) -> dict[str, ScoreResult]:
        results = {}
        if "rec" in scores:
            errors, seconds = timed(self.passes.reconstruction_errors, images.test)
            raw_scores = reconstruction_score(errors["image_error"], errors["latent_error"], self.lambda_s)
            results["rec"] = ScoreResult(raw_scores, {"s_rec": raw_scores, **errors},
                                         {"images_per_second": len(raw_scores) / seconds, "scoring_seconds": seconds},
                                         parts=tuple(errors))
        if "dir" in scores:
            label_groups = self.passes.label_groups
            if fitted and "dir" in fitted:
                alphas, train_seconds = [np.asarray(group) for group in fitted["dir"]["alphas"]], 0.0
            else:
                train_probabilities, train_seconds = timed(self.passes.transformation_probabilities, images.train)
                alphas = fit_grouped_dirichlet(train_probabilities, label_groups)
            probabilities, seconds = timed(self.passes.transformation_probabilities, images.test)
            normality = grouped_dirichlet_normality_score(probabilities, alphas, label_groups)
            accuracy = self.passes.discriminator_accuracy(probabilities)
            # s_dir is a normality score (higher = more normal); its negation ranks anomalies first.
            results["dir"] = ScoreResult(
                -normality, {"s_dir": normality, "discriminator_accuracy": accuracy},
                {"images_per_second": len(normality) / seconds, "training_pass_seconds": train_seconds,
                 "scoring_seconds": seconds + train_seconds,
                 "discriminator_accuracy_normal": float(accuracy[images.test_is_normal].mean()),
                 "discriminator_accuracy_all": float(accuracy.mean()), "alphas": alphas},
                fitted={"alphas": [group.tolist() for group in alphas]},
                diagnostics=("discriminator_accuracy_normal", "discriminator_accuracy_all"))
        return results

    def serving_scores(self, scores: tuple[str, ...], fitted: dict):
        """The raw anomaly scores of a batch in TensorFlow ops only: s_rec, and -s_dir with the stored alphas."""
        model, lambda_s = self.model, self.lambda_s
        transformations = list(self.passes.transformations)
        alphas = [np.asarray(group) for group in fitted["dir"]["alphas"]] if "dir" in scores else None

        def raw_scores(images):
            outputs = {}
            if "rec" in scores:
                errors = model.reconstruction_errors(images)
                outputs["rec"] = reconstruction_score(errors["image_error"], errors["latent_error"], lambda_s)
            if "dir" in scores:
                probabilities = tf.stack([model.transformation_probabilities(images, transformation)
                                          for transformation in transformations])
                outputs["dir"] = -grouped_dirichlet_normality_tensor(probabilities, alphas)
            return outputs
        return raw_scores


def scoring_speed(passes: ScoringPasses, images, rounds: int = 3) -> dict[str, float]:
    """Images per second of the s_rec pass and the s_dir pass on the same model and images (Table 5).

    The passes alternate, round after round, and each keeps its median time, so a slowdown of the
    machine during the measurement hits both alike. s_dir's one-off Dirichlet fit on the training
    set is not part of this rate.
    """
    per_score = {"rec": passes.reconstruction_errors, "dir": passes.transformation_probabilities}
    seconds = {name: [] for name in per_score}
    for _ in range(rounds):
        for name, compute in per_score.items():
            seconds[name].append(timed(compute, images)[1])
    return {name: int(images.shape[0]) / float(np.median(times)) for name, times in seconds.items()}
