"""The 95% bootstrap intervals of an AUC (utils/scoring/bootstrap.py)."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from utils.scoring.bootstrap import (RESAMPLES, auc_from_histograms, mean_interval, percentile_interval,
                                     resampled_aucs, resampled_pixel_aurocs)


def one_hot_histograms(labels, scores):
    """Each item's own row, one bin per distinct score, as the rank statistic sees it."""
    _, bins = np.unique(scores, return_inverse=True)
    positive = np.zeros((1, bins.max() + 1))
    negative = np.zeros_like(positive)
    np.add.at(positive[0], bins[labels == 1], 1)
    np.add.at(negative[0], bins[labels == 0], 1)
    return positive, negative


@pytest.mark.parametrize("seed", range(5))
def test_the_histogram_auc_equals_sklearns_with_ties(seed):
    rng = np.random.default_rng(seed)
    labels = (rng.random(500) < 0.3).astype(int)
    # Rounded to one decimal: many ties within and across the classes.
    scores = np.round(rng.normal(size=500) + labels, 1)
    assert auc_from_histograms(*one_hot_histograms(labels, scores))[0] == pytest.approx(
        roc_auc_score(labels, scores), abs=1e-12)


def test_perfect_separation_gives_the_interval_one_to_one():
    labels = np.array([0] * 20 + [1] * 5)
    scores = np.r_[np.linspace(0, 1, 20), np.linspace(2, 3, 5)]
    assert percentile_interval(resampled_aucs(labels, scores, (0, 0))) == (1.0, 1.0)


def test_the_interval_contains_the_auc_and_repeats_with_the_seed():
    rng = np.random.default_rng(1)
    labels = (rng.random(400) < 0.25).astype(int)
    scores = rng.normal(size=400) + labels
    resampled = resampled_aucs(labels, scores, (3, 2))
    assert resampled.shape == (RESAMPLES,)
    low, high = percentile_interval(resampled)
    assert low < roc_auc_score(labels, scores) < high
    assert np.array_equal(resampled_aucs(labels, scores, (3, 2)), resampled)
    # Another run seed or another class draws other resamples.
    assert not np.array_equal(resampled_aucs(labels, scores, (4, 2)), resampled)
    assert not np.array_equal(resampled_aucs(labels, scores, (3, 1)), resampled)


def test_a_larger_test_set_gives_a_narrower_interval():
    rng = np.random.default_rng(2)

    def width(size):
        labels = (np.arange(size) % 4 == 0).astype(int)
        low, high = percentile_interval(resampled_aucs(labels, rng.normal(size=size) + labels, (0, 0)))
        return high - low

    assert width(4000) < width(400) / 2


def test_the_pixel_interval_resamples_images_and_contains_the_pixel_auroc():
    rng = np.random.default_rng(3)
    masks = np.zeros((12, 16, 16))
    masks[6:, 4:9, 4:9] = 1
    maps = rng.random(masks.shape) + 0.4 * masks
    resampled = resampled_pixel_aurocs(maps, masks, (0, 0))
    low, high = percentile_interval(resampled)
    assert low < roc_auc_score(masks.ravel() > 0, maps.ravel()) < high
    assert np.array_equal(resampled_pixel_aurocs(maps, masks, (0, 0)), resampled)


def test_the_mean_over_classes_pairs_each_classs_resamples():
    assert mean_interval([np.full(RESAMPLES, 0.8), np.full(RESAMPLES, 0.6)]) == pytest.approx((0.7, 0.7))
    assert mean_interval([]) is None
    assert percentile_interval(np.full(RESAMPLES, np.nan)) is None
