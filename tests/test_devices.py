"""--precision and --distribute (utils/running/devices.py): the layers' dtype, loss scaling, the run name and the
strategy's errors. A distributed step against the single-device step: tests/test_distributed.py."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from models.detector_model import CountingLossScaleOptimizer
from utils.running import devices
from utils.running.config import Config
from utils.running.experiment import build_model
from utils.running.training import Checkpoints

IMAGE_SHAPE = (32, 32, 1)
STEPS = 3
COMPUTE_DTYPES = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}


def trained(config, steps: int = STEPS):
    """The model of `config` after `steps` steps, and the losses of a further eager step."""
    model = build_model(config, IMAGE_SHAPE)
    if config.method == "adcgan":
        model.warmup_iterations.assign(1)
    images = tf.random.stateless_uniform((2 * config.batch_size, *IMAGE_SHAPE), seed=[3, 3], minval=-1, maxval=1)
    from data.pipeline import training_batches
    model.fit(training_batches(images, config.batch_size, 0, 0, steps, training_inputs=model.training_inputs),
              epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False)
    logs = model.train_step(model.training_inputs(images[:config.batch_size], tf.constant([1, 2], tf.int64)))
    return model, images, logs


@pytest.mark.slow
# float32 is every other test's policy; AD-CGAN's layers take the policy by the same code as DGAD's, and its
# four optimisers get the loss-scale wrapper that only float16 has.
@pytest.mark.parametrize("method, precision", [("dgad", "mixed_float16"), ("dgad", "mixed_bfloat16"),
                                               ("adcgan", "mixed_float16")])
def test_a_few_steps_under_16_bit_policies_compute_in_their_dtype_with_float32_losses_and_scores(
        tiny_config, sublayers, tmp_path, method, precision):
    config = tiny_config(method, precision=precision)
    model, images, logs = trained(config)
    assert keras.config.dtype_policy().name == "float32"  # the policy did not leak out of build_model
    layers = sublayers(model)
    convolutions = [layer for layer in layers if isinstance(layer, keras.layers.Conv2D)]
    assert convolutions and all(layer.compute_dtype == COMPUTE_DTYPES[precision] for layer in convolutions)
    assert all(variable.dtype == "float32" for variable in model.trainable_variables)
    # Spectral norm writes W / sigma into the kernel: in float32, or the kernel is rounded to 16 bits.
    kernels = [layer.kernel.numpy() for layer in layers if isinstance(layer, keras.layers.SpectralNormalization)]
    assert kernels and any((kernel.astype(np.float16).astype(np.float32) != kernel).any() for kernel in kernels)
    assert all(value.dtype == tf.float32 and np.isfinite(value.numpy()) for value in logs.values())
    loss_scaled = [isinstance(optimizer, CountingLossScaleOptimizer) for optimizer in model.named_optimizers.values()]
    assert all(loss_scaled) if precision == "mixed_float16" else not any(loss_scaled)
    # The eager step counts too: loss-scale optimisers count the steps they skip for overflowed gradients.
    assert int(model.iterations) == STEPS + 1

    scores = (model.reconstruction_errors(images) if method == "dgad"
              else model.score_terms(images, tf.constant([0, 7], tf.int64)))
    assert all(value.dtype == tf.float32 and np.isfinite(value.numpy()).all() for value in scores.values())

    Checkpoints(model, tmp_path).save(int(model.iterations), 1.0)
    restored = build_model(config, IMAGE_SHAPE)
    assert Checkpoints(restored, tmp_path).restore_latest() == STEPS + 1
    saved = [variable for optimizer in model.named_optimizers.values() for variable in optimizer.variables]
    loaded = [variable for optimizer in restored.named_optimizers.values() for variable in optimizer.variables]
    assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(saved + model.variables,
                                                                     loaded + restored.variables, strict=True))


def test_precision_names_the_run_and_changes_its_training():
    assert Config(precision="mixed_bfloat16").run_id == Config().run_id + "-mixed_bfloat16"
    assert Config(precision="mixed_float16").training_differences(Config().to_dict()) == [
        "precision: saved 'float32', now 'mixed_float16'"]
    with pytest.raises(ValueError, match="unknown precision 'float8'"):
        Config(precision="float8")


def test_multi_worker_without_tf_config_names_the_fix(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG.*set it on every worker"):
        devices.distribution_strategy("multi_worker")
