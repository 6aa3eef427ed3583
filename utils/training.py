"""Training by iterations with Keras fit(): progress, periodic checkpoints, resume, divergence stop.

The model's own train_step does the learning; this module only decides how long to run it and
what to keep. A checkpoint holds the networks, both optimisers (whose step counter is the
iteration count) and nothing else: the input pipeline is a pure function of (seed, iteration),
so restoring the weights and the counter is enough to continue exactly where a run stopped.
"""

import math
import sys
import time

import keras
import tensorflow as tf


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; the last good checkpoint is kept."""


def make_checkpoint_manager(model: keras.Model, folder, max_to_keep: int = 2) -> tf.train.CheckpointManager:
    """Tracks every network and optimiser of the model (its public Keras layer and optimiser attributes)."""
    trackables = {name: value for name, value in vars(model).items()
                  if isinstance(value, (keras.layers.Layer, keras.optimizers.Optimizer)) and not name.startswith("_")}
    checkpoint = tf.train.Checkpoint(**trackables)
    return tf.train.CheckpointManager(checkpoint, str(folder), max_to_keep=max_to_keep, checkpoint_name="ckpt")


def restore_latest(manager: tf.train.CheckpointManager) -> int:
    """Restore the newest checkpoint if there is one; return the iteration it was taken at (0 if none)."""
    if manager.latest_checkpoint is None:
        return 0
    manager.checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
    return checkpoint_iteration(manager.latest_checkpoint)


def checkpoint_iteration(checkpoint_path: str) -> int:
    """Checkpoints are numbered by the iteration they were taken at: .../ckpt-<iteration>."""
    return int(checkpoint_path.rsplit("-", 1)[-1])


class StopOnNonFinite(keras.callbacks.Callback):
    """Stop at the first non-finite loss and remember where (runs before IterationCheckpoint)."""

    def __init__(self, start_iteration: int):
        super().__init__()
        self.start_iteration = start_iteration
        self.diverged_at = None

    def on_train_batch_end(self, batch, logs=None):
        bad = {name: value for name, value in (logs or {}).items() if not math.isfinite(value)}
        if bad:
            self.diverged_at = self.start_iteration + batch + 1
            self.bad_losses = bad
            self.model.stop_training = True


class IterationCheckpoint(keras.callbacks.Callback):
    """Save every `every` iterations and at the last one, unless training has just diverged."""

    def __init__(self, manager, start_iteration: int, last_iteration: int, every: int):
        super().__init__()
        self.manager = manager
        self.start_iteration = start_iteration
        self.last_iteration = last_iteration
        self.every = every
        self.iteration = start_iteration

    def on_train_batch_end(self, batch, logs=None):
        if self.model.stop_training:
            return
        self.iteration = self.start_iteration + batch + 1
        if self.iteration % self.every == 0 or self.iteration == self.last_iteration:
            self.manager.save(checkpoint_number=self.iteration)

    def save_now(self):
        """Called on interruption: keep the steps done since the last periodic save."""
        latest = self.manager.latest_checkpoint
        if latest is None or checkpoint_iteration(latest) != self.iteration:
            self.manager.save(checkpoint_number=self.iteration)


class ProgressLog(keras.callbacks.Callback):
    """A progress bar with the losses on a terminal; elsewhere (CI, log files) a line every `log_every` steps."""

    def __init__(self, start_iteration: int, last_iteration: int, log_every: int = 100):
        super().__init__()
        self.start_iteration = start_iteration
        self.last_iteration = last_iteration
        self.log_every = log_every
        self.progress_bar = keras.utils.Progbar(last_iteration, width=20) if sys.stdout.isatty() else None

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        iteration = self.start_iteration + batch + 1
        losses = (logs or {}).items()
        if self.progress_bar is not None:
            self.progress_bar.update(iteration, list(losses))
        elif iteration % self.log_every == 0 or iteration == self.last_iteration:
            rate = (batch + 1) / (time.perf_counter() - self.started)
            print(f"iteration {iteration}/{self.last_iteration} ({rate:.2f} it/s) "
                  + " ".join(f"{name} {value:.4f}" for name, value in losses), flush=True)


def train_for_iterations(model: keras.Model, batches: tf.data.Dataset, manager: tf.train.CheckpointManager,
                         start_iteration: int, iterations: int, checkpoint_every: int, log_every: int = 100) -> float:
    """Run model.train_step from start_iteration to iterations; return the wall time in seconds.

    Raises TrainingDiverged (after keeping the last good checkpoint) if a loss stops being finite;
    on KeyboardInterrupt the finished steps are saved before the interrupt propagates.
    """
    remaining = iterations - start_iteration
    divergence = StopOnNonFinite(start_iteration)
    checkpointing = IterationCheckpoint(manager, start_iteration, iterations, checkpoint_every)
    started = time.perf_counter()
    try:
        model.fit(batches, epochs=1, steps_per_epoch=remaining, shuffle=False, verbose=0,
                  callbacks=[divergence, checkpointing, ProgressLog(start_iteration, iterations, log_every)])
    except KeyboardInterrupt:
        if divergence.diverged_at is None and checkpointing.iteration > start_iteration:
            checkpointing.save_now()
        raise
    if divergence.diverged_at is not None:
        losses = ", ".join(f"{name}={value}" for name, value in divergence.bad_losses.items())
        kept = manager.latest_checkpoint or "none (it diverged before the first checkpoint)"
        raise TrainingDiverged(f"training diverged at iteration {divergence.diverged_at} ({losses}); "
                               f"last good checkpoint kept: {kept}. Try a lower --learning_rate or a "
                               f"different --seed, then run the same command again to resume.")
    return time.perf_counter() - started
