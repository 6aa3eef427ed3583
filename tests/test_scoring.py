"""Scoring a trained model batch by batch (utils/scoring/batching.py) and each method's scores over it
(models/dgad/scoring.py, models/adcgan/scoring.py)."""

import numpy as np
import pytest
import tensorflow as tf

from data.random_streams import SCORE_STREAM
from models.adcgan.score_functions import SCORES, normality_score
from models.dgad.pretext import label_size, scoring_transformations, to_labels
from models.dgad.score_functions import reconstruction_score
from models.dgad.scoring import ScoringPasses, scoring_speed
from models.method import ScoringImages
from models.registry import get_method
from utils.scoring.batching import padded_batches, per_image_pass, timed

IMAGE_SHAPE = (32, 32, 1)
IMAGES = tf.random.stateless_uniform((6, *IMAGE_SHAPE), seed=[2, 2], minval=-1, maxval=1)


def numbered_images(count):
    return tf.reshape(tf.range(count, dtype=tf.float32), (count, 1, 1, 1))


def test_padded_batches_fill_the_last_batch_with_the_last_image():
    count, batches = padded_batches(numbered_images(7), 3)
    assert count == 7
    assert [batch[:, 0, 0, 0].numpy().tolist() for batch in batches] == [[0, 1, 2], [3, 4, 5], [6, 6, 6]]
    count, batches = padded_batches(numbered_images(6), 3)
    assert count == 6 and [len(batch) for batch in batches] == [3, 3]


def test_a_per_image_pass_drops_the_padding_and_passes_the_extra_arguments():
    calls = []

    def compiled(batch, offset):
        calls.append(int(batch.shape[0]))
        return {"value": batch[:, 0, 0, 0] + offset}

    values = per_image_pass(compiled, numbered_images(5), 4, 10.0)
    assert calls == [4, 4]  # every call sees the one batch shape
    np.testing.assert_array_equal(values["value"], [10, 11, 12, 13, 14])


def test_timed_returns_the_result_and_a_duration():
    result, seconds = timed(lambda a, b: a + b, 2, 3)
    assert result == 5 and seconds >= 0


@pytest.fixture(scope="module")
def tiny_passes(fresh_model):
    """tiny_passes(protocol=1): (the session's tiny DGAD, its ScoringPasses over batches of 4), the ScoringPasses
    compiled once per protocol: these tests only read the model."""
    compiled = {}

    def make(protocol=1):
        model = fresh_model(IMAGE_SHAPE, protocol=protocol)
        if protocol not in compiled:
            compiled[protocol] = ScoringPasses(model, 4, jit_compile=False)
        return model, compiled[protocol]
    return make


@pytest.mark.slow
def test_a_partial_last_batch_gives_the_same_values_as_scoring_images_alone(tiny_passes):
    model, passes = tiny_passes()
    errors = passes.reconstruction_errors(IMAGES)
    direct = model.reconstruction_errors(IMAGES)
    assert errors["image_error"].shape == errors["latent_error"].shape == (6,)
    for name in errors:
        np.testing.assert_allclose(errors[name], direct[name], rtol=1e-5)


@pytest.mark.parametrize("protocol", [1, 2, 3])
@pytest.mark.slow
def test_transformation_probabilities_cover_every_scoring_transformation_of_every_image(protocol, tiny_passes):
    model, passes = tiny_passes(protocol)
    probabilities = passes.transformation_probabilities(IMAGES)
    transformations = scoring_transformations(protocol)
    assert probabilities.shape == (len(transformations), 6, label_size(protocol))
    np.testing.assert_allclose(probabilities[-1], model.transformation_probabilities(IMAGES, transformations[-1]),
                               rtol=1e-5)


def test_discriminator_accuracy_counts_the_transformations_each_image_gets_right(tiny_passes):
    _, passes = tiny_passes(protocol=1)
    correct = to_labels(scoring_transformations(1), 1).numpy()  # (T=4, K=4) one-hot of the true labels
    probabilities = np.stack([correct, correct], axis=1) * 0.7 + 0.075  # (T, N=2, K), argmax = true label
    probabilities[1, 1] = [0.7, 0.1, 0.1, 0.1]  # image 1 takes the 90 degree rotation for the identity
    probabilities[3, 1] = [0.1, 0.1, 0.7, 0.1]  # and 270 degrees for 180 degrees
    np.testing.assert_allclose(passes.discriminator_accuracy(probabilities), [1.0, 0.5])


@pytest.mark.slow
def test_protocol_3_accuracy_needs_every_label_group_right(tiny_passes):
    _, passes = tiny_passes(protocol=3)
    probabilities = to_labels(scoring_transformations(3), 3).numpy()[:, None, :].copy()  # (24, 1, 18)
    probabilities[5, 0, 6:10] = np.roll(probabilities[5, 0, 6:10], 1)  # one tile's rotation wrong
    np.testing.assert_allclose(passes.discriminator_accuracy(probabilities), [23 / 24])


def test_scoring_speed_reports_both_rates(tiny_passes):
    speed = scoring_speed(tiny_passes()[1], IMAGES, rounds=2)
    assert set(speed) == {"rec", "dir"} and all(rate > 0 for rate in speed.values())


@pytest.mark.slow
def test_dgads_scores_are_s_rec_and_the_negated_dirichlet_score(fresh_model, tiny_config, random_images):
    config = tiny_config(lambda_s=3.0)
    model = fresh_model(IMAGE_SHAPE)
    test_is_normal = np.array([True, False, True, False, False, True])
    images = ScoringImages(IMAGES, random_images(10, IMAGE_SHAPE), test_is_normal)
    results = get_method("dgad").scorer(model, config).score(images, ("rec", "dir"))
    assert set(results) == {"rec", "dir"}

    rec = results["rec"]
    errors = model.reconstruction_errors(IMAGES)
    np.testing.assert_allclose(rec.anomaly_scores, reconstruction_score(errors["image_error"], errors["latent_error"],
                                                                        3.0), rtol=1e-5)
    np.testing.assert_array_equal(rec.columns["s_rec"], rec.anomaly_scores)
    assert set(rec.columns) == {"s_rec", "image_error", "latent_error"}
    assert rec.metrics["images_per_second"] > 0 and rec.metrics["scoring_seconds"] > 0

    dir_ = results["dir"]
    # s_dir is a normality score: its negation ranks the anomalies first.
    np.testing.assert_array_equal(dir_.anomaly_scores, -dir_.columns["s_dir"])
    accuracy = dir_.columns["discriminator_accuracy"]
    assert accuracy.shape == (6,) and ((0 <= accuracy) & (accuracy <= 1)).all()
    assert dir_.metrics["discriminator_accuracy_normal"] == pytest.approx(accuracy[test_is_normal].mean())
    assert dir_.metrics["discriminator_accuracy_all"] == pytest.approx(accuracy.mean())
    assert len(dir_.metrics["alphas"]) == 1 and dir_.metrics["alphas"][0].shape == (4, 4)  # (T, K), one label group


@pytest.mark.slow
def test_adcgans_scores_weigh_the_terms_drawn_with_the_runs_score_stream(fresh_model, tiny_config, random_images):
    # The scorer reads the seed and the weights of NS from the config, whatever the model was built with.
    config = tiny_config("adcgan", latent_size=8, seed=5, ns_lambda=0.3, ns_rho=0.8)
    model = fresh_model((32, 32, 1), "adcgan", latent_size=8)
    images = random_images(5, (32, 32, 1))
    results = get_method("adcgan").scorer(model, config).score(ScoringImages(images, images, np.ones(5, bool)),
                                                               SCORES)
    terms = {name: value.numpy().astype(np.float64)
             for name, value in model.score_terms(images, tf.constant([5, SCORE_STREAM], tf.int64)).items()}
    assert set(results) == set(SCORES)
    for score, result in results.items():
        np.testing.assert_allclose(result.anomaly_scores, normality_score(terms, 0.3, 0.8, score), rtol=1e-5)
        assert set(result.columns) == {f"ns_{score}", *terms}
        np.testing.assert_array_equal(result.columns[f"ns_{score}"], result.anomaly_scores)


def test_training_images_given_as_a_function_are_made_once_and_only_when_a_score_reads_them():
    calls = []

    def make_training_images():
        calls.append(1)
        return np.zeros((3, 4, 4, 1), np.float32)

    images = ScoringImages(np.ones((2, 4, 4, 1), np.float32), make_training_images, np.array([True, False]))
    assert calls == []
    assert images.train.shape == (3, 4, 4, 1) and images.train.shape == (3, 4, 4, 1)
    assert calls == [1]
    assert ScoringImages(None, np.ones(2), np.ones(2, bool)).train.tolist() == [1.0, 1.0]
