"""Training by iterations with Keras fit(): progress, periodic checkpoints, resume, divergence stop.

The model's own train_step does the learning; this module only decides how long to run it and
what to keep. The model provides `iterations` (its step counter) and `checkpoint_objects()` (the
networks and optimisers). The input pipeline is a pure function of (seed, iteration), so
restoring those is enough to continue exactly where a run stopped.
"""

import math
import sys
import time

import keras
import tensorflow as tf


class TrainingDiverged(RuntimeError):
    """A loss or a weight became NaN or infinite; the last good checkpoint is kept."""


def make_checkpoint_manager(model: keras.Model, folder, max_to_keep: int = 2) -> tf.train.CheckpointManager:
    checkpoint = tf.train.Checkpoint(**model.checkpoint_objects())
    return tf.train.CheckpointManager(checkpoint, str(folder), max_to_keep=max_to_keep, checkpoint_name="ckpt")


def checkpoint_iteration(checkpoint_path: str) -> int:
    """Checkpoints are numbered by the iteration they were taken at: .../ckpt-<iteration>."""
    return int(checkpoint_path.rsplit("-", 1)[-1])


def restore_latest(manager: tf.train.CheckpointManager) -> int:
    """Restore the newest checkpoint if there is one; return the iteration it was taken at (0 if none)."""
    if manager.latest_checkpoint is None:
        return 0
    manager.checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
    return checkpoint_iteration(manager.latest_checkpoint)


def all_finite(variables) -> bool:
    return bool(tf.reduce_all([tf.reduce_all(tf.math.is_finite(variable)) for variable in variables
                               if tf.as_dtype(variable.dtype).is_floating]))


class StopOnNonFinite(keras.callbacks.Callback):
    """Stop at the first non-finite loss and remember where (runs before IterationCheckpoint)."""

    def __init__(self):
        super().__init__()
        self.diverged_at = None
        self.bad_values = None

    def on_train_batch_end(self, batch, logs=None):
        bad = {name: value for name, value in (logs or {}).items() if not math.isfinite(value)}
        if bad:
            self.diverged_at = int(self.model.iterations)
            self.bad_values = bad
            self.model.stop_training = True


class IterationCheckpoint(keras.callbacks.Callback):
    """Save every `every` iterations and at the last one, but never weights that are not finite.

    A step's losses are computed before its update, so finite losses do not prove finite weights:
    the weights themselves are checked before each save.
    """

    def __init__(self, manager, last_iteration: int, every: int):
        super().__init__()
        self.manager = manager
        self.last_iteration = last_iteration
        self.every = every
        self.refused_at = None

    def on_train_batch_end(self, batch, logs=None):
        iteration = int(self.model.iterations)
        if not self.model.stop_training and (iteration % self.every == 0 or iteration == self.last_iteration):
            self.save(iteration)

    def save(self, iteration: int):
        if not all_finite(self.model.variables):
            self.refused_at = iteration
            self.model.stop_training = True
            return
        latest = self.manager.latest_checkpoint
        if latest is None or checkpoint_iteration(latest) != iteration:
            self.manager.save(checkpoint_number=iteration)


class ProgressLog(keras.callbacks.Callback):
    """A progress bar with the losses on a terminal; elsewhere (CI, log files) a line every `log_every` steps."""

    def __init__(self, start_iteration: int, last_iteration: int, log_every: int = 100):
        super().__init__()
        self.start_iteration = start_iteration
        self.last_iteration = last_iteration
        self.log_every = log_every
        self.progress_bar = keras.utils.Progbar(last_iteration, width=20) if sys.stdout.isatty() else None

    def on_train_begin(self, logs=None):
        self.last_line = (self.start_iteration, time.perf_counter())

    def on_train_batch_end(self, batch, logs=None):
        iteration = self.start_iteration + batch + 1
        losses = (logs or {}).items()
        if self.progress_bar is not None:
            self.progress_bar.update(iteration, list(losses))
        elif iteration % self.log_every == 0 or iteration == self.last_iteration:
            previous_iteration, previous_time = self.last_line
            self.last_line = (iteration, time.perf_counter())
            rate = (iteration - previous_iteration) / (self.last_line[1] - previous_time)
            print(f"iteration {iteration}/{self.last_iteration} ({rate:.2f} it/s since the last line) "
                  + " ".join(f"{name} {value:.4f}" for name, value in losses), flush=True)


def train_for_iterations(model: keras.Model, batches: tf.data.Dataset, manager: tf.train.CheckpointManager,
                         iterations: int, checkpoint_every: int, log_every: int = 100) -> None:
    """Run model.train_step from model.iterations up to `iterations`.

    Raises TrainingDiverged (after keeping the last good checkpoint) if a loss or a weight stops
    being finite; on KeyboardInterrupt the finished steps are saved before the interrupt propagates.
    """
    start_iteration = int(model.iterations)
    divergence = StopOnNonFinite()
    checkpointing = IterationCheckpoint(manager, iterations, checkpoint_every)
    progress = ProgressLog(start_iteration, iterations, log_every)
    try:
        model.fit(batches, epochs=1, steps_per_epoch=iterations - start_iteration, shuffle=False, verbose=0,
                  callbacks=[divergence, checkpointing, progress])
    except KeyboardInterrupt:
        if divergence.diverged_at is None and int(model.iterations) > start_iteration:
            checkpointing.save(int(model.iterations))
        raise
    if divergence.diverged_at is not None or checkpointing.refused_at is not None:
        if divergence.diverged_at is not None:
            what = ", ".join(f"{name}={value}" for name, value in divergence.bad_values.items())
            where = divergence.diverged_at
        else:
            what, where = "non-finite weights", checkpointing.refused_at
        kept = manager.latest_checkpoint or "none (it diverged before the first checkpoint)"
        raise TrainingDiverged(f"training diverged at iteration {where} ({what}); last good checkpoint kept: "
                               f"{kept}. Try a lower --learning_rate or a different --seed, then run the same "
                               "command again to resume.")

