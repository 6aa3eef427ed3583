"""s_rec (eq 15) and min-max normalisation (eq 16)."""

import numpy as np
import pytest

from models.dgad.score_functions import LAMBDA_S, reconstruction_score
from utils.scoring.normalise import min_max_normalise


def test_reconstruction_score_weights_the_latent_error_by_lambda_s():
    assert LAMBDA_S == 10.0
    scores = reconstruction_score(np.array([0.1, 0.2]), np.array([0.01, 0.05]))
    np.testing.assert_allclose(scores, [0.1 + 10 * 0.01, 0.2 + 10 * 0.05])
    np.testing.assert_allclose(reconstruction_score([1.0], [1.0], lambda_s=0.5), [1.5])


def test_min_max_normalise_maps_to_unit_interval_and_keeps_order():
    normalised = min_max_normalise(np.array([3.0, 1.0, 2.0, 5.0]))
    np.testing.assert_allclose(normalised, [0.5, 0.0, 0.25, 1.0])


def test_min_max_normalise_of_equal_scores_is_zero():
    np.testing.assert_array_equal(min_max_normalise(np.array([2.0, 2.0])), [0.0, 0.0])


def test_min_max_normalise_refuses_nan():
    with pytest.raises(ValueError, match="1 anomaly scores are NaN"):
        min_max_normalise(np.array([0.1, np.nan, 0.3]))
