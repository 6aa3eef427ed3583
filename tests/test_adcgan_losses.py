"""AD-CGAN's losses (eqs 1-3, 6) and normality score (eqs 4-5, Table 4), against values worked out by hand."""

import math

import numpy as np
import pytest
import tensorflow as tf

from losses import adcgan as losses
from models.adcgan.score_functions import LAMBDA, RHO, normality_score


def softplus(value):
    return math.log1p(math.exp(value))


def test_info_nce_loss_golden_value():
    # Two images, two positions, K = 1. Locals: image 0 (1, 0), image 1 (0, 1); globals 1 and 2.
    # Image 0: scores of all four locals against g_0 = 1 are (1, 0, 0, 1), log Z_0 = log(2e + 2);
    #   its positives (its own locals) score 1 and 0.
    # Image 1: scores against g_1 = 2 are (2, 0, 0, 2), log Z_1 = log(2e^2 + 2); positives 0 and 2.
    # Loss = -mean(1 - log Z_0, 0 - log Z_0, 0 - log Z_1, 2 - log Z_1) = (2 log Z_0 + 2 log Z_1 - 3) / 4.
    local_features = tf.constant([[[1.0], [0.0]], [[0.0], [1.0]]])
    global_features = tf.constant([[1.0], [2.0]])
    log_z0, log_z1 = math.log(2 * math.e + 2), math.log(2 * math.e ** 2 + 2)
    expected = (2 * log_z0 + 2 * log_z1 - 3) / 4
    assert float(losses.info_nce_loss(local_features, global_features)) == pytest.approx(expected, rel=1e-6)


def test_info_nce_loss_takes_a_feature_map_or_its_flattened_positions():
    local_map = tf.random.stateless_normal((3, 2, 2, 5), seed=[1, 2])
    global_features = tf.random.stateless_normal((3, 5), seed=[3, 4])
    flattened = tf.reshape(local_map, (3, 4, 5))
    assert float(losses.info_nce_loss(local_map, global_features)) == pytest.approx(
        float(losses.info_nce_loss(flattened, global_features)), rel=1e-6)


def test_info_nce_loss_contrasts_the_other_positions_of_the_same_image():
    # One image whose 4 locals all equal its global: every score is the same, so each positive has
    # probability 1/4. Were only other images the negatives, a single image would score 0.
    features = tf.constant([[1.0, 2.0]])
    local_features = tf.tile(features[:, tf.newaxis, :], (1, 4, 1))
    assert float(losses.info_nce_loss(local_features, features)) == pytest.approx(math.log(4.0), rel=1e-6)


def test_info_nce_loss_is_lower_for_matching_local_and_global_features():
    global_features = tf.random.stateless_normal((4, 16), seed=[5, 6])
    local_features = tf.tile(global_features[:, tf.newaxis, :], (1, 9, 1))  # every local = its own global
    shuffled_globals = tf.roll(global_features, shift=1, axis=0)
    matched = float(losses.info_nce_loss(local_features, global_features))
    shuffled = float(losses.info_nce_loss(local_features, shuffled_globals))
    assert matched < shuffled


def test_relativistic_losses_golden_values():
    real_logits, fake_logits = tf.constant([1.0, 0.0]), tf.constant([0.0, 0.0])
    # D: mean softplus(-(real - fake)) = (softplus(-1) + log 2) / 2; G: (softplus(1) + log 2) / 2.
    d_loss = losses.discriminator_adversarial_loss(real_logits, fake_logits)
    g_loss = losses.generator_adversarial_loss(real_logits, fake_logits)
    assert float(d_loss) == pytest.approx((softplus(-1.0) + math.log(2.0)) / 2, rel=1e-6)
    assert float(g_loss) == pytest.approx((softplus(1.0) + math.log(2.0)) / 2, rel=1e-6)


def test_relativistic_losses_are_mirror_images_and_only_see_differences():
    real_logits = tf.random.stateless_normal((5,), seed=[7, 8])
    fake_logits = tf.random.stateless_normal((5,), seed=[9, 10])
    d_loss = float(losses.discriminator_adversarial_loss(real_logits, fake_logits))
    # G's loss is D's with real and fake swapped.
    assert float(losses.generator_adversarial_loss(fake_logits, real_logits)) == pytest.approx(d_loss, rel=1e-6)
    assert float(losses.discriminator_adversarial_loss(real_logits + 3.0, fake_logits + 3.0)) == pytest.approx(
        d_loss, rel=1e-5)
    # Equal logits: both sides at log 2. Real above fake: D below log 2 and G above it.
    assert float(losses.discriminator_adversarial_loss(real_logits, real_logits)) == pytest.approx(math.log(2.0))
    above = real_logits + 1.0
    assert float(losses.discriminator_adversarial_loss(above, real_logits)) < math.log(2.0)
    assert float(losses.generator_adversarial_loss(above, real_logits)) > math.log(2.0)


def test_autoencoder_loss_is_mean_squared_error():
    images = tf.constant([[0.5, -0.5], [1.0, 0.0]])
    reconstructions = tf.constant([[0.0, 0.0], [0.0, 1.0]])
    # 0.25 + 0.25 + 1 + 1 = 2.5 over 4 elements
    assert float(losses.autoencoder_loss(images, reconstructions)) == pytest.approx(0.625)


def test_latent_discriminator_and_encoder_losses():
    log3 = math.log(3.0)
    real_pair_logits = tf.constant([0.0, log3])  # D_z = 1/2, 3/4: -log D_z = log 2, log(4/3)
    fake_pair_logits = tf.constant([0.0, -log3])  # D_z = 1/2, 1/4: -log(1 - D_z) = log 2, log(4/3)
    # Each side's mean is (log 2 + log(4/3)) / 2; D_z's loss is their sum.
    assert float(losses.latent_discriminator_loss(real_pair_logits, fake_pair_logits)) == pytest.approx(
        math.log(2.0) + math.log(4 / 3), rel=1e-6)
    # Encoder: -log D_z(z, E(x)) = log 2, log 4 -> mean 1.5 log 2.
    assert float(losses.latent_encoder_loss(fake_pair_logits)) == pytest.approx(1.5 * math.log(2.0), rel=1e-6)


def test_total_cgan_losses_use_the_paper_weights():
    assert (losses.ALPHA, losses.BETA) == (0.3, 0.3)
    assert float(losses.generator_loss(1.0, 2.0)) == pytest.approx(1.6)
    assert float(losses.critic_loss(1.0, 2.0)) == pytest.approx(1.6)
    assert float(losses.generator_loss(1.0, 2.0, alpha=1.0)) == 3.0
    assert float(losses.critic_loss(1.0, 2.0, beta=0.5)) == 2.0


TERMS = {
    "image_error": np.array([0.2, 0.0]),
    "feature_error": np.array([1.0, 0.0]),
    "encoded_error": np.array([0.4, 1.0]),
    "latent_error": np.array([0.6, 0.0]),
}


@pytest.mark.parametrize("score, expected", [
    # L_Gr = 0.9 * 0.2 + 0.1 * 1.0 = 0.28 for the first image, 0 for the second.
    ("lg", [0.28, 0.0]),
    ("lfe", [0.28 + 0.4, 1.0]),  # rho = 1: + L_FE
    ("lfl", [0.28 + 0.6, 0.0]),  # rho = 0: + L_FL
    ("gf", [0.28 + 0.5 * 0.4 + 0.5 * 0.6, 0.5]),
])
def test_normality_score_and_its_table_4_ablations(score, expected):
    assert (LAMBDA, RHO) == (0.1, 0.5)
    np.testing.assert_allclose(normality_score(TERMS, score=score), expected, rtol=1e-12)


def test_normality_score_weights_and_tensors():
    # lambda = 0.5, rho = 0.25: 0.5 * 0.2 + 0.5 * 1.0 + 0.25 * 0.4 + 0.75 * 0.6 = 1.15
    tensors = {name: tf.constant(value, tf.float32) for name, value in TERMS.items()}
    score = normality_score(tensors, lambda_=0.5, rho=0.25)
    assert isinstance(score, tf.Tensor)
    np.testing.assert_allclose(score.numpy(), [1.15, 0.25], rtol=1e-6)
    # lfe and lfl fix rho (Table 4), whatever rho is passed.
    np.testing.assert_allclose(normality_score(TERMS, rho=0.25, score="lfe"), [0.68, 1.0], rtol=1e-12)


def test_normality_score_rejects_an_unknown_score():
    with pytest.raises(ValueError, match=r"^score must be one of gf, lg, lfe, lfl; got 'ns'$"):
        normality_score(TERMS, score="ns")
