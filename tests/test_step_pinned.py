"""One training step of each method on a fixed batch, pinned to the values the code gave before the speed work.

Speed changes (kernels, layouts, where random draws are made, callbacks, distribution) must not change
the paper's math. The losses of the first two steps are pinned with Adam as trained; the weights after
one step are pinned with plain SGD, whose update is the gradient itself (Adam's first update is about
lr * sign(gradient), which hides the gradient's values). The golden values were computed at commit
d453c1b with tests/test_step_pinned.py's own code, without XLA.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from data.pipeline import training_batches
from utils.running.config import config_for_dataset
from utils.running.experiment import build_model

BATCH_SIZE = 8
# SGD's step size: large enough that the update moves the projections well above float32 rounding.
SGD_LEARNING_RATE = 0.1

GOLDEN = {
    "dgad": {
        "losses": [
            {"cmp": 0.06573844701051712, "d_adv": 2.042818784713745, "d_cls": 1.4239037036895752, "d_loss": 16.2818546295166, "g_adv": -0.010553089901804924, "g_cls": 2.8155953884124756, "g_loss": 46.854312896728516, "rec": 0.6067532896995544},
            {"cmp": 0.06501508504152298, "d_adv": 2.0232417583465576, "d_cls": 1.3868814706802368, "d_loss": 15.892056465148926, "g_adv": -0.009363394230604172, "g_cls": 2.7847161293029785, "g_loss": 46.65003204345703, "rec": 0.6155363321304321},
        ],
        "sgd_update_projection": -3.8945523615291275,
        "sgd_update_abs_sum": 1461.558349609375,
    },
    "adcgan": {
        "losses": [
            {"ae_loss": 0.6098642349243164, "d_adv": 0.6567191481590271, "d_loss": 2.5564260482788086, "d_nce": 6.3323564529418945, "dz_loss": 1.126814365386963, "e_latent": 0.6171307563781738, "g_adv": 0.73298180103302, "g_loss": 2.649102210998535, "g_nce": 6.3870673179626465},
            {"ae_loss": 0.6260536909103394, "d_adv": 0.6824655532836914, "d_loss": 2.561824321746826, "d_nce": 6.264528751373291, "dz_loss": 1.2668590545654297, "e_latent": 0.6068931818008423, "g_adv": 0.7066560983657837, "g_loss": 2.5856680870056152, "g_nce": 6.263372898101807},
        ],
        "sgd_update_projection": 6.158336028955052,
        "sgd_update_abs_sum": 499.603293181397,
    },
}


def pinned_model(method: str, optimizer=None):
    config = config_for_dataset("digits", method=method, width=4, batch_size=BATCH_SIZE, iterations=2,
                                jit_compile=False)
    model = build_model(config, (config.image_size, config.image_size, 1))
    if method == "adcgan":
        # The adversarial update runs from the first step.
        model.warmup_iterations.assign(0)
    if optimizer is not None:
        model.compile(**{name: optimizer() for name in model.optimizer_names}, jit_compile=False)
    return model, config


def step_losses(model, config, steps: int) -> list[dict]:
    images = tf.random.stateless_uniform((3 * BATCH_SIZE, config.image_size, config.image_size, 1), seed=[7, 7],
                                         minval=-1, maxval=1)
    kept = []

    class KeepLosses(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            kept.append({name: float(value) for name, value in logs.items()})

    batches = training_batches(images, BATCH_SIZE, 0, 0, steps, training_inputs=model.training_inputs)
    model.fit(batches, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False, callbacks=[KeepLosses()])
    return kept


def projection(arrays) -> float:
    """The arrays against fixed random directions: a number that moves with every element."""
    generator = np.random.default_rng(0)
    return float(sum(np.sum(array * generator.standard_normal(array.shape)) for array in arrays))


def pinned_values(method: str) -> dict:
    model, config = pinned_model(method)
    losses = step_losses(model, config, 2)
    model, config = pinned_model(method, lambda: keras.optimizers.SGD(SGD_LEARNING_RATE))
    initial = [variable.numpy() for variable in model.variables]
    step_losses(model, config, 1)
    # Every variable: the weights and spectral norm's power-iteration vectors.
    updates = [variable.numpy() - before for variable, before in zip(model.variables, initial, strict=True)]
    return {"losses": losses, "sgd_update_projection": projection(updates),
            "sgd_update_abs_sum": float(sum(np.abs(update).sum() for update in updates))}


@pytest.mark.slow
@pytest.mark.parametrize("method", list(GOLDEN))
def test_one_step_losses_and_updated_weights_match_the_pinned_values(method):
    values, golden = pinned_values(method), GOLDEN[method]
    for step, (losses, pinned) in enumerate(zip(values["losses"], golden["losses"], strict=True)):
        assert losses.keys() == pinned.keys()
        for name in losses:
            assert losses[name] == pytest.approx(pinned[name], rel=1e-4, abs=1e-5), (step, name)
    assert values["sgd_update_projection"] == pytest.approx(golden["sgd_update_projection"], rel=1e-3)
    assert values["sgd_update_abs_sum"] == pytest.approx(golden["sgd_update_abs_sum"], rel=1e-3)
