"""TensorBoard: the losses and the preview grid land in the event file, and writing them changes no weight."""

import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from data.pipeline import training_batches
from models.registry import METHODS
from utils.running.training import Checkpoints, TensorBoardLog, preview_grid, train_for_iterations

IMAGE_SHAPE, BATCH_SIZE, ITERATIONS = (32, 32, 1), 8, 4
IMAGES = tf.random.stateless_uniform((16, *IMAGE_SHAPE), seed=[5, 5], minval=-1, maxval=1)
SEED = tf.constant([0, 8], tf.int64)


def train(model, folder, callbacks=()):
    batches = training_batches(IMAGES, BATCH_SIZE, 0, 0, ITERATIONS, training_inputs=model.training_inputs)
    train_for_iterations(model, batches, Checkpoints(model, folder),
                         ITERATIONS, checkpoint_every=ITERATIONS, callbacks=callbacks)
    return [variable.numpy() for variable in model.variables]


@pytest.mark.slow
# Eager steps: the two trainings run different steps per fit() call, and tracing each costs more than its steps.
# That the compiled loop trains alike at any steps per call: tests/test_training.py (a resumed run).
@pytest.mark.usefixtures("eager_functions")
@pytest.mark.parametrize("method", list(METHODS))
def test_tensorboard_logs_losses_and_the_preview_grid_without_changing_training(method, fresh_model, tmp_path):
    without = train(fresh_model(IMAGE_SHAPE, method), tmp_path / "without")
    model = fresh_model(IMAGE_SHAPE, method)
    log = TensorBoardLog(tmp_path / "tensorboard", IMAGES[:3], SEED, 0, ITERATIONS, image_every=2, every=1)
    with_log = train(model, tmp_path / "with", (log,))
    for expected, actual in zip(without, with_log, strict=True):
        np.testing.assert_array_equal(actual, expected)

    events = EventAccumulator(str(tmp_path / "tensorboard"), size_guidance={"tensors": 0}).Reload()
    tags = events.Tags()["tensors"]
    losses = [tag for tag in tags if tag.startswith("loss/")]
    assert losses and all([event.step for event in events.Tensors(tag)] == [1, 2, 3, 4] for tag in losses)
    (grid_tag,) = [tag for tag in tags if not tag.startswith("loss/")]
    named = model.preview_images(IMAGES[:3], SEED)
    assert grid_tag == " | ".join(named)
    assert [event.step for event in events.Tensors(grid_tag)] == [2, 4]
    # An image summary holds the width, the height and the PNG.
    width, height, png = tf.make_ndarray(events.Tensors(grid_tag)[-1].tensor_proto)
    assert (int(width), int(height)) == (32 * len(named), 32 * 3)
    assert tf.io.decode_png(png).shape == (32 * 3, 32 * len(named), 1)


def test_the_preview_grid_puts_each_image_in_its_row_and_each_batch_in_its_column():
    first = tf.fill((2, 3, 4, 1), -1.0)
    second = tf.concat([tf.fill((1, 3, 4, 1), 1.0), tf.fill((1, 3, 4, 1), 0.0)], 0)
    grid = preview_grid([first, second]).numpy()
    assert grid.shape == (1, 6, 8, 1)
    np.testing.assert_array_equal(grid[0, :, :4], 0.0)
    np.testing.assert_array_equal(grid[0, :3, 4:], 1.0)
    np.testing.assert_array_equal(grid[0, 3:, 4:], 0.5)
