"""Building blocks shared by the networks: padded convolution, instance norm, residual block, 2x upsampling.

DGAD pads every convolution symmetrically (mirror padding) so that the networks get no absolute
position cue from the image border; zero padding and CoordConv are the paper's ablations that
bring that cue back (Table 4). Both are layer arguments so a whole network can switch at once.
"""

import keras
import tensorflow as tf

PADDING_MODES = ("symmetric", "zero")


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


def instance_normalization() -> keras.layers.GroupNormalization:
    """Instance norm (Ulyanov et al.): one group per channel normalises each image and channel alone."""
    return keras.layers.GroupNormalization(groups=-1, epsilon=1e-5)


@keras.saving.register_keras_serializable("dgad")
class ConvNormReLU(PaddedConv2D):
    """PaddedConv2D -> instance norm -> ReLU, the generator's basic unit."""

    def __init__(self, filters: int, kernel_size: int, strides: int = 1, padding: str = "symmetric",
                 coordconv: bool = False, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, coordconv, **kwargs)
        self.normalization = instance_normalization()

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
        self.second_normalization = instance_normalization()

    def call(self, inputs):
        return inputs + self.second_normalization(self.second_convolution(self.first(inputs)))

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "padding": self.padding,
                "coordconv": self.coordconv}
