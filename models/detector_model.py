"""The model every method trains: a keras.Model whose train_step updates its networks with named optimisers.

A method's model subclasses DetectorModel and implements its abstract methods, each a view of the
model that the generic program reads: which optimiser updates which variables, one call of every
network (to create its variables), the inputs of one training step, the reconstruction whose pixel
error is the anomaly map, and the images TensorBoard shows. One optimiser is as natural as several:
compile(<name>=optimizer, ...) takes each by the name optimizer_variables() gives it.

Every update goes through update(): under a tf.distribute strategy each replica sees its share
of the global batch, and under float16 the losses are scaled.
"""

import abc

import keras
import tensorflow as tf


def float32(outputs):
    """Network outputs (a tensor or a structure of them), computed in the precision policy's dtype, as float32:
    every loss and score is computed in float32."""
    return tf.nest.map_structure(lambda tensor: tf.cast(tensor, tf.float32), outputs)


def across_replicas(per_image: tf.Tensor) -> tf.Tensor:
    """The per-image values of every replica's images (the global batch), for a statistic over the batch.

    all_gather's gradient sums the replicas' gradients of the gathered values and hands each replica
    its own images' part, so a loss of the gathered batch has the single-device gradient.
    """
    context = tf.distribute.get_replica_context()
    return per_image if context.num_replicas_in_sync == 1 else context.all_gather(per_image, axis=0)


class CountingLossScaleOptimizer(keras.optimizers.LossScaleOptimizer):
    """A LossScaleOptimizer whose `iterations` counts every step, the skipped ones included.

    Keras' counts the inner optimiser's updates, which a step with non-finite (float16-overflowed)
    gradients skips; the training loop numbers checkpoints and draws batches by the step counter.
    """

    @property
    def iterations(self):
        # Its own counter, which LossScaleOptimizer creates and saves but never steps.
        return self._iterations

    def apply(self, grads, trainable_variables=None):
        super().apply(grads, trainable_variables)
        self._iterations.assign_add(1)


class DetectorModel(keras.Model, metaclass=abc.ABCMeta):
    """A keras.Model whose train_step updates its networks with named optimisers; see the module's docstring."""

    # The optimiser stepped once in every training step: its counter counts the steps.
    STEP_COUNTER: str

    def __init__(self, image_shape: tuple[int, int, int], **kwargs):
        super().__init__(**kwargs)
        self.image_shape = tuple(image_shape)

    def build_networks(self):
        """Create every network's variables, in a fixed order (the seed's initialisation depends on it): a
        subclass calls this at the end of its __init__, once its networks exist."""
        self.call_every_network(tf.zeros((1, *self.image_shape)))
        self.built = True

    @abc.abstractmethod
    def call_every_network(self, images: tf.Tensor) -> None:
        """Call each network once, starting from a batch of model-ready images, so that its variables exist."""

    @abc.abstractmethod
    def optimizer_variables(self) -> dict[str, list]:
        """{each optimiser's name (an argument of compile()): the variables it updates}."""

    @abc.abstractmethod
    def training_inputs(self, images: tf.Tensor, seed: tf.Tensor) -> tuple:
        """The inputs of one train_step: the batch and every random draw of the step, drawn from `seed` in the
        input pipeline (data.pipeline.training_batches), so that a distributed step splits them by image."""

    @abc.abstractmethod
    def reconstruction(self, images: tf.Tensor) -> tf.Tensor:
        """x^ for model-ready images x, in float32: the anomaly map is |x - x^| (utils/scoring/maps.py)."""

    @abc.abstractmethod
    def preview_images(self, images: tf.Tensor, seed: tf.Tensor) -> dict[str, tf.Tensor]:
        """Named batches of images shaped like `images` (two or more: the input first), shown side by side in
        TensorBoard as the model learns; random draws come from `seed`."""

    def compile(self, **settings):
        """compile(<each optimiser's name>=optimizer, ..., other keras.Model.compile settings).

        Under the mixed_float16 policy each optimiser is wrapped in a loss-scale optimiser, as
        keras.Model.compile wraps its one optimiser.
        """
        variables = self.optimizer_variables()
        # keras.Model.compile sets self.optimizer (to None here), which would replace an optimiser of that name.
        taken = [name for name in variables if name == "optimizer" or hasattr(keras.Model, name)]
        if taken:
            raise ValueError(f"optimiser name {', '.join(taken)} is taken by keras.Model; name each optimiser after "
                             "what it updates (e.g. generator_optimizer)")
        missing = [name for name in variables if name not in settings]
        if missing:
            raise ValueError(f"compile() needs the optimisers {', '.join(missing)}")
        others = {name: value for name, value in settings.items() if name not in variables}
        if "loss" in others or "metrics" in others:
            raise ValueError("compile() takes no loss or metrics: train_step computes and logs the losses")
        if others.get("jit_compile") and tf.distribute.get_strategy().num_replicas_in_sync > 1:
            # XLA cannot compile a step whose variables live on several devices (TensorFlow: "Trying to access
            # resource ... located in device ... from device ..."); the scoring passes read one copy and still can.
            print("note: the training step runs without XLA under a strategy with several replicas")
            others["jit_compile"] = False
        super().compile(optimizer=None, **others)
        self.optimizer_names = tuple(variables)
        for name in variables:
            optimizer = settings[name]
            if self.dtype_policy.name == "mixed_float16":
                optimizer = CountingLossScaleOptimizer(optimizer, name=f"{name}_loss_scale")
            setattr(self, name, optimizer)
            # Slots must exist before a checkpoint is restored into them, and no variable may be created
            # inside a compiled step's tf.cond.
            optimizer.build(variables[name])

    @staticmethod
    def update(tape: tf.GradientTape, optimizer: keras.optimizers.Optimizer,
               losses_and_variables: list[tuple[tf.Tensor, list]]):
        """One step of `optimizer` on the gradients of each (loss, variables) pair of the forward pass `tape` recorded.

        Each loss is a mean over this replica's images: divided by the number of replicas, the
        gradients Keras sums over the replicas are those of the mean over the global batch. A
        loss-scale optimiser (float16) scales the loss up so that small gradients do not underflow,
        and scales the gradients back down when it applies them.
        """
        # The loss's weight enters as the gradient's seed: the tape has stopped recording.
        weight = optimizer.scale_loss(1.0 / tf.distribute.get_replica_context().num_replicas_in_sync)
        unweighted = isinstance(weight, float) and weight == 1.0
        gradients, variables = [], []
        for loss, loss_variables in losses_and_variables:
            seed = None if unweighted else tf.cast(weight, loss.dtype)
            gradients += tape.gradient(loss, loss_variables, output_gradients=seed)
            variables += loss_variables
        optimizer.apply_gradients(zip(gradients, variables))

    @staticmethod
    def reported(logs: dict) -> dict:
        """A train_step's logs, shaped for fit() to average them over the replicas.

        Under several workers Keras averages each log along its first axis as well
        (tensorflow/tensorflow#72388), which a scalar lacks: there each gets one.
        """
        strategy = tf.distribute.get_strategy()
        several_workers = (isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
                           and len(strategy.extended.worker_devices) < strategy.num_replicas_in_sync)
        if not several_workers:
            return logs
        return {name: tf.reshape(value, [1]) for name, value in logs.items()}

    @staticmethod
    def step_if(condition: tf.Tensor, step, otherwise, *arguments):
        """step(*arguments) if `condition`, else otherwise(), for every replica alike.

        Decided in cross-replica context, as LossScaleOptimizer decides to skip a step: TensorFlow
        cannot synchronise replicas (an update's all-reduce, an all_gather) inside a replica's tf.cond.
        """
        def decide(strategy, condition, *arguments):
            return tf.cond(strategy.experimental_local_results(condition)[0],
                           lambda: strategy.extended.call_for_each_replica(step, args=arguments),
                           lambda: strategy.extended.call_for_each_replica(otherwise))

        return tf.distribute.get_replica_context().merge_call(decide, args=(condition, *arguments))

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        """Nothing to build: a model builds its networks when it is made, and compile() builds the optimisers
        and takes no loss or metrics.

        Keras' version reduces the first batch over the replicas to build a model symbolically, and under
        MultiWorkerMirroredStrategy that reduction fails on any batch of several tensors
        (keras-team/keras#20329); it builds nothing for a model already built.
        """
        if not self.built:
            super()._maybe_symbolic_build(iterator, data_batch)

    @property
    def iterations(self):
        """Training steps taken so far."""
        return getattr(self, self.STEP_COUNTER).iterations

    def iterations_done(self) -> int:
        """Training steps taken so far, as a Python int (int() fails on a variable mirrored over replicas)."""
        return int(self.iterations.numpy())

    @property
    def named_optimizers(self) -> dict[str, keras.optimizers.Optimizer]:
        return {name: getattr(self, name) for name in self.optimizer_names}

    def checkpoint_objects(self) -> dict:
        """What a checkpoint must hold to resume training exactly.

        The variables are listed explicitly (in their fixed creation order): tf.train.Checkpoint
        does not look inside the Python lists of layers that Keras 3 networks keep.
        """
        return {"variables": list(self.variables), **self.named_optimizers}
