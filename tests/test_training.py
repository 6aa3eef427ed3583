"""Checkpoints, exact resume, the divergence stop and the save on interruption."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from data.pipeline import training_batches
from utils.running import training
from utils.running.experiment import build_model
from utils.running.training import Checkpoints, TrainingDiverged, train_for_iterations

# The batches of the session's tiny DGAD (TINY_SETTINGS): its traced training step serves every test.
IMAGE_SHAPE, BATCH_SIZE = (32, 32, 1), 8
IMAGES = tf.random.stateless_uniform((16, *IMAGE_SHAPE), seed=[9, 9], minval=-1, maxval=1)


@pytest.fixture
def fresh_dgad(fresh_model):
    """The session's tiny DGAD, reset to its initial weights and optimiser state on every call."""
    return lambda: fresh_model(IMAGE_SHAPE)


def train(model, folder, start, iterations, checkpoint_every=2):
    checkpoints = Checkpoints(model, folder)
    assert checkpoints.restore_latest() == start == int(model.iterations)
    batches = training_batches(IMAGES, BATCH_SIZE, 0, start, iterations, training_inputs=model.training_inputs)
    train_for_iterations(model, batches, checkpoints, iterations, checkpoint_every)
    return checkpoints


@pytest.mark.slow
def test_checkpoints_are_numbered_by_iteration_and_kept_at_the_end(tmp_path, fresh_dgad):
    checkpoints = train(fresh_dgad(), tmp_path, 0, 5)
    assert [path.rsplit("-", 1)[1] for path in checkpoints.paths] == ["4", "5"]


@pytest.mark.slow
def test_a_checkpoint_restores_every_model_and_optimiser_variable(tmp_path, fresh_dgad, tiny_config):
    trained = fresh_dgad()
    train(trained, tmp_path, 0, 3)
    # Built afresh, from another seed: only the checkpoint can make its variables equal to the trained ones.
    restored = build_model(tiny_config(seed=1), IMAGE_SHAPE)
    assert Checkpoints(restored, tmp_path).restore_latest() == 3

    def all_variables(model):
        return model.variables + model.generator_optimizer.variables + model.discriminator_optimizer.variables

    spectral_norm_vectors = [v for v in restored.variables if "vector_u" in v.path]
    assert len(spectral_norm_vectors) == 6  # non-trainable: only the checkpoint can bring them back
    for expected, actual in zip(all_variables(trained), all_variables(restored), strict=True):
        np.testing.assert_array_equal(actual.numpy(), expected.numpy(), err_msg=actual.path)


@pytest.mark.slow
def test_a_resumed_run_ends_exactly_where_an_uninterrupted_run_does(tmp_path, fresh_dgad):
    uninterrupted = fresh_dgad()
    train(uninterrupted, tmp_path / "uninterrupted", 0, 6)
    expected_values = [variable.numpy() for variable in uninterrupted.variables]

    train(fresh_dgad(), tmp_path / "resumed", 0, 3)
    # Back to the initial state first, so that only the checkpoint can bring iteration 3 back.
    resumed = fresh_dgad()
    train(resumed, tmp_path / "resumed", 3, 6)

    assert int(resumed.generator_optimizer.iterations) == 6
    for expected, actual in zip(expected_values, resumed.variables, strict=True):
        np.testing.assert_array_equal(actual.numpy(), expected)


class DivergesAt(keras.Model):
    """A stand-in model whose loss becomes NaN at a chosen iteration."""

    def __init__(self, iteration):
        super().__init__()
        self.diverging_iteration = float(iteration)
        self.steps = self.add_weight(shape=(), initializer="zeros", trainable=False)
        self.network = keras.layers.Dense(1)
        self.network.build((None, 1))

    def iterations_done(self):
        return int(self.steps)

    def checkpoint_objects(self):
        return {"network": self.network}

    def train_step(self, data):
        self.steps.assign_add(1.0)
        return {"loss": tf.where(self.steps >= self.diverging_iteration, np.nan, self.steps)}


def train_stand_in_until_it_diverges(model, folder, message):
    """Train a stand-in model for up to 100 iterations, checkpointing every 2; return the checkpoint numbers."""
    model.compile()
    checkpoints = Checkpoints(model, folder)
    batches = tf.data.Dataset.range(100).map(lambda i: tf.zeros((1, 1)))
    with pytest.raises(TrainingDiverged, match=message):
        train_for_iterations(model, batches, checkpoints, 100, checkpoint_every=2)
    return [path.rsplit("-", 1)[1] for path in checkpoints.paths]


def test_divergence_stops_training_and_keeps_the_last_good_checkpoint(tmp_path):
    kept = train_stand_in_until_it_diverges(DivergesAt(6), tmp_path, r"diverged at iteration 6 \(loss=nan\).*ckpt-4")
    assert kept == ["2", "4"]


def test_a_loss_that_turns_nan_inside_an_execution_is_caught_at_its_end(tmp_path):
    # Checkpoints every 2 iterations: fit() runs 2 steps per call and the callbacks see the second's losses.
    kept = train_stand_in_until_it_diverges(DivergesAt(5), tmp_path, r"diverged at iteration 6 \(loss=nan\).*ckpt-4")
    assert kept == ["2", "4"]


@pytest.mark.parametrize("start, cadences, expected", [
    (0, (10, 1000, 100), 10), (0, (10, 25, 100), 5), (3000, (10, 1000, 100), 10), (1234, (10, 1000, 100), 2),
    (7, (10, 1000, 100), 1)])
def test_fit_runs_as_many_steps_per_call_as_every_callback_iteration_allows(start, cadences, expected):
    assert training.steps_per_execution_for(start, *cadences) == expected


def test_the_last_call_of_fit_is_counted_up_to_the_last_iteration_only():
    # 25 iterations in calls of 10 from iteration 0: fit() reports batches 9, 19 and 29.
    assert [training.iteration_after(batch, 0, 25) for batch in (9, 19, 29)] == [10, 20, 25]
    assert training.iteration_after(9, 30, 100) == 40


class WeightsBecomeNaNAt(DivergesAt):
    """Finite losses, but the update of the chosen iteration leaves a NaN weight."""

    def train_step(self, data):
        self.steps.assign_add(1.0)
        kernel = self.network.kernel
        kernel.assign(tf.where(self.steps >= self.diverging_iteration, np.nan, kernel.value))
        return {"loss": tf.constant(1.0)}


def test_non_finite_weights_are_never_checkpointed(tmp_path):
    kept = train_stand_in_until_it_diverges(WeightsBecomeNaNAt(3), tmp_path,
                                            r"diverged at iteration 4 \(non-finite weights\).*ckpt-2")
    assert kept == ["2"]


@pytest.mark.slow
def test_an_interrupted_run_saves_the_iterations_it_finished(tmp_path, monkeypatch, fresh_dgad):
    def interrupt_after_the_second_call(self, batch, logs=None):
        # fit() runs 10 steps per call here (checkpoints every 100, a progress line every 10).
        if batch == 19:
            raise KeyboardInterrupt

    monkeypatch.setattr(training.ProgressLog, "on_train_batch_end", interrupt_after_the_second_call)
    model = fresh_dgad()
    batches = training_batches(IMAGES, BATCH_SIZE, 0, 0, 30, training_inputs=model.training_inputs)
    with pytest.raises(KeyboardInterrupt):
        train_for_iterations(model, batches, Checkpoints(model, tmp_path), 30, checkpoint_every=100, log_every=10)
    assert Checkpoints(fresh_dgad(), tmp_path).restore_latest() == 20
