"""Training steps of each method on fixed global batches, on one device and under a tf.distribute strategy.

Run by tests/test_distributed.py in fresh processes, because the devices must be set up before TensorFlow starts:

    python tests/distributed_step.py mirrored OUTPUT.json         # 2 logical CPU devices, both strategies
    python tests/distributed_step.py multi_worker OUTPUT.json     # one worker of TF_CONFIG's cluster

OUTPUT.json gets, per method (both under mirrored, DGAD under multi_worker), the largest difference between the two runs' losses, and the variables (weights,
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
# AD-CGAN's first step is a warm-up (no adversarial updates) and its second adversarial: both branches of its
# step. DGAD's step has one branch; its second step turns the first's rounding differences (a bias before
# instance norm, whose true gradient is 0) into differences beyond the tolerance.
STEPS = {"dgad": 1, "adcgan": 2}
# Both methods' steps under the mirrored strategy; across worker processes DGAD's alone, since what that adds (the
# collectives between processes) does not depend on the method, and each method costs the test half a minute.
METHODS = {"mirrored": ("dgad", "adcgan"), "multi_worker": ("dgad",)}
# SGD moves a weight by lr * gradient, so a gradient summed over the replicas without the 1/replicas weight
# shows in the weights; Adam's first updates are about lr * sign(gradient) and would hide it.
SGD = functools.partial(keras.optimizers.SGD, 0.01, momentum=0.9)
# Every variable's copies against the single-device run, as in np.allclose.
RTOL, ATOL = 1e-4, 1e-5


def run(method: str, distribute: str) -> tuple[list[dict], list[tuple[str, list]], list[bool]]:
    """(each step's losses, every variable's (path, copies), whether each trainable variable moved beyond
    the tolerance) after the STEPS of `method` with SGD under `distribute`."""
    from data.pipeline import training_batches
    from utils.running.config import config_for_dataset
    from utils.running.experiment import build_model

    config = config_for_dataset("digits", method=method, width=4, batch_size=GLOBAL_BATCH, iterations=STEPS[method],
                                jit_compile=False, distribute=distribute)
    model = build_model(config, (config.image_size, config.image_size, 1))
    strategy = devices.distribution_strategy(distribute)
    with strategy.scope():
        model.compile(**{name: SGD() for name in model.optimizer_names}, jit_compile=False)
    if method == "adcgan":
        model.warmup_iterations.assign(1)
    images = tf.random.stateless_uniform((3 * GLOBAL_BATCH, config.image_size, config.image_size, 1), seed=[7, 7],
                                         minval=-1, maxval=1)
    initial = [np.asarray(variable) for variable in model.trainable_variables]
    losses = []
    model.fit(training_batches(images, GLOBAL_BATCH, 0, 0, STEPS[method], training_inputs=model.training_inputs),
              epochs=1, steps_per_epoch=STEPS[method], verbose=0, shuffle=False,
              callbacks=[tf.keras.callbacks.LambdaCallback(
                  on_train_batch_end=lambda batch, logs: losses.append({k: float(v) for k, v in logs.items()}))])
    optimizers = [model.named_optimizers[name] for name in model.optimizer_names]
    variables = model.variables + [variable for optimizer in optimizers for variable in optimizer.variables]
    moved = [not np.allclose(variable, before, rtol=RTOL, atol=ATOL)
             for variable, before in zip(model.trainable_variables, initial, strict=True)]
    return losses, [(variable.path, [np.asarray(copy) for copy in strategy.experimental_local_results(variable.value)])
                    for variable in variables], moved


def differences(method: str, distributed: tuple, replicas: int) -> dict:
    """The largest difference of the losses of the STEPS `distributed` took and the variables that differ,
    against the same steps on one device; and how many of its trainable variables the steps moved, each of which
    would differ if the replicas' gradients were summed without their weight."""
    losses, variables, _ = distributed
    single_losses, single_variables, moved = run(method, "none")
    loss_difference = max(abs(step[name] - single[name]) for step, single in zip(losses, single_losses, strict=True)
                          for name in single)
    # A bias before instance norm has a true gradient of 0 and values of rounding noise (1e-7): ATOL covers it.
    mismatched = [path for (path, copies), (_, single) in zip(variables, single_variables, strict=True)
                  for copy in copies if not np.allclose(copy, single[0], rtol=RTOL, atol=ATOL)]
    largest = max(float(np.max(np.abs(copy - single[0]))) for (_, copies), (_, single)
                  in zip(variables, single_variables, strict=True) for copy in copies if copy.size)
    return {"losses": loss_difference, "mismatched_variables": mismatched, "largest_variable_difference": largest,
            "replicas": replicas, "local_copies": len(variables[0][1]), "variables": len(variables),
            "moved_trainable_variables": sum(moved), "trainable_variables": len(moved)}


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
    replicas = devices.distribution_strategy(distribute).num_replicas_in_sync
    distributed = {method: run(method, distribute) for method in METHODS[distribute]}
    loop_checkpoints = checkpoints_of_the_training_loop(distribute)
    # The other workers took part in the distributed steps; the chief compares them with one device's.
    if json.loads(os.environ.get("TF_CONFIG", "{}")).get("task", {}).get("index", 0) != 0:
        return
    results = {method: differences(method, steps, replicas) for method, steps in distributed.items()}
    results["training_loop_checkpoints"] = loop_checkpoints
    if distribute == "mirrored":
        from utils.running.config import config_for_dataset
        try:
            devices.start(config_for_dataset("digits", batch_size=7, distribute=distribute))
        except ValueError as error:
            results["odd_batch_error"] = str(error)
    with open(output, "w") as file:
        json.dump(results, file)


if __name__ == "__main__":
    main(*sys.argv[1:])
