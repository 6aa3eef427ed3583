"""Building blocks shared by the networks: padded convolution, instance norm, residual block, 2x upsampling.

DGAD pads every convolution symmetrically (mirror padding) so that the networks get no absolute
position cue from the image border; zero padding and CoordConv are the paper's ablations that
bring that cue back (Table 4). Both are layer arguments so a whole network can switch at once.
"""

import keras
import tensorflow as tf

PADDING_MODES = ("symmetric", "zero")
INSTANCE_NORM_EPSILON = 1e-5
# Below this a channel map is constant up to float32 rounding (see InstanceNormalization).
CONSTANT_MAP_VARIANCE = 1e-8


def same_padding(size: int, kernel_size: int, strides: int) -> tuple[int, int]:
    """Padding before and after one spatial axis that gives ceil(size / strides) outputs."""
    output_size = -(-size // strides)
    total = max((output_size - 1) * strides + kernel_size - size, 0)
    return total // 2, total - total // 2


def add_coordinates(images: tf.Tensor) -> tf.Tensor:
    """Append two channels holding each pixel's row and column in [-1, 1] (CoordConv)."""
    height, width = images.shape[1], images.shape[2]
    rows, columns = tf.meshgrid(
        tf.linspace(-1.0, 1.0, height), tf.linspace(-1.0, 1.0, width), indexing="ij"
    )
    coordinates = tf.cast(tf.stack([rows, columns], axis=-1), images.dtype)
    coordinates = tf.broadcast_to(coordinates, tf.concat([tf.shape(images)[:1], [height, width, 2]], 0))
    return tf.concat([images, coordinates], axis=-1)


def upsample_bilinear_2x(features: tf.Tensor) -> tf.Tensor:
    """tf.image.resize(features, 2x, "bilinear"), written as shifts and weighted sums.

    With half-pixel centres, output pixels 2i and 2i+1 are 3/4 of input pixel i plus 1/4 of its
    neighbour before or after (the edge pixel stands in for the missing neighbour). XLA compiles
    tf.image.resize on a CPU into a gather that took a quarter of the decoder's time; these
    element-wise ops cost almost nothing.
    """
    for axis in (1, 2):
        padding = [[0, 0]] * 4
        padding[axis] = [1, 1]
        # One pixel of symmetric padding repeats the edge pixel.
        padded = tf.pad(features, padding, mode="SYMMETRIC")
        size = features.shape[axis]
        before, centre, after = (padded[(slice(None),) * axis + (slice(start, start + size),)] for start in (0, 1, 2))
        even, odd = 0.75 * centre + 0.25 * before, 0.75 * centre + 0.25 * after
        interleaved = tf.stack([even, odd], axis=axis + 1)
        shape = tf.concat([tf.shape(features)[:axis], [2 * size], tf.shape(features)[axis + 1:]], 0)
        features = tf.reshape(interleaved, shape)
    return features


@keras.saving.register_keras_serializable("dgad")
class PaddedConv2D(keras.layers.Layer):
    """Conv2D with 'same'-sized output, explicit symmetric or zero padding, optional CoordConv.

    With spectral_norm=True the convolution is wrapped in keras.layers.SpectralNormalization.
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int,
        strides: int = 1,
        padding: str = "symmetric",
        coordconv: bool = False,
        spectral_norm: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if padding not in PADDING_MODES:
            raise ValueError(f"padding must be one of {PADDING_MODES}, got {padding!r}")
        self.filters = filters
        self.kernel_size = kernel_size
        self.strides = strides
        self.padding = padding
        self.coordconv = coordconv
        self.spectral_norm = spectral_norm
        convolution = keras.layers.Conv2D(filters, kernel_size, strides=strides, padding="valid")
        self.convolution = keras.layers.SpectralNormalization(convolution) if spectral_norm else convolution

    def call(self, inputs, training=None):
        if self.coordconv:
            inputs = add_coordinates(inputs)
        pad_rows = same_padding(inputs.shape[1], self.kernel_size, self.strides)
        pad_columns = same_padding(inputs.shape[2], self.kernel_size, self.strides)
        mode = "SYMMETRIC" if self.padding == "symmetric" else "CONSTANT"
        padded = tf.pad(inputs, [[0, 0], pad_rows, pad_columns, [0, 0]], mode=mode)
        return self.convolution(padded, training=training)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "coordconv": self.coordconv,
            "spectral_norm": self.spectral_norm,
        }


@keras.saving.register_keras_serializable("dgad")
class InstanceNormalization(keras.layers.Layer):
    """Instance norm (Ulyanov et al.): each image's channel normalised over its spatial positions.

    It computes what keras.layers.GroupNormalization(groups=-1) does, in the same operations, but
    for one case: a channel map whose variance is below CONSTANT_MAP_VARIANCE is constant, and its
    output is beta exactly. A constant image (blank, or one flat colour) keeps every map of a
    symmetrically padded network constant, so in exact arithmetic those maps normalise to zero
    whatever the weights are, and their weight gradients are zero. In float32 they are not: the
    variance is rounding noise (below 1e-11 measured), 1 / sqrt(variance + epsilon) scales the
    backward pass by about 316 per layer, and the weight gradients, a difference of such huge
    terms, overflowed to NaN within a few steps. Feature maps of ordinary images have variances of
    4e-4 and more (measured at widths 8 and 64, initial and trained), far above the threshold, so
    their outputs and gradients are unchanged.
    """

    def __init__(self, epsilon: float = INSTANCE_NORM_EPSILON, **kwargs):
        # Under a mixed precision policy gamma and beta are read as the float32 they are: the
        # normalisation computes in float32 and casts only its output to the policy's dtype.
        super().__init__(autocast=False, **kwargs)
        self.epsilon = epsilon

    def build(self, input_shape):
        # gamma then beta, as GroupNormalization creates them: checkpoints list variables in order.
        self.gamma = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=(input_shape[-1],), initializer="zeros", name="beta")

    def call(self, inputs):
        # The (batch, height, width, channels, 1) layout of GroupNormalization's groups: the same
        # reductions in the same order give the same bits, so runs from before this layer repeat.
        features = tf.cast(inputs, tf.float32)[..., tf.newaxis]
        mean, variance = tf.nn.moments(features, axes=[1, 2, 4], keepdims=True)
        scale = tf.where(variance < CONSTANT_MAP_VARIANCE, 0.0, tf.math.rsqrt(variance + self.epsilon))
        scale = scale * self.gamma[:, tf.newaxis]
        outputs = features * scale + (-mean * scale + self.beta[:, tf.newaxis])
        return tf.cast(outputs[..., 0], self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.saving.register_keras_serializable("dgad")
class ConvNormReLU(PaddedConv2D):
    """PaddedConv2D -> instance norm -> ReLU, the generator's basic unit."""

    def __init__(self, filters: int, kernel_size: int, strides: int = 1, padding: str = "symmetric",
                 coordconv: bool = False, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, coordconv, **kwargs)
        self.normalization = InstanceNormalization()

    def call(self, inputs, training=None):
        return tf.nn.relu(self.normalization(super().call(inputs, training=training)))


@keras.saving.register_keras_serializable("dgad")
class ResidualBlock(keras.layers.Layer):
    """x + IN(conv3x3(ReLU(IN(conv3x3(x))))), with no activation after the sum (He et al.)."""

    def __init__(self, filters: int, padding: str = "symmetric", coordconv: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.padding = padding
        self.coordconv = coordconv
        self.first = ConvNormReLU(filters, 3, 1, padding, coordconv)
        self.second_convolution = PaddedConv2D(filters, 3, 1, padding, coordconv)
        self.second_normalization = InstanceNormalization()

    def call(self, inputs):
        return inputs + self.second_normalization(self.second_convolution(self.first(inputs)))

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "padding": self.padding,
                "coordconv": self.coordconv}
