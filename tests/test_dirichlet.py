"""The GEOM Dirichlet normality score s_dir (DGAD eq 17): inverse digamma, the fit and the score."""

import math

import numpy as np
import pytest
from scipy.special import digamma

from models.dgad.dirichlet import (
    INVERSE_DIGAMMA_SWITCH,
    dirichlet_normality_score,
    fit_dirichlet,
    fit_dirichlet_per_transformation,
    fit_grouped_dirichlet,
    grouped_dirichlet_normality_score,
    inverse_digamma,
)


def test_inverse_digamma_inverts_digamma_to_1e_8_on_both_branches():
    x = np.geomspace(1e-3, 100.0, 200)
    y = digamma(x)
    # Both initial guesses are exercised: digamma(1e-3) ~ -1000, digamma(100) ~ 4.6.
    assert np.any(y < INVERSE_DIGAMMA_SWITCH) and np.any(y >= INVERSE_DIGAMMA_SWITCH)
    np.testing.assert_allclose(inverse_digamma(y), x, rtol=1e-8, atol=0)


@pytest.mark.parametrize("true_alpha", [(2.0, 5.0, 1.0), (0.5, 0.5, 0.5, 3.0)])
def test_fit_recovers_known_parameters_within_5_percent(true_alpha):
    samples = np.random.default_rng(0).dirichlet(true_alpha, size=20000)
    np.testing.assert_allclose(fit_dirichlet(samples), true_alpha, rtol=0.05)


def test_fit_is_a_maximum_likelihood_stationary_point():
    # The likelihood's gradient vanishes where psi(alpha_k) - psi(sum alpha) = mean_n log p_nk.
    samples = np.random.default_rng(1).dirichlet((3.0, 0.7, 1.5), size=500)
    alpha = fit_dirichlet(samples)
    np.testing.assert_allclose(digamma(alpha) - digamma(alpha.sum()), np.log(samples).mean(axis=0), atol=1e-8)


def test_score_ranks_in_distribution_above_out_of_distribution():
    rng = np.random.default_rng(2)
    transformations, classes = 3, 4
    normal_alpha, anomalous_alpha = (20.0, 1.0, 1.0, 1.0), (1.0, 1.0, 20.0, 1.0)
    train = np.stack([rng.dirichlet(normal_alpha, size=2000) for _ in range(transformations)])
    alphas = fit_dirichlet_per_transformation(train)
    assert alphas.shape == (transformations, classes)

    normal_scores = dirichlet_normality_score(
        np.stack([rng.dirichlet(normal_alpha, size=300) for _ in range(transformations)]), alphas)
    anomalous_scores = dirichlet_normality_score(
        np.stack([rng.dirichlet(anomalous_alpha, size=300) for _ in range(transformations)]), alphas)
    assert normal_scores.shape == anomalous_scores.shape == (300,)
    assert normal_scores.mean() > anomalous_scores.mean()
    # The ROC AUC: the fraction of (normal, anomalous) pairs in which the normal image scores higher.
    correctly_ordered = np.mean(normal_scores[:, None] > anomalous_scores[None, :])
    assert correctly_ordered >= 0.95


def test_exact_zeros_and_ones_give_finite_fit_and_score():
    one_hot_and_soft = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
    identical_one_hot = np.array([[1.0, 0.0, 0.0]] * 4)
    alphas = fit_dirichlet_per_transformation(np.stack([one_hot_and_soft, identical_one_hot]))
    assert np.all(np.isfinite(alphas)) and np.all(alphas > 0)

    test = np.array([[[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]])
    scores = dirichlet_normality_score(test, alphas)
    assert np.all(np.isfinite(scores))


def test_score_equals_hand_computation():
    alphas = np.array([[3.0, 2.0], [0.5, 4.0]])
    test = np.array([[[0.8, 0.2]], [[0.25, 0.75]]])  # (T=2, M=1, K=2)
    first = (3.0 - 1) * math.log(0.8) + (2.0 - 1) * math.log(0.2)
    second = (0.5 - 1) * math.log(0.25) + (4.0 - 1) * math.log(0.75)
    np.testing.assert_allclose(dirichlet_normality_score(test, alphas), [(first + second) / 2], rtol=1e-12)


@pytest.mark.parametrize("probabilities, message", [
    (np.full(3, 1 / 3), "shape"),
    (np.full((2, 2, 2), 0.5), "shape"),
    (np.array([[0.5, 0.5]]), "at least 2 images"),
    (np.array([[0.5, 0.6], [0.5, 0.5]]), "row 0 sums to 1.1"),
    (np.array([[2.0, -1.0], [0.5, 0.5]]), r"in \[0, 1\]"),
])
def test_fit_rejects_what_is_not_a_set_of_probability_rows(probabilities, message):
    with pytest.raises(ValueError, match=message):
        fit_dirichlet(probabilities)


def test_per_transformation_fit_and_score_reject_wrong_shapes():
    with pytest.raises(ValueError, match="transformations, images, classes"):
        fit_dirichlet_per_transformation(np.full((4, 3), 1 / 3))
    with pytest.raises(ValueError, match="transformations, images, classes"):
        dirichlet_normality_score(np.full((4, 3), 1 / 3), np.ones((4, 3)))
    with pytest.raises(ValueError, match="alphas must have shape"):
        dirichlet_normality_score(np.full((2, 4, 3), 1 / 3), np.ones((2, 4)))


def test_grouped_fit_and_score_treat_each_label_group_as_its_own_dirichlet():
    # Protocol 3 style rows: a 3-way group then a 2-way group, each summing to 1.
    rng = np.random.default_rng(0)
    first = rng.dirichlet([4.0, 1.0, 2.0], size=(2, 50))
    second = rng.dirichlet([1.5, 3.0], size=(2, 50))
    train = np.concatenate([first, second], axis=-1)
    alphas = fit_grouped_dirichlet(train, (3, 2))
    np.testing.assert_allclose(alphas[0], fit_dirichlet_per_transformation(first))
    np.testing.assert_allclose(alphas[1], fit_dirichlet_per_transformation(second))

    test = train[:, :5]
    expected = dirichlet_normality_score(first[:, :5], alphas[0]) + dirichlet_normality_score(second[:, :5], alphas[1])
    np.testing.assert_allclose(grouped_dirichlet_normality_score(test, alphas, (3, 2)), expected, rtol=1e-12)


def test_grouped_fit_and_score_reject_groups_that_do_not_match_the_rows():
    with pytest.raises(ValueError, match=r"label groups \(3, 3\) add up to 6"):
        fit_grouped_dirichlet(np.full((1, 4, 5), 0.2), (3, 3))
    with pytest.raises(ValueError, match="alphas for 1 label groups, expected 2"):
        grouped_dirichlet_normality_score(np.full((1, 4, 5), 0.2), [np.ones((1, 3))], (3, 2))
