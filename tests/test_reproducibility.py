"""One seed, one result: a training repeats bit for bit on one machine, however busy its CPU is."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from utils.running.experiment import Experiment


def train_and_read_weights(experiment, class_index):
    checkpoint_folder = experiment.train_class(class_index)
    reader = tf.train.load_checkpoint(str(checkpoint_folder))
    weights = {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()
               if name.startswith("variables/")}
    # The next training starts from scratch (from the experiment's freshly initialised model).
    shutil.rmtree(checkpoint_folder)
    return weights


@pytest.mark.slow
def test_a_training_repeats_exactly_while_other_processes_load_every_core(tiny_config, digits, folders):
    # Without XLA, to keep CI short; XLA-compiled runs were checked the same way by hand (README).
    config = tiny_config(batch_size=16, iterations=10, checkpoint_every=10, **folders)
    experiment = Experiment(config, digits)
    quiet = train_and_read_weights(experiment, 3)
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 2)]
    try:
        busy = train_and_read_weights(experiment, 3)
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()
        experiment.close()
    assert quiet.keys() == busy.keys() and len(quiet) > 50
    for name, value in quiet.items():
        np.testing.assert_array_equal(busy[name], value, err_msg=name)
