"""One smoke test over every registered method, through the method interface alone (models/method.py).

Each method is built from a Config, trained a few steps with the real pipeline, checkpointed and
restored into a model built afresh, and scored with every score of every --score choice. A method
added to models.registry.METHODS is tested here without this file changing.
"""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from data.pipeline import one_class_split, to_model_images, training_batches
from models.method import Schedule, ScoreResult, ScoringImages
from models.registry import METHODS, get_method
from utils.running.experiment import build_model
from utils.running.training import Checkpoints, train_for_iterations

TEST_IMAGES = 40


def all_variables(model) -> list:
    """The model's variables and its optimisers': everything a checkpoint must bring back."""
    optimizers = [value for value in model.checkpoint_objects().values()
                  if isinstance(value, keras.optimizers.Optimizer)]
    return model.variables + [variable for optimizer in optimizers for variable in optimizer.variables]


@pytest.mark.parametrize("name", list(METHODS))
@pytest.mark.slow
def test_every_method_trains_resumes_and_scores_through_its_interface(name, digits, tiny_config, fresh_model,
                                                                     tmp_path):
    method, config = get_method(name), tiny_config(name)
    split = one_class_split(digits, 0, config.scheme)
    train_images = to_model_images(split.train_images, config.image_size)
    image_shape = tuple(train_images.shape[1:])

    schedule = method.schedule(config, len(train_images))
    assert isinstance(schedule, Schedule) and schedule.iterations == config.iterations
    assert 0 <= schedule.warmup_iterations < schedule.iterations
    parts = method.run_name_parts(config)
    assert parts and all(isinstance(part, str) and part for part in parts)
    assert config.run_id == "-".join(parts)
    assert all(config.run_id != tiny_config(other).run_id for other in METHODS if other != name)

    # build_model(config, image_shape), shared with the session's other tests of this config.
    model = fresh_model(image_shape, name)
    summary = method.parameter_summary(model)
    assert method.title in summary and "parameters" in summary and "\n" not in summary
    method.start_class(model, schedule)
    initial = [variable.numpy() for variable in all_variables(model)]
    checkpoints = Checkpoints(model, tmp_path)
    batches = training_batches(train_images, config.batch_size, config.seed, 0, schedule.iterations, config.max_zoom,
                               training_inputs=model.training_inputs)
    train_for_iterations(model, batches, checkpoints, schedule.iterations, config.checkpoint_every)
    assert int(model.iterations) == schedule.iterations
    trained = [variable.numpy() for variable in all_variables(model)]
    assert all(np.isfinite(value).all() for value in trained)
    assert any(not np.array_equal(before, after) for before, after in zip(initial, trained, strict=True))

    restored = build_model(config, image_shape)
    assert Checkpoints(restored, tmp_path).restore_latest() == schedule.iterations
    for expected, variable in zip(trained, all_variables(restored), strict=True):
        np.testing.assert_array_equal(variable.numpy(), expected, err_msg=variable.path)

    test_is_normal = split.test_anomaly_labels[:TEST_IMAGES] == 0
    assert test_is_normal.any() and not test_is_normal.all()
    images = ScoringImages(to_model_images(split.test_images[:TEST_IMAGES], config.image_size), train_images,
                           test_is_normal)
    scorer = method.scorer(restored, config)
    for choice in method.score_choices:
        scores = config.replace(score=choice).scores
        results = scorer.score(images, scores)
        assert set(results) == set(scores), choice
        for score, result in results.items():
            assert isinstance(result, ScoreResult)
            assert result.anomaly_scores.shape == (TEST_IMAGES,) and np.isfinite(result.anomaly_scores).all(), score
            assert result.columns and all(np.shape(column) == (TEST_IMAGES,) and np.isfinite(column).all()
                                          for column in result.columns.values()), score
            assert result.metrics["images_per_second"] > 0, score
            json.dumps(result.fitted)

        # What a score fitted on the training images replaces them: predict and export never read them.
        fitted = {score: result.fitted for score, result in results.items()}
        without_training_images = ScoringImages(images.test, _refuse_training_images, test_is_normal)
        again = scorer.score(without_training_images, scores, fitted)
        for score, result in results.items():
            np.testing.assert_array_equal(again[score].anomaly_scores, result.anomaly_scores, err_msg=score)
        # An exported model's scores are the same computation in TensorFlow ops only.
        serving = tf.function(scorer.serving_scores(scores, fitted))(images.test)
        assert set(serving) == set(scores)
        for score, result in results.items():
            np.testing.assert_allclose(serving[score].numpy(), result.anomaly_scores, rtol=1e-5, atol=1e-5,
                                       err_msg=score)

    reconstructions = restored.reconstruction(images.test[:4])
    assert reconstructions.shape == images.test[:4].shape
    preview = restored.preview_images(images.test[:4], tf.constant([0, 8], tf.int64))
    assert len(preview) >= 3 and all(batch.shape == images.test[:4].shape for batch in preview.values())


def _refuse_training_images():
    raise AssertionError("a score read the training images although its fitted state was given")
