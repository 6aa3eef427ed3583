"""Running a trained model over image sets: padding to whole batches, D_cls's accuracy, the speed measurement."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from data.pretext import label_size, scoring_transformations, to_labels
from models.dgad.model import DGAD
from utils.scoring.batching import Scoring, scoring_speed


def tiny_scoring(protocol=1, batch_size=4):
    keras.utils.set_random_seed(0)
    return Scoring(DGAD((16, 16, 1), protocol=protocol, width=4), batch_size, jit_compile=False)


IMAGES = tf.random.stateless_uniform((6, 16, 16, 1), seed=[2, 2], minval=-1, maxval=1)


def test_a_partial_last_batch_gives_the_same_values_as_scoring_images_alone():
    scoring = tiny_scoring()
    errors = scoring.reconstruction_errors(IMAGES)
    direct = scoring.model.reconstruction_errors(IMAGES)
    assert errors["image_error"].shape == errors["latent_error"].shape == (6,)
    for name in errors:
        np.testing.assert_allclose(errors[name], direct[name], rtol=1e-5)


@pytest.mark.parametrize("protocol", [1, 2, 3])
def test_transformation_probabilities_cover_every_scoring_transformation_of_every_image(protocol):
    scoring = tiny_scoring(protocol)
    probabilities = scoring.transformation_probabilities(IMAGES)
    transformations = scoring_transformations(protocol)
    assert probabilities.shape == (len(transformations), 6, label_size(protocol))
    np.testing.assert_allclose(probabilities[-1],
                               scoring.model.transformation_probabilities(IMAGES, transformations[-1]), rtol=1e-5)


def test_discriminator_accuracy_counts_the_transformations_each_image_gets_right():
    scoring = tiny_scoring(protocol=1)
    correct = to_labels(scoring_transformations(1), 1).numpy()  # (T=4, K=4) one-hot of the true labels
    probabilities = np.stack([correct, correct], axis=1) * 0.7 + 0.075  # (T, N=2, K), argmax = true label
    probabilities[1, 1] = [0.7, 0.1, 0.1, 0.1]  # image 1 takes the 90 degree rotation for the identity
    probabilities[3, 1] = [0.1, 0.1, 0.7, 0.1]  # and 270 degrees for 180 degrees
    np.testing.assert_allclose(scoring.discriminator_accuracy(probabilities), [1.0, 0.5])


def test_protocol_3_accuracy_needs_every_label_group_right():
    scoring = tiny_scoring(protocol=3)
    probabilities = to_labels(scoring_transformations(3), 3).numpy()[:, None, :].copy()  # (24, 1, 18)
    probabilities[5, 0, 6:10] = np.roll(probabilities[5, 0, 6:10], 1)  # one tile's rotation wrong
    np.testing.assert_allclose(scoring.discriminator_accuracy(probabilities), [23 / 24])


def test_scoring_speed_reports_both_rates():
    speed = scoring_speed(tiny_scoring(), IMAGES, rounds=2)
    assert set(speed) == {"rec", "dir"} and all(rate > 0 for rate in speed.values())
