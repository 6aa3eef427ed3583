"""Training steps of each method on fixed global batches, on one device and under a tf.distribute strategy.

Run by tests/test_distributed.py in fresh processes, because the devices must be set up before TensorFlow starts:

    python tests/distributed_step.py mirrored OUTPUT.json         # 2 logical CPU devices, both strategies
    python tests/distributed_step.py multi_worker OUTPUT.json     # one worker of TF_CONFIG's cluster

OUTPUT.json gets, per method, the largest difference between the two runs' losses, and the variables (weights,
spectral norm's u, the optimisers' slots and counters) of which a replica's copy differs beyond float tolerance;
and the checkpoints that the program's training loop writes under the strategy.
"""

import functools
import json
import os
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from utils.running import devices  # noqa: E402

GLOBAL_BATCH = 8
SGD = functools.partial(keras.optimizers.SGD, 0.1, momentum=0.9)
# Every variable's copies against the single-device run, as in np.allclose.
RTOL, ATOL = 1e-4, 1e-5


def run(method: str, distribute: str, steps: int, optimizer=None) -> tuple[list[dict], list[tuple[str, list]]]:
    """(each step's losses, every variable's (path, copies)) after `steps` steps of `method` under `distribute`,
    with its Adam optimisers or `optimizer()`."""
    from data.pipeline import training_batches
    from utils.running.config import config_for_dataset
    from utils.running.experiment import build_model

    config = config_for_dataset("digits", method=method, width=4, batch_size=GLOBAL_BATCH, iterations=steps,
                                jit_compile=False, distribute=distribute)
    model = build_model(config, (config.image_size, config.image_size, 1))
    strategy = devices.distribution_strategy(distribute)
    if optimizer is not None:
        with strategy.scope():
            model.compile(**{name: optimizer() for name in model.optimizer_names}, jit_compile=False)
    if method == "adcgan":
        # Steps after the first are adversarial: with two, the first skips the adversarial updates.
        model.warmup_iterations.assign(steps - 1)
    images = tf.random.stateless_uniform((3 * GLOBAL_BATCH, config.image_size, config.image_size, 1), seed=[7, 7],
                                         minval=-1, maxval=1)
    losses = []
    model.fit(training_batches(images, GLOBAL_BATCH, 0, 0, steps, training_inputs=model.training_inputs),
              epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False,
              callbacks=[tf.keras.callbacks.LambdaCallback(
                  on_train_batch_end=lambda batch, logs: losses.append({k: float(v) for k, v in logs.items()}))])
    optimizers = [model.named_optimizers[name] for name in model.optimizer_names]
    variables = model.variables + [variable for optimizer in optimizers for variable in optimizer.variables]
    return losses, [(variable.path, [np.asarray(copy) for copy in strategy.experimental_local_results(variable.value)])
                    for variable in variables]


def differences(method: str, distribute: str) -> dict:
    """The largest differences of the losses of two steps (Adam, as trained) and the variables after one step (SGD
    with momentum) that differ."""
    single_losses, _ = run(method, "none", 2)
    losses, _ = run(method, distribute, 2)
    loss_difference = max(abs(step[name] - single[name]) for step, single in zip(losses, single_losses, strict=True)
                          for name in single)
    # Adam's first updates are about lr * sign(gradient): a gradient of rounding noise (a bias before instance
    # norm, whose true gradient is 0) moves a weight by lr either way. SGD moves it by lr * gradient, and its
    # momentum slot holds the gradient itself. One step: SGD's large steps make a second one chaotic.
    _, single_variables = run(method, "none", 1, SGD)
    _, variables = run(method, distribute, 1, SGD)
    # A bias before instance norm has a true gradient of 0 and values of rounding noise (1e-7): ATOL covers it.
    mismatched = [path for (path, copies), (_, single) in zip(variables, single_variables, strict=True)
                  for copy in copies if not np.allclose(copy, single[0], rtol=RTOL, atol=ATOL)]
    largest = max(float(np.max(np.abs(copy - single[0]))) for (_, copies), (_, single)
                  in zip(variables, single_variables, strict=True) for copy in copies if copy.size)
    return {"losses": loss_difference, "mismatched_variables": mismatched, "largest_variable_difference": largest,
            "replicas": devices.distribution_strategy(distribute).num_replicas_in_sync,
            "local_copies": len(variables[0][1]), "variables": len(variables)}


def checkpoints_of_the_training_loop(distribute: str) -> list[str]:
    """The checkpoints that the program's training loop (several steps per fit() call asked for, checkpoints,
    the step count read back) writes for 4 DGAD iterations under `distribute`, checkpointing every 2."""
    from data.pipeline import training_batches
    from utils.running.config import config_for_dataset
    from utils.running.experiment import build_model
    from utils.running.training import Checkpoints, train_for_iterations

    config = config_for_dataset("digits", width=4, batch_size=GLOBAL_BATCH, iterations=4, jit_compile=False,
                                distribute=distribute)
    model = build_model(config, (config.image_size, config.image_size, 1))
    images = tf.zeros((GLOBAL_BATCH, config.image_size, config.image_size, 1))
    with tempfile.TemporaryDirectory() as folder:
        checkpoints = Checkpoints(model, folder)
        train_for_iterations(model, training_batches(images, GLOBAL_BATCH, 0, 0, 4,
                                                     training_inputs=model.training_inputs),
                             checkpoints, 4, checkpoint_every=2, log_every=2)
        return [os.path.basename(path) for path in checkpoints.paths]


def main(distribute: str, output: str):
    if distribute == "mirrored":
        devices.split_cpu(2)
    devices.distribution_strategy(distribute)
    results = {method: differences(method, distribute) for method in ("dgad", "adcgan")}
    results["training_loop_checkpoints"] = checkpoints_of_the_training_loop(distribute)
    if distribute == "mirrored":
        from utils.running.config import config_for_dataset
        try:
            devices.start(config_for_dataset("digits", batch_size=7, distribute=distribute))
        except ValueError as error:
            results["odd_batch_error"] = str(error)
    if json.loads(os.environ.get("TF_CONFIG", "{}")).get("task", {}).get("index", 0) == 0:
        with open(output, "w") as file:
            json.dump(results, file)


if __name__ == "__main__":
    main(*sys.argv[1:])
