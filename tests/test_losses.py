"""DGAD's losses (eqs 6-14), each against a value computed by hand on a tiny tensor."""

import math

import numpy as np
import pytest
import tensorflow as tf

from losses import dgad as losses


def test_reconstruction_loss_is_mean_absolute_error():
    images = tf.constant([[0.5, -0.5], [1.0, 0.0]])
    reconstructions = tf.constant([[0.0, 0.0], [0.0, 1.0]])
    # |0.5| + |-0.5| + |1| + |-1| = 3 over 4 elements
    assert float(losses.reconstruction_loss(images, reconstructions)) == pytest.approx(0.75)


def test_the_sum_reading_of_the_l1_norm_sums_each_image_then_averages_the_batch():
    images = tf.constant([[[0.5, -0.5], [1.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]])
    reconstructions = tf.zeros_like(images)
    # Image 0: 0.5 + 0.5 + 1 + 0 = 2 (mean 0.5); image 1: 0.
    np.testing.assert_allclose(losses.l1_norms(images - reconstructions, "sum"), [2.0, 0.0])
    np.testing.assert_allclose(losses.l1_norms(images - reconstructions, "mean"), [0.5, 0.0])
    assert float(losses.reconstruction_loss(images, reconstructions, "sum")) == pytest.approx(1.0)
    assert float(losses.reconstruction_loss(images, reconstructions, "mean")) == pytest.approx(0.25)
    assert float(losses.restoration_loss(images, reconstructions, "sum")) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="unknown L1 reading 'max'"):
        losses.l1_norms(images, "max")


def test_classification_cross_entropy_single_group():
    labels = tf.constant([[0.0, 1.0]])
    logits = tf.constant([[0.0, math.log(3.0)]])  # softmax = (1/4, 3/4)
    assert float(losses.classification_cross_entropy(labels, logits, (2,))) == pytest.approx(-math.log(0.75))


def test_classification_cross_entropy_sums_groups_and_averages_batch():
    # groups (2, 2): first image: p = 1/2 in group 1, 3/4 in group 2; second image: certain, certain
    labels = tf.constant([[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 1.0, 0.0]])
    logits = tf.constant([[0.0, 0.0, 0.0, math.log(3.0)], [-50.0, 50.0, 50.0, -50.0]])
    expected = (math.log(2.0) - math.log(0.75) + 0.0) / 2
    assert float(losses.classification_cross_entropy(labels, logits, (2, 2))) == pytest.approx(expected, abs=1e-6)


def test_discriminator_and_generator_classification_losses():
    transformation_labels = tf.constant([[0.0, 1.0]])
    transformed_logits = tf.constant([[0.0, math.log(3.0)]])  # -log(3/4)
    identity_labels = tf.constant([[1.0, 0.0]])
    restored_logits = tf.constant([[0.0, 0.0]])  # -log(1/2)
    d_cls = losses.discriminator_classification_loss(transformation_labels, transformed_logits, (2,))
    g_cls = losses.generator_classification_loss(transformation_labels, transformed_logits, identity_labels,
                                                 restored_logits, (2,))
    assert float(d_cls) == pytest.approx(-math.log(0.75))
    assert float(g_cls) == pytest.approx(-math.log(0.75) + math.log(2.0))


def test_compactness_loss_is_root_batch_variance_of_channel_means():
    # (batch 2, 1x2 spatial, 2 channels). Channel means: image 0 (1, 1), image 1 (3, 1).
    # Batch mean (2, 1); squared deviations (1, 0) and (1, 0): variance 2 / 4 = 0.5.
    latents = tf.constant([[[[0.0, 1.0], [2.0, 1.0]]],
                           [[[2.0, 1.0], [4.0, 1.0]]]])
    assert float(losses.compactness_loss(losses.channel_means(latents))) == pytest.approx(math.sqrt(0.5), abs=1e-7)


def test_compactness_loss_ignores_spatial_variation_within_an_image():
    # Same channel means, different spatial layouts: the paper lets width and height vary freely.
    latents = tf.constant([[[[1.0], [-1.0]]], [[[-1.0], [1.0]]]])
    loss = losses.compactness_loss(losses.channel_means(latents))
    assert float(loss) == pytest.approx(math.sqrt(losses.COMPACTNESS_EPSILON))


def test_compactness_gradient_is_finite_when_all_latents_are_equal():
    latents = tf.Variable(tf.ones((4, 2, 2, 3)))
    with tf.GradientTape() as tape:
        loss = losses.compactness_loss(losses.channel_means(latents))
    assert np.all(np.isfinite(tape.gradient(loss, latents).numpy()))


def test_hinge_adversarial_losses():
    real_logits = tf.constant([2.0, 0.5])   # relu(1 - x): 0, 0.5 -> mean 0.25
    fake_logits = tf.constant([-2.0, 0.5])  # relu(1 + x): 0, 1.5 -> mean 0.75
    assert float(losses.discriminator_adversarial_loss(real_logits, fake_logits)) == pytest.approx(1.0)
    assert float(losses.generator_adversarial_loss(fake_logits)) == pytest.approx(0.75)


def test_total_losses_use_the_paper_weights():
    assert (losses.LAMBDA_CLS, losses.LAMBDA_REC, losses.LAMBDA_CMP) == (10.0, 20.0, 100.0)
    assert float(losses.discriminator_loss(1.0, 0.5)) == pytest.approx(1.0 + 10 * 0.5)
    assert float(losses.generator_loss(0.75, 0.2, 0.1, 0.01)) == pytest.approx(0.75 + 10 * 0.2 + 20 * 0.1 + 100 * 0.01)
    assert float(losses.generator_loss(1.0, 1.0, 1.0, 1.0, lambda_cls=1, lambda_rec=2, lambda_cmp=3)) == 7.0


def test_restoration_loss_compares_the_restored_image_with_the_real_one():
    real = tf.constant([[1.0, -1.0]])
    restored = tf.constant([[0.5, 0.0]])
    # (|0.5| + |-1|) / 2
    assert float(losses.restoration_loss(real, restored)) == pytest.approx(0.75)


def test_pixel_guided_generator_loss_replaces_classification_by_restoration():
    # 0.5 + 20 * (0.1 + 0.2) + 100 * 0.01 = 7.5
    assert float(losses.pixel_guided_generator_loss(0.5, 0.1, 0.2, 0.01)) == pytest.approx(7.5)
