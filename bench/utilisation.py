"""How much of the machine a step uses: its FLOPs counted from the compiled program, and a matmul peak to set them against."""

import math
import re

import tensorflow as tf

# The size of the reference matmul: large enough to run at the machine's dense peak, small enough to time in a round.
MATMUL_SIZE = 2048
_SHAPE = r"[a-z0-9]+\[([0-9,]*)\]"


def _dimensions(text: str) -> list[int]:
    return [int(size) for size in text.split(",") if size]


def hlo_flops(hlo: str) -> dict[str, int]:
    """Multiply-add FLOPs (2 per multiply-add) of the convolutions and dots of an XLA HLO module's text.

    A convolution does, for each output element, one multiply-add per kernel tap and input feature of
    its group: its kernel's spatial sizes times its input-feature dimension. The gradient of a strided
    convolution with respect to its input is compiled as a convolution over the gradient with zeros
    inserted between its pixels (lhs_dilate): only one tap in (dilation) multiplies a number that is not
    an inserted zero, so its count is divided by the dilation factors (exact but for the borders), giving
    the multiply-adds the step needs rather than those the compiled kernel happens to execute.
    Element-wise work (norms, activations, padding, the optimiser) is left out: it is a small fraction
    of the FLOPs, though not of the time.
    """
    shapes = {name: _dimensions(dims) for name, dims in re.findall(r"%([\w.\-]+) = " + _SHAPE, hlo)}
    for name, dims in re.findall(r"([\w.\-]+): " + _SHAPE, hlo):
        shapes.setdefault(name, _dimensions(dims))
    flops = {"convolution": 0, "dot": 0}
    for line in hlo.splitlines():
        convolution = re.search(r"= " + _SHAPE + r"\S* convolution\(%([\w.\-]+), %([\w.\-]+)\)", line)
        if convolution:
            output, kernel = _dimensions(convolution.group(1)), shapes[convolution.group(3)]
            kernel_labels = re.search(r"dim_labels=\w+?_(\w+?)->", line).group(1)
            taps = math.prod(size for size, label in zip(kernel, kernel_labels) if label.isdigit())
            dilation = re.search(r"lhs_dilate=([0-9x]+)", line)
            zeros_factor = math.prod(map(int, dilation.group(1).split("x"))) if dilation else 1
            flops["convolution"] += 2 * math.prod(output) * taps * kernel[kernel_labels.index("i")] // zeros_factor
            continue
        dot = re.search(r"= " + _SHAPE + r"\S* dot\(%([\w.\-]+), %([\w.\-]+)\)", line)
        if dot:
            output, left = _dimensions(dot.group(1)), shapes[dot.group(2)]
            contracted = _dimensions(re.search(r"lhs_contracting_dims=\{([0-9,]*)\}", line).group(1))
            flops["dot"] += 2 * math.prod(output) * math.prod(left[dimension] for dimension in contracted)
    return flops


def train_step_flops(model, batch) -> dict[str, int]:
    """hlo_flops of model.train_step on one batch, as XLA compiles it (dead code removed)."""
    step = tf.function(model.train_step, jit_compile=True)
    return hlo_flops(step.experimental_get_compiler_ir(batch)(stage="optimized_hlo"))


def matmul_call(size: int = MATMUL_SIZE):
    """A function that multiplies two size x size float32 matrices and waits for the result; its FLOPs."""
    left = tf.random.stateless_normal((size, size), seed=[1, 1])
    right = tf.random.stateless_normal((size, size), seed=[2, 2])
    multiply = tf.function(tf.matmul, jit_compile=False)
    multiply(left, right).numpy()
    return (lambda: multiply(left, right).numpy()), 2 * size**3
