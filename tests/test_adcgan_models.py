"""AD-CGAN's networks (Table 2) and its training and scoring steps."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from models.adcgan.model import ADCGAN
from models.adcgan.networks import Critic, Encoder, Generator, LatentDiscriminator
from models.method import Schedule
from models.registry import get_method

IMAGE_SHAPE = (32, 32, 1)
LATENT_SIZE = 8
WIDTH = 4


@pytest.fixture
def tiny_adcgan(fresh_model):
    """tiny_adcgan(warmup_iterations=0, **settings): the model as build_model makes it, prepared for a class
    whose schedule starts with warmup_iterations autoencoder-only steps."""
    def make(warmup_iterations=0, **settings):
        model = fresh_model(IMAGE_SHAPE, "adcgan", latent_size=LATENT_SIZE, **settings)
        get_method("adcgan").start_class(model, Schedule(10, warmup_iterations))
        return model
    return make


def training_batch(step=0, batch_size=4):
    images = tf.random.stateless_uniform((batch_size, *IMAGE_SHAPE), seed=[4, 4], minval=-1, maxval=1)
    return images, tf.constant([0, step], tf.int64)


def snapshot(network):
    return [variable.numpy() for variable in network.variables]


def changed(before, network):
    """For each variable of the network: did it change since the snapshot?"""
    return [not np.array_equal(old, new.numpy()) for old, new in zip(before, network.variables, strict=True)]


@pytest.mark.parametrize("image_shape, local_size", [((32, 32, 3), 8), ((32, 32, 1), 8), ((28, 28, 1), 7),
                                                     ((64, 64, 3), 8)])
def test_network_shapes_and_output_ranges(image_shape, local_size):
    images = tf.random.stateless_uniform((2, *image_shape), seed=[1, 1], minval=-1, maxval=1)
    latents = Encoder(image_shape, LATENT_SIZE, WIDTH)(images)
    assert latents.shape == (2, LATENT_SIZE)
    generated = Generator(image_shape, WIDTH)(10.0 * tf.random.stateless_normal((2, LATENT_SIZE), seed=[2, 2]))
    assert generated.shape == images.shape
    assert float(tf.reduce_max(tf.abs(generated))) <= 1.0
    critic = Critic(image_shape, WIDTH)
    outputs = critic(images)
    assert outputs["logits"].shape == (2,)
    assert outputs["local_features"].shape[:3] == (2, local_size, local_size)
    assert outputs["global_features"].shape == outputs["penultimate_features"].shape == (2, 8 * WIDTH)
    local_projection, global_projection = critic.project(outputs)
    assert local_projection.shape == (2, local_size, local_size, 8 * WIDTH)
    assert global_projection.shape == (2, 8 * WIDTH)
    assert LatentDiscriminator(WIDTH)((latents, latents)).shape == (2,)


def count_layers(network, sublayers, exclude=()):
    """Conv2D, Conv2DTranspose and Dense layers in a network, leaving out those of `exclude`."""
    excluded = {id(layer) for part in exclude for layer in [part, *sublayers(part)]}
    layers = [layer for layer in sublayers(network) if id(layer) not in excluded]
    return tuple(sum(type(layer) is kind for layer in layers)
                 for kind in (keras.layers.Conv2D, keras.layers.Conv2DTranspose, keras.layers.Dense))


# Paper Table 2, as (Conv, Deconv, Linear) per network.
TABLE_2 = {
    (32, 32, 3): {"encoder": (5, 0, 0), "generator": (3, 4, 0), "critic": (6, 0, 2), "latent_discriminator": (0, 0, 3)},
    (28, 28, 1): {"encoder": (5, 0, 0), "generator": (2, 4, 0), "critic": (4, 0, 2), "latent_discriminator": (0, 0, 3)},
    (64, 64, 3): {"encoder": (5, 0, 0), "generator": (2, 5, 0), "critic": (6, 0, 2), "latent_discriminator": (0, 0, 3)},
}
TABLE_2[(32, 32, 1)] = TABLE_2[(28, 28, 1)]  # our pipeline zero-pads (F)MNIST to 32x32


@pytest.mark.parametrize("image_shape", list(TABLE_2))
def test_layer_counts_match_table_2(image_shape, sublayers):
    model = ADCGAN(image_shape, latent_size=LATENT_SIZE, width=WIDTH)
    counts = {
        "encoder": count_layers(model.encoder, sublayers),
        "generator": count_layers(model.generator, sublayers),
        # The projection heads belong to the contrastive loss, not to Table 2's critic.
        "critic": count_layers(model.critic, sublayers,
                               exclude=(model.critic.local_projection, model.critic.global_projection)),
        "latent_discriminator": count_layers(model.latent_discriminator, sublayers),
    }
    assert counts == TABLE_2[image_shape]


def test_unsupported_image_shapes_are_refused():
    with pytest.raises(ValueError, match=r"28x28x1, 32x32x1, 32x32x3 and 64x64x3 .* got \(64, 64, 1\)"):
        ADCGAN((64, 64, 1), width=WIDTH)


def test_critic_and_latent_discriminator_are_spectrally_normalised_and_the_rest_is_not(tiny_adcgan, sublayers):
    model = tiny_adcgan()
    for network in (model.critic, model.latent_discriminator):
        layers = sublayers(network)
        weighted = {id(layer) for layer in layers if type(layer) in (keras.layers.Conv2D, keras.layers.Dense)}
        wrapped = {id(layer.layer) for layer in layers if isinstance(layer, keras.layers.SpectralNormalization)}
        assert weighted and wrapped == weighted
    for network in (model.encoder, model.generator):
        assert not any(isinstance(layer, keras.layers.SpectralNormalization) for layer in sublayers(network))


def test_the_generator_is_the_autoencoders_decoder(tiny_adcgan):
    model = tiny_adcgan(warmup_iterations=1)
    networks = (model.encoder, model.generator, model.critic, model.latent_discriminator)
    assert len(model.trainable_variables) == sum(len(network.trainable_variables) for network in networks)
    generator_variables = {id(variable) for variable in model.generator.trainable_variables}
    assert generator_variables <= {id(variable) for variable in model.autoencoder_variables}
    # An autoencoder-only (warm-up) step moves what the generator makes from noise.
    noise = tf.random.stateless_normal((2, LATENT_SIZE), seed=[3, 3])
    generated_before = model.generator(noise).numpy()
    model.train_step(model.training_inputs(*training_batch()))
    assert not np.allclose(model.generator(noise).numpy(), generated_before)


@pytest.mark.slow
def test_warmup_under_xla_updates_only_the_autoencoder_then_everything(tiny_adcgan):
    model = tiny_adcgan(warmup_iterations=1, jit_compile=True)
    assert model.jit_compile
    images, _ = training_batch()
    batches = tf.data.Dataset.from_tensor_slices((tf.stack([images, images]), tf.constant([[0, 0], [0, 1]], tf.int64)))
    batches = batches.map(model.training_inputs)
    networks = (model.encoder, model.generator, model.critic, model.latent_discriminator)
    before = [snapshot(network) for network in networks]

    def fit_one_step(batch):
        history = model.fit(batch, epochs=1, steps_per_epoch=1, shuffle=False, verbose=0).history
        return {name: values[-1] for name, values in history.items()}

    warmup_logs = fit_one_step(batches.take(1))
    encoder, generator, critic, latent_discriminator = (changed(old, network) for old, network in zip(before, networks))
    assert all(encoder) and all(generator)
    assert not any(critic) and not any(latent_discriminator)
    assert int(model.iterations) == 1
    assert [int(optimizer.iterations) for optimizer in
            (model.cgan_optimizer_g, model.cgan_optimizer_d, model.latent_optimizer)] == [0, 0, 0]
    assert warmup_logs["d_loss"] == 0.0 and np.isfinite(warmup_logs["ae_loss"])

    logs = fit_one_step(batches.skip(1))
    for old, network in zip(before, networks):
        assert all(changed(old, network)), network.name
    assert int(model.iterations) == 2
    assert [int(optimizer.iterations) for optimizer in
            (model.cgan_optimizer_g, model.cgan_optimizer_d, model.latent_optimizer)] == [1, 1, 1]
    assert all(np.isfinite(value) and value != 0.0 for value in logs.values()), logs


@pytest.mark.slow
def test_a_training_step_updates_every_variable_and_returns_finite_losses(tiny_adcgan):
    model = tiny_adcgan()
    networks = (model.encoder, model.generator, model.critic, model.latent_discriminator)
    before = [snapshot(network) for network in networks]
    logs = model.train_step(model.training_inputs(*training_batch()))
    assert set(logs) == {"ae_loss", "d_loss", "d_adv", "d_nce", "g_loss", "g_adv", "g_nce", "dz_loss", "e_latent"}
    assert all(np.isfinite(float(value)) for value in logs.values())
    for old, network in zip(before, networks):
        unchanged = [variable.path for variable, moved in zip(network.variables, changed(old, network)) if not moved]
        assert not unchanged, f"the step did not update {unchanged}"
    assert int(model.iterations) == 1


@pytest.mark.slow
def test_score_terms_are_reproducible_and_independent_of_batch_order(tiny_adcgan):
    model = tiny_adcgan()
    images, seed = training_batch(batch_size=3)
    terms = model.score_terms(images, seed)
    assert set(terms) == {"image_error", "feature_error", "encoded_error", "latent_error"}
    assert all(value.shape == (3,) for value in terms.values())
    again = model.score_terms(images, seed)
    for name in terms:
        np.testing.assert_array_equal(terms[name], again[name])
    # The random z is shared by the batch: reversing the batch reverses the terms.
    reversed_terms = model.score_terms(images[::-1], seed)
    for name in terms:
        np.testing.assert_allclose(reversed_terms[name][::-1], terms[name], rtol=1e-5, atol=1e-6)
    # Only L_FL depends on the seed.
    other_seed = model.score_terms(images, seed + 1)
    assert not np.allclose(other_seed["latent_error"], terms["latent_error"])
    for name in ("image_error", "feature_error", "encoded_error"):
        np.testing.assert_array_equal(other_seed[name], terms[name])
    reconstructions = model.generator(model.encoder(images))
    # The mean absolute error on the authors' [0, 1] scale: half of it on our [-1, 1] images.
    np.testing.assert_allclose(terms["image_error"], tf.reduce_mean(tf.abs(images - reconstructions), [1, 2, 3]) / 2,
                               rtol=1e-6)


def test_config_round_trip():
    model = ADCGAN((28, 28, 1), latent_size=6, width=2, alpha=0.2, beta=0.4, warmup_iterations=7, name="ad")
    rebuilt = ADCGAN.from_config(model.get_config())
    assert rebuilt.get_config() == model.get_config()
    assert [v.shape for v in rebuilt.variables] == [v.shape for v in model.variables]
    for network in (model.encoder, model.generator, model.critic, model.latent_discriminator):
        assert type(network).from_config(network.get_config()).get_config() == network.get_config()


@pytest.mark.slow
def test_checkpoint_round_trips_every_model_and_optimiser_variable(tmp_path, tiny_adcgan):
    trained = tiny_adcgan()
    trained.train_step(trained.training_inputs(*training_batch()))
    path = tf.train.Checkpoint(**trained.checkpoint_objects()).save(str(tmp_path / "ckpt"))
    restored = tiny_adcgan(seed=1)
    tf.train.Checkpoint(**restored.checkpoint_objects()).restore(path).assert_existing_objects_matched()

    def all_variables(model):
        optimizers = (model.cgan_optimizer_g, model.cgan_optimizer_d, model.autoencoder_optimizer,
                      model.latent_optimizer)
        return model.variables + [variable for optimizer in optimizers for variable in optimizer.variables]

    assert any("vector_u" in variable.path for variable in restored.variables)  # only a checkpoint restores them
    for expected, actual in zip(all_variables(trained), all_variables(restored), strict=True):
        np.testing.assert_array_equal(actual.numpy(), expected.numpy(), err_msg=actual.path)
    assert int(restored.iterations) == 1
