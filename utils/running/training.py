"""Training by iterations with Keras fit(): progress, periodic checkpoints, resume, divergence stop.

The model's own train_step does the learning; this module only decides how long to run it and
what to keep. The model provides `iterations_done()` (its step count) and `checkpoint_objects()`
(the networks and optimisers). The input pipeline is a pure function of (seed, iteration), so
restoring those is enough to continue exactly where a run stopped.
"""

import glob
import math
import os
import re
import sys
import time
import uuid
import warnings
from pathlib import Path
from typing import Callable

import keras
import tensorflow as tf

from utils.running.stopping import stop_requested, stoppable


class TrainingDiverged(RuntimeError):
    """A loss or a weight became NaN or infinite; the last good checkpoint is kept."""


UNREADABLE_FOLDER = "unreadable"
# Every this many iterations TensorBoard gets the losses: often enough for a curve, rarely enough to cost nothing.
TENSORBOARD_EVERY = 10
# Every this many iterations training prints a progress line (and TensorBoard gets the monitored values).
LOG_EVERY = 100
# The name the training time is saved under in a checkpoint.
TRAINING_SECONDS_KEY = "training_seconds/.ATTRIBUTES/VARIABLE_VALUE"
# What a damaged checkpoint raises: IndexError for a truncated data file, a plain OpError for an empty
# index, DataLossError for a damaged one, NotFoundError for a missing file.
_READ_ERRORS = (tf.errors.OpError, IndexError)
# These say nothing about the checkpoint (permissions, a network file system that is briefly away, a
# full memory): it must not be set aside for them.
_NOT_DAMAGE = (tf.errors.PermissionDeniedError, tf.errors.UnavailableError, tf.errors.AbortedError,
               tf.errors.ResourceExhaustedError, tf.errors.DeadlineExceededError, tf.errors.CancelledError)


def tensorflow_message(error: tf.errors.OpError) -> str:
    """error's message without TensorFlow's internals: the `{{function_node __wrapped__SaveV2...}}` it starts with
    and the `[Op:SaveV2]` it ends with."""
    message = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", error.message)
    return re.sub(r"\s*\[Op:[^\]]*\](\s*name:.*)?$", "", message.strip())


class NoReadableCheckpoint(RuntimeError):
    """No checkpoint of a folder can be read; their files are set aside, none is deleted."""


def checkpoint_iteration(checkpoint_path: str) -> int:
    """Checkpoints are numbered by the iteration they were taken at: .../ckpt-<iteration>."""
    return int(checkpoint_path.rsplit("-", 1)[-1])


class Checkpoints:
    """The checkpoints of one folder: the model's networks and optimisers, and the wall time spent training them.

    TensorFlow renames a checkpoint's data file into place but writes its index in place, and rewrites the
    `checkpoint` file that lists the checkpoints (atomically: a temporary file, then a rename) only once both
    are complete; so a crash mid-save leaves the previous checkpoint the latest. It does not fsync, though, so a
    power cut or a bad disk can still damage a listed checkpoint: restore_latest then falls back to an older one.
    """

    def __init__(self, model: keras.Model, folder, max_to_keep: int = 2):
        self.folder = Path(folder)
        self.max_to_keep = max_to_keep
        self.model_objects = model.checkpoint_objects()
        # Saved with each checkpoint, so a killed session loses only the time since its last checkpoint.
        self.seconds = tf.Variable(0.0, dtype=tf.float64, trainable=False)
        self.restored_seconds = 0.0
        self.manager = self._manager()

    def _manager(self) -> tf.train.CheckpointManager:
        checkpoint = tf.train.Checkpoint(**self.model_objects, training_seconds=self.seconds)
        return tf.train.CheckpointManager(checkpoint, str(self.folder), max_to_keep=self.max_to_keep,
                                          checkpoint_name="ckpt")

    @property
    def latest(self) -> str | None:
        return self.manager.latest_checkpoint

    @property
    def paths(self) -> list[str]:
        """The kept checkpoints, oldest first."""
        return self.manager.checkpoints

    @property
    def training_seconds(self) -> float | None:
        """Wall time spent training up to the latest checkpoint, every session included (None if not recorded)."""
        seconds = float(self.seconds.numpy())
        return seconds if math.isfinite(seconds) else None

    def save(self, iteration: int, session_seconds: float):
        """Save the model as of `iteration`, trained for the restored checkpoint's time plus session_seconds."""
        self.seconds.assign(self.restored_seconds + session_seconds)
        try:
            self.manager.save(checkpoint_number=iteration)
        except tf.errors.OpError as error:
            # A full disk reaches us as TensorFlow's error, not as the OSError the callers handle.
            raise OSError(f"cannot save a checkpoint in {self.folder}: {tensorflow_message(error)}") from error

    def restore_latest(self) -> int:
        """Restore the newest readable checkpoint; return the iteration it was taken at (0 if there is none).

        The files of a checkpoint that cannot be read go to <folder>/unreadable/ and the one before it is
        tried; raises NoReadableCheckpoint if none can be read.
        """
        unreadable = []
        for path in reversed(self.paths):
            try:
                seconds = self._restore(path)
            except _NOT_DAMAGE as error:
                raise OSError(f"cannot read checkpoint {path}: {tensorflow_message(error)}") from error
            except _READ_ERRORS as error:
                unreadable.append(path)
                self._set_aside(path)
                reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                print(f"warning: checkpoint {path} cannot be read ({reason}); its files are moved to "
                      f"{self.folder / UNREADABLE_FOLDER}; trying the one before it", flush=True)
                continue
            if unreadable:
                self._forget(unreadable)
            self.restored_seconds = seconds
            self.seconds.assign(seconds)
            return checkpoint_iteration(path)
        if unreadable:
            names = ", ".join(Path(path).name for path in unreadable)
            raise NoReadableCheckpoint(
                f"no checkpoint in {self.folder} can be read ({names}); their files are set aside in "
                f"{self.folder / UNREADABLE_FOLDER}. Delete {self.folder} to train this class again from the start")
        return 0

    def _restore(self, path: str) -> float:
        """Restore the model from one checkpoint; return the training time saved with it."""
        # The time is read on its own: the model's objects restore without it (expect_partial).
        tf.train.Checkpoint(**self.model_objects).restore(path).expect_partial().assert_existing_objects_matched()
        return float(tf.train.load_checkpoint(path).get_tensor(TRAINING_SECONDS_KEY))

    def _set_aside(self, path: str):
        aside = self.folder / UNREADABLE_FOLDER
        aside.mkdir(exist_ok=True)
        for file in Path(path).parent.glob(glob.escape(Path(path).name) + ".*"):
            destination = aside / file.name
            if destination.exists():
                destination = aside / f"{file.name}.{uuid.uuid4().hex[:8]}"
            os.replace(file, destination)

    def _forget(self, unreadable: list[str]):
        """Drop set-aside checkpoints from the `checkpoint` file, so that later saves and max_to_keep count
        only the checkpoints that are there."""
        state = tf.train.get_checkpoint_state(str(self.folder))
        kept = [(path, timestamp) for path, timestamp in zip(state.all_model_checkpoint_paths,
                                                              state.all_model_checkpoint_timestamps)
                if path not in unreadable]
        # Relative names, as the manager writes them, keep the folder movable.
        names = [os.path.basename(path) for path, _ in kept]
        # An absolute folder: with a relative one TensorFlow rewrites the names relative to it once more.
        tf.compat.v1.train.update_checkpoint_state(
            str(self.folder.absolute()), names[-1], names,
            all_model_checkpoint_timestamps=[timestamp for _, timestamp in kept],
            last_preserved_timestamp=state.last_preserved_timestamp)
        self.manager = self._manager()


def all_finite(variables) -> bool:
    return bool(tf.reduce_all([tf.reduce_all(tf.math.is_finite(variable)) for variable in variables
                               if tf.as_dtype(variable.dtype).is_floating]))


def steps_per_execution_for(start_iteration: int, *cadences: int) -> int:
    """The most training steps fit() may run in one call of its compiled loop, so that every iteration a
    callback acts on (a multiple of each cadence) ends a call.

    Between calls fit() hands the losses to the callbacks as Python floats, which waits for the step to
    finish before the next one is dispatched; inside a call the steps follow each other in the graph.
    """
    return math.gcd(start_iteration, *cadences)


def iteration_after(batch: int, start_iteration: int, last_iteration: int) -> int:
    """The iteration reached when fit() reports its `batch` (the last step of a call) done.

    Counted here rather than read from the model: reading model.iterations waits for the step. The
    last call may run fewer steps than the others (the batches run out), but fit() numbers it as full.
    """
    return min(start_iteration + batch + 1, last_iteration)


class StopOnRequest(keras.callbacks.Callback):
    """End fit() after a stop request (stopping.py); runs first, so that the callbacks after it, which check
    model.stop_training or stop_requested(), skip the call the request cut short: fit() numbers its steps as a
    full call's, not as the steps it ran."""

    def on_train_batch_end(self, batch, logs=None):
        if stop_requested():
            self.model.stop_training = True


def until_stopped(batches: tf.data.Dataset, stop: tf.Variable) -> tf.data.Dataset:
    """batches, ending once `stop` is set: a compiled call of several steps (steps_per_execution_for) takes
    one batch per step, so it returns after the step under way, not after its last one."""
    return batches.take_while(lambda *_: tf.logical_not(stop))


class StopOnNonFinite(keras.callbacks.Callback):
    """Stop at the first non-finite loss seen and remember where (runs before IterationCheckpoint).

    Callbacks see the losses of the last step of each execution (steps_per_execution_for), so a
    loss that turns NaN inside an execution is caught at its end: a NaN loss leaves NaN weights,
    whose losses are NaN too, and IterationCheckpoint checks the weights themselves before a save.
    """

    def __init__(self, start_iteration: int, last_iteration: int):
        super().__init__()
        self.start_iteration = start_iteration
        self.last_iteration = last_iteration
        self.diverged_at = None
        self.bad_values = None

    def on_train_batch_end(self, batch, logs=None):
        bad = {name: value for name, value in (logs or {}).items() if not math.isfinite(value)}
        if bad:
            self.diverged_at = iteration_after(batch, self.start_iteration, self.last_iteration)
            self.bad_values = bad
            self.model.stop_training = True


class IterationCheckpoint(keras.callbacks.Callback):
    """Save every `every` iterations and at the last one, but never weights that are not finite.

    A step's losses are computed before its update, so finite losses do not prove finite weights:
    the weights themselves are checked before each save.
    """

    def __init__(self, checkpoints: Checkpoints, start_iteration: int, last_iteration: int, every: int,
                 measuring: tuple[keras.callbacks.Callback, ...] = ()):
        super().__init__()
        self.checkpoints = checkpoints
        self.start_iteration = start_iteration
        self.last_iteration = last_iteration
        self.every = every
        # Callbacks that count, in `seconds`, time spent measuring rather than training (a learning curve).
        self.measuring = measuring
        self.refused_at = None
        self.started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        iteration = iteration_after(batch, self.start_iteration, self.last_iteration)
        if not self.model.stop_training and (iteration % self.every == 0 or iteration == self.last_iteration):
            self.save(iteration)

    def save(self, iteration: int):
        if not all_finite(self.model.variables):
            self.refused_at = iteration
            self.model.stop_training = True
            return
        latest = self.checkpoints.latest
        if latest is None or checkpoint_iteration(latest) != iteration:
            measured = sum(callback.seconds for callback in self.measuring)
            self.checkpoints.save(iteration, time.perf_counter() - self.started - measured)


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
        if stop_requested():
            return
        iteration = iteration_after(batch, self.start_iteration, self.last_iteration)
        losses = (logs or {}).items()
        if self.progress_bar is not None:
            self.progress_bar.update(iteration, list(losses))
        elif iteration % self.log_every == 0 or iteration == self.last_iteration:
            previous_iteration, previous_time = self.last_line
            self.last_line = (iteration, time.perf_counter())
            rate = (iteration - previous_iteration) / (self.last_line[1] - previous_time)
            print(f"iteration {iteration}/{self.last_iteration} ({rate:.2f} it/s since the last line) "
                  + " ".join(f"{name} {value:.4f}" for name, value in losses), flush=True)


class TensorBoardLog(keras.callbacks.Callback):
    """TensorBoard summaries in `folder`: the losses every `every` iterations, and every `image_every` and at
    the last iteration a grid of model.preview_images (one row per image, one column per named batch)."""

    def __init__(self, folder, preview_images: tf.Tensor, preview_seed: tf.Tensor, start_iteration: int,
                 last_iteration: int, image_every: int, every: int = TENSORBOARD_EVERY,
                 monitor: Callable[[keras.Model], dict] | None = None, monitor_every: int = LOG_EVERY):
        super().__init__()
        self.folder = Path(folder)
        self.preview_images = preview_images
        self.preview_seed = preview_seed
        self.start_iteration = start_iteration
        self.last_iteration = last_iteration
        self.image_every = image_every
        self.every = every
        self.monitor = monitor
        self.monitor_every = monitor_every
        self.writer = None

    @property
    def cadences(self) -> tuple[int, ...]:
        """How often it writes: the iterations it acts on are multiples of these (and the last)."""
        return (self.every, self.image_every) + ((self.monitor_every,) if self.monitor else ())

    def on_train_begin(self, logs=None):
        self.writer = tf.summary.create_file_writer(str(self.folder))

    def on_train_batch_end(self, batch, logs=None):
        if stop_requested():
            return
        iteration = iteration_after(batch, self.start_iteration, self.last_iteration)
        last = iteration == self.last_iteration
        losses_due = iteration % self.every == 0 or last
        grid_due = iteration % self.image_every == 0 or last
        monitor_due = self.monitor is not None and (iteration % self.monitor_every == 0 or last)
        if not (losses_due or grid_due or monitor_due):
            return
        with self.writer.as_default(step=iteration):
            if losses_due:
                for name, value in (logs or {}).items():
                    tf.summary.scalar(f"loss/{name}", value)
            if monitor_due:
                for name, value in self.monitor(self.model).items():
                    if value is not None:
                        tf.summary.scalar(f"monitor/{name}", value)
            if grid_due:
                named = self.model.preview_images(self.preview_images, self.preview_seed)
                tf.summary.image(" | ".join(named), preview_grid(list(named.values())), max_outputs=1)

    def on_train_end(self, logs=None):
        self.writer.close()


def preview_grid(batches: list[tf.Tensor]) -> tf.Tensor:
    """(1, B*H, n*W, C) in [0, 1]: the n batches of B images in [-1, 1] side by side, image i in row i."""
    rows = tf.concat(batches, axis=2)
    grid = tf.reshape(rows, (1, -1, *rows.shape[2:]))
    return tf.clip_by_value((grid + 1.0) / 2.0, 0.0, 1.0)


def train_for_iterations(model: keras.Model, batches: tf.data.Dataset, checkpoints: Checkpoints,
                         iterations: int, checkpoint_every: int, log_every: int = LOG_EVERY,
                         callbacks: tuple[keras.callbacks.Callback, ...] = ()) -> None:
    """Run model.train_step from model.iterations up to `iterations`, with `callbacks` (TensorBoardLog) too.

    Raises TrainingDiverged (after keeping the last good checkpoint) if a loss or a weight stops
    being finite. SIGTERM or Ctrl-C stops it after the step under way (stopping.py): the finished steps are
    saved, then KeyboardInterrupt is raised.
    """
    start_iteration = model.iterations_done()
    # A callback that does not say how often it acts may act on any iteration.
    cadences = [cadence for callback in callbacks for cadence in getattr(callback, "cadences", (1,))]
    steps_per_execution = steps_per_execution_for(start_iteration, checkpoint_every, log_every, *cadences)
    if model.distribute_strategy.num_replicas_in_sync > 1:
        # Keras 3.15's loop of several steps per call fails under a strategy with several replicas ("You
        # must feed a value for placeholder tensor"), even for a one-layer model.
        steps_per_execution = 1
    if model.steps_per_execution != steps_per_execution:
        # The compiled loop is traced again for the new count; a model keeps its count across classes.
        model.steps_per_execution = steps_per_execution
        model.train_function = None
    divergence = StopOnNonFinite(start_iteration, iterations)
    checkpointing = IterationCheckpoint(checkpoints, start_iteration, iterations, checkpoint_every,
                                        tuple(callback for callback in callbacks if hasattr(callback, "seconds")))
    progress = ProgressLog(start_iteration, iterations, log_every)
    stop = tf.Variable(False, trainable=False)
    if steps_per_execution > 1:
        batches = until_stopped(batches, stop)
    try:
        with stoppable(lambda: stop.assign(True)), warnings.catch_warnings():
            # A stop request between two calls ends the input before the next call's first step.
            warnings.filterwarnings("ignore", message="Your input ran out of data")
            model.fit(batches, epochs=1, steps_per_epoch=iterations - start_iteration, shuffle=False, verbose=0,
                      callbacks=[StopOnRequest(), divergence, checkpointing, progress, *callbacks])
    except KeyboardInterrupt:
        if divergence.diverged_at is None and model.iterations_done() > start_iteration:
            checkpointing.save(model.iterations_done())
        raise
    if stop_requested() and divergence.diverged_at is None:
        if model.iterations_done() > start_iteration:
            checkpointing.save(model.iterations_done())
        raise KeyboardInterrupt
    if divergence.diverged_at is not None or checkpointing.refused_at is not None:
        if divergence.diverged_at is not None:
            what = ", ".join(f"{name}={value}" for name, value in divergence.bad_values.items())
            where = divergence.diverged_at
        else:
            what, where = "non-finite weights", checkpointing.refused_at
        kept = checkpoints.latest or "none (it diverged before the first checkpoint)"
        raise TrainingDiverged(f"training diverged at iteration {where} ({what}); last good checkpoint kept: "
                               f"{kept}. Runs repeat exactly, so the same command would diverge there again: train a "
                               "separate run with a lower --learning_rate (and a new --run_name) or another --seed")

