"""The shape both methods' models share: networks trained by several optimisers in one train_step.

A subclass says which optimiser updates which variables (optimizer_variables) and which one is
stepped in every training step (STEP_COUNTER); this class gives it `iterations`, the optimisers
built before training and `checkpoint_objects()` for utils.running.training.Checkpoints.

A subclass also defines the two views of a trained model that the generic program shows:
reconstruction(images), the x^ whose pixel error |x - x^| is the method's pixel term (the anomaly
map, utils/scoring/maps.py), and preview_images(images, seed), the named image batches of one
training step that TensorBoard shows side by side.
"""

import keras


class AdversarialModel(keras.Model):
    """A keras.Model whose train_step updates its networks with several named optimisers."""

    # The optimiser stepped once in every training step: its counter counts the steps. A subclass also
    # defines optimizer_variables(): each optimiser's name (an argument of compile()) and the variables it updates.
    STEP_COUNTER: str

    def compile(self, **settings):
        """compile(<each optimiser's name>=optimizer, ..., other keras.Model.compile settings)."""
        variables = self.optimizer_variables()
        missing = [name for name in variables if name not in settings]
        if missing:
            raise ValueError(f"compile() needs the optimisers {', '.join(missing)}")
        super().compile(optimizer=None, **{name: value for name, value in settings.items() if name not in variables})
        self.optimizer_names = tuple(variables)
        for name in variables:
            setattr(self, name, settings[name])
            # Slots must exist before a checkpoint is restored into them, and no variable may be created
            # inside a compiled step's tf.cond.
            settings[name].build(variables[name])

    @property
    def iterations(self):
        """Training steps taken so far."""
        return getattr(self, self.STEP_COUNTER).iterations

    @property
    def named_optimizers(self) -> dict[str, keras.optimizers.Optimizer]:
        return {name: getattr(self, name) for name in self.optimizer_names}

    def checkpoint_objects(self) -> dict:
        """What a checkpoint must hold to resume training exactly.

        The variables are listed explicitly (in their fixed creation order): tf.train.Checkpoint
        does not look inside the Python lists of layers that Keras 3 networks keep.
        """
        return {"variables": list(self.variables), **self.named_optimizers}
