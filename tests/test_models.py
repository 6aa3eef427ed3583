"""DGAD's networks (section 4.2) and its training step (Figure 3)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from models.dgad.model import DGAD
from models.dgad.networks import Decoder, Discriminator, Encoder
from models.dgad.pretext import LABEL_GROUPS, apply_transformation, label_size, scoring_transformations
from models.layers import PaddedConv2D
from utils.running.experiment import build_model


@pytest.mark.parametrize("size, channels, width", [(32, 3, 8), (32, 1, 4), (64, 1, 4)])
@pytest.mark.slow
def test_network_shapes_and_output_ranges(size, channels, width):
    images = tf.random.stateless_uniform((2, size, size, channels), seed=[1, 1], minval=-1, maxval=1)
    latents = Encoder(width)(images)
    assert latents.shape == (2, size // 4, size // 4, 2 * width)
    reconstructions = Decoder(width, channels)(latents)
    assert reconstructions.shape == images.shape
    assert float(tf.reduce_max(tf.abs(latents))) <= 1.0
    assert float(tf.reduce_max(tf.abs(reconstructions))) <= 1.0
    adversarial, classification = Discriminator(6, width)((images, latents))
    assert adversarial.shape == (2,) and classification.shape == (2, 6)


@pytest.mark.slow
def test_parameter_counts_at_the_paper_width():
    # The paper: about 8.9M for encoder + decoder and 3.5M for the discriminator (README, "Parameters").
    images = tf.zeros((1, 32, 32, 3))
    encoder, decoder, discriminator = Encoder(64), Decoder(64, 3), Discriminator(4, 64)
    latents = encoder(images)
    decoder(latents)
    discriminator((images, latents))
    assert encoder.count_params() + decoder.count_params() == 9_377_923
    assert discriminator.count_params() == 2_825_610
    # Fewer latent channels come closer to the paper's 8.9M (README, "The latent's channels").
    counts = {}
    for channels in (16, 32):
        encoder, decoder = Encoder(64, latent_channels=channels), Decoder(64, 3)
        decoder(encoder(images))
        counts[channels] = encoder.count_params() + decoder.count_params()
    assert counts == {16: 8_861_715, 32: 8_935_459}


def test_every_discriminator_layer_is_spectrally_normalised_and_the_generator_is_not(sublayers):
    images = tf.zeros((1, 16, 16, 1))
    encoder, discriminator = Encoder(4), Discriminator(4, 4)
    discriminator((images, encoder(images)))
    convolutions = [layer for layer in sublayers(discriminator) if isinstance(layer, PaddedConv2D)]
    assert len(convolutions) == 4 and all(layer.spectral_norm for layer in convolutions)
    for head in (discriminator.adversarial_head, discriminator.classification_head):
        assert isinstance(head, keras.layers.SpectralNormalization)
    assert not any(isinstance(layer, keras.layers.SpectralNormalization) for layer in sublayers(encoder))


def test_images_are_independent_of_their_batch_mates():
    # train_step concatenates (x_r, x_t, x^_t) into one batch; that is only sound without batch statistics.
    images = tf.random.stateless_uniform((3, 16, 16, 1), seed=[2, 2], minval=-1, maxval=1)
    keras.utils.set_random_seed(0)
    encoder = Encoder(4)
    # oneDNN picks kernels by batch size, so float32 rounding differs by ~1e-5; batch statistics
    # would change the outputs by orders of magnitude more.
    np.testing.assert_allclose(encoder(images)[:1], encoder(images[:1]), atol=1e-4)


@pytest.mark.slow
def test_padding_and_coordconv_reach_every_convolution(sublayers):
    encoder = Encoder(4, padding="zero", coordconv=True)
    encoder(tf.zeros((1, 16, 16, 1)))
    convolutions = [layer for layer in sublayers(encoder) if isinstance(layer, PaddedConv2D)]
    assert len(convolutions) == 1 + 2 + 3 * 2 + 1
    assert all(layer.padding == "zero" and layer.coordconv for layer in convolutions)


def test_network_configs_round_trip():
    for network in (Encoder(8, "zero", True), Decoder(8, 1, "zero", True), Discriminator(18, 8, "zero", True)):
        rebuilt = type(network).from_config(network.get_config())
        assert rebuilt.get_config() == network.get_config()


def test_the_latent_channels_and_the_sum_reading_reach_the_networks_and_the_score_parts(random_images):
    model = DGAD((8, 8, 1), width=2, latent_channels=3, l1_reading="sum")
    assert model.encoder.get_config()["latent_channels"] == 3
    assert model.get_config()["l1_reading"] == "sum"
    images = random_images(2, (8, 8, 1))
    reconstructions, latents, reconstruction_latents = model.reconstruct(images)
    assert latents.shape == (2, 2, 2, 3)
    errors = model.reconstruction_errors(images)
    np.testing.assert_allclose(errors["image_error"], tf.reduce_sum(tf.abs(images - reconstructions), [1, 2, 3]),
                               rtol=1e-6)
    np.testing.assert_allclose(errors["latent_error"],
                               tf.reduce_sum(tf.abs(latents - reconstruction_latents), [1, 2, 3]), rtol=1e-6)


# The digits' model images, as the session's other tiny DGADs: one build serves them all.
IMAGE_SHAPE = (32, 32, 1)


@pytest.fixture
def training_data(random_images):
    """training_data(batch_size=4): a batch of images and its step's seed, as training_batches draws from."""
    return lambda batch_size=4: (random_images(batch_size, IMAGE_SHAPE), tf.constant([0, 1], tf.int64))


@pytest.mark.parametrize("protocol", [1, 2, 3])
@pytest.mark.slow
def test_one_training_step_updates_all_three_networks(protocol, fresh_model, training_data):
    model = fresh_model(IMAGE_SHAPE, protocol=protocol)
    before = {network.name: [v.numpy() for v in network.trainable_variables]
              for network in (model.encoder, model.decoder, model.discriminator)}
    logs = model.train_step(model.training_inputs(*training_data()))
    assert set(logs) == {"d_loss", "d_adv", "d_cls", "g_loss", "g_adv", "g_cls", "rec", "cmp"}
    assert all(np.isfinite(float(value)) for value in logs.values())
    # While every real and fake logit is inside the hinge margin (-1, 1), as at initialisation, the
    # adversarial bias gets -1 (real) + 1 (fake) = exactly zero gradient; everything else must move.
    adversarial_bias = model.discriminator.adversarial_head.layer.bias
    for network in (model.encoder, model.decoder, model.discriminator):
        unchanged = [new.path for old, new in zip(before[network.name], network.trainable_variables)
                     if np.array_equal(old, new.numpy()) and new is not adversarial_bias]
        assert not unchanged, f"the step did not update {unchanged}"


@pytest.mark.slow
def test_same_seed_gives_the_same_training(tiny_config, fresh_model, training_data):
    first, second = build_model(tiny_config(), IMAGE_SHAPE), fresh_model(IMAGE_SHAPE)
    for _ in range(2):
        first_logs = first.train_step(first.training_inputs(*training_data()))
        second_logs = second.train_step(second.training_inputs(*training_data()))
    assert {k: float(v) for k, v in first_logs.items()} == {k: float(v) for k, v in second_logs.items()}
    other = fresh_model(IMAGE_SHAPE, seed=1)
    assert not np.array_equal(other.encoder.trainable_variables[0].numpy(),
                              fresh_model(IMAGE_SHAPE).encoder.trainable_variables[0].numpy())


@pytest.mark.slow
def test_reconstruction_errors_are_the_two_parts_of_the_reconstruction_score(fresh_model, training_data):
    model = fresh_model(IMAGE_SHAPE)
    images, _ = training_data(batch_size=3)
    errors = model.reconstruction_errors(images)
    reconstructions, latents, reconstruction_latents = model.reconstruct(images)
    np.testing.assert_allclose(errors["image_error"], tf.reduce_mean(tf.abs(images - reconstructions), [1, 2, 3]),
                               rtol=1e-6)
    np.testing.assert_allclose(errors["latent_error"],
                               tf.reduce_mean(tf.abs(latents - reconstruction_latents), [1, 2, 3]), rtol=1e-6)
    assert errors["image_error"].shape == (3,)


@pytest.mark.parametrize("variant, padding, coordconv, restoration, lambda_cmp", [
    ("dgad", "symmetric", False, "discriminator", 100.0), ("gan", "symmetric", False, "pixel", 100.0),
    ("no_compactness", "symmetric", False, "discriminator", 0.0),
    ("zero_padding", "zero", False, "discriminator", 100.0), ("coordconv", "symmetric", True, "discriminator", 100.0)])
@pytest.mark.slow
def test_each_variant_builds_the_model_of_its_concrete_settings(variant, padding, coordconv, restoration, lambda_cmp,
                                                                fresh_model, sublayers):
    model = fresh_model(IMAGE_SHAPE, variant=variant)
    convolutions = [layer for layer in sublayers(model) if isinstance(layer, PaddedConv2D)]
    assert len(convolutions) > 10
    assert all(layer.padding == padding and layer.coordconv == coordconv for layer in convolutions)
    assert (model.restoration, model.lambda_cmp) == (restoration, lambda_cmp)
    rebuilt = DGAD.from_config(model.get_config())
    assert ((rebuilt.padding, rebuilt.coordconv, rebuilt.restoration, rebuilt.lambda_cmp)
            == (padding, coordconv, restoration, lambda_cmp))


def test_an_unknown_restoration_is_refused():
    with pytest.raises(ValueError, match=r"unknown restoration 'pixels'; expected one of \('discriminator', 'pixel'\)"):
        DGAD(IMAGE_SHAPE, width=4, restoration="pixels")


@pytest.mark.parametrize("protocol", [1, 3])
@pytest.mark.slow
def test_gan_variant_restores_by_pixels_and_no_compactness_drops_it(protocol, fresh_model, training_data):
    model = fresh_model(IMAGE_SHAPE, protocol=protocol, variant="gan")
    logs = model.train_step(model.training_inputs(*training_data()))
    expected = logs["g_adv"] + 20 * (logs["rec"] + logs["restore"]) + 100 * logs["cmp"]
    assert float(logs["g_loss"]) == pytest.approx(float(expected), rel=1e-5)
    assert float(logs["d_loss"]) == pytest.approx(float(logs["d_adv"] + 10 * logs["d_cls"]), rel=1e-5)

    model = fresh_model(IMAGE_SHAPE, protocol=protocol, variant="no_compactness")
    logs = model.train_step(model.training_inputs(*training_data()))
    assert float(logs["cmp"]) > 0
    assert float(logs["g_loss"]) == pytest.approx(float(logs["g_adv"] + 10 * logs["g_cls"] + 20 * logs["rec"]),
                                                  rel=1e-5)


@pytest.mark.slow
def test_gan_variant_generator_ignores_the_classifier(fresh_model, training_data, monkeypatch):
    """Changing the classifier head changes DGAD's generator gradient but not the GAN variant's."""
    def generator_update(variant, perturb_classifier):
        model = fresh_model(IMAGE_SHAPE, variant=variant)
        # Plain SGD with rate 1: the update is minus the gradient itself (Adam's first step is ~sign(g)).
        monkeypatch.setattr(model, "generator_optimizer", keras.optimizers.SGD(1.0))
        if perturb_classifier:
            kernel = model.discriminator.classification_head.layer.kernel
            kernel.assign(tf.random.stateless_normal(kernel.shape, seed=[7, 7]))
        before = model.encoder.trainable_variables[0].numpy()
        model.train_step(model.training_inputs(*training_data()))
        return model.encoder.trainable_variables[0].numpy() - before

    np.testing.assert_allclose(generator_update("gan", False), generator_update("gan", True), atol=1e-7)
    assert not np.allclose(generator_update("dgad", False), generator_update("dgad", True), atol=1e-7)


@pytest.mark.parametrize("protocol", [1, 2, 3])
@pytest.mark.slow
def test_transformation_probabilities_classify_the_transformed_image(protocol, fresh_model, training_data):
    model = fresh_model(IMAGE_SHAPE, protocol=protocol)
    images, _ = training_data(batch_size=3)
    transformation = scoring_transformations(protocol)[1]
    probabilities = model.transformation_probabilities(images, transformation)
    assert probabilities.shape == (3, label_size(protocol))
    for group in tf.split(probabilities, list(LABEL_GROUPS[protocol]), axis=-1):
        np.testing.assert_allclose(tf.reduce_sum(group, -1), 1.0, rtol=1e-6)

    transformed = apply_transformation(images, protocol, tf.tile(transformation[None], [3, 1]))
    _, logits = model.discriminator((transformed, model.encoder(transformed)))
    np.testing.assert_allclose(probabilities[:, :LABEL_GROUPS[protocol][0]],
                               tf.nn.softmax(logits[:, :LABEL_GROUPS[protocol][0]]), rtol=1e-5, atol=1e-7)


def test_compile_names_the_missing_optimisers_and_refuses_a_loss(fresh_model):
    model = fresh_model(IMAGE_SHAPE)
    with pytest.raises(ValueError, match="compile\\(\\) needs the optimisers discriminator_optimizer"):
        model.compile(generator_optimizer=keras.optimizers.Adam())
    with pytest.raises(ValueError, match="compile\\(\\) takes no loss or metrics: train_step computes"):
        model.compile(generator_optimizer=keras.optimizers.Adam(), discriminator_optimizer=keras.optimizers.Adam(),
                      loss="mae")
