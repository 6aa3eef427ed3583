"""Where and in what precision a model trains: the tf.distribute strategy of --distribute, the Keras policy of --precision.

--distribute mirrored replicates the model on every visible GPU (on a machine without one, on its
logical CPU devices: --cpu_devices N makes N of them, to try it); multi_worker replicates it over
the machines TF_CONFIG lists. --batch_size is the global batch: each of the R replicas trains on
batch_size / R of its images, and the models divide their losses by R so that the gradients Keras
sums over the replicas are those of the global batch (models/detector_model.py).

--precision mixed_float16 / mixed_bfloat16 computes the layers in 16 bits and keeps the variables,
the losses and the scores in float32.
"""

import contextlib
import functools
import os

import keras
import tensorflow as tf

DISTRIBUTIONS = ("none", "mirrored", "multi_worker")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


def split_cpu(count: int):
    """Present the CPU as `count` logical devices, so that --distribute mirrored can be tried without a GPU."""
    try:
        tf.config.set_logical_device_configuration(tf.config.list_physical_devices("CPU")[0],
                                                   [tf.config.LogicalDeviceConfiguration()] * count)
    except RuntimeError as error:
        raise ValueError(f"--cpu_devices must be set before TensorFlow starts ({error})") from error


@functools.cache
def distribution_strategy(distribute: str) -> tf.distribute.Strategy:
    """The strategy of --distribute, made once per process.

    Made before the data is read: MultiWorkerMirroredStrategy configures TensorFlow's collective ops,
    which cannot be done once TensorFlow has run an operation.
    """
    if distribute == "none":
        return tf.distribute.get_strategy()
    if distribute == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([device.name for device in devices])
    if "TF_CONFIG" not in os.environ:
        raise ValueError("--distribute multi_worker reads the workers from the TF_CONFIG environment variable, which "
                         "is not set; set it on every worker (README, 'Several devices and mixed precision')")
    return tf.distribute.MultiWorkerMirroredStrategy()


def start(config) -> tf.distribute.Strategy:
    """The strategy of config.distribute, once config.batch_size is known to split evenly over its replicas."""
    strategy = distribution_strategy(config.distribute)
    replicas = strategy.num_replicas_in_sync
    if config.batch_size % replicas:
        raise ValueError(f"--batch_size {config.batch_size} does not split over the {replicas} replicas of "
                         f"--distribute {config.distribute}; pass a multiple of {replicas}")
    return strategy


@contextlib.contextmanager
def precision_policy(precision: str):
    """Layers made inside compute in `precision`; the global policy is restored after, so nothing else sees it."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def keep_spectral_norm_in_float32(model: keras.Model):
    """Let every SpectralNormalization wrapper read its variables in float32; the layer it wraps computes in 16 bits.

    The wrapper computes W / sigma from the variables as it reads them and writes it into the float32
    kernel: read in 16 bits, the kernel would be rounded to 16 bits at every training step.
    """
    # Keras walks nested layers only privately; the networks keep theirs in attributes and lists.
    for layer in model._flatten_layers():
        if isinstance(layer, keras.layers.SpectralNormalization):
            layer.autocast = False
