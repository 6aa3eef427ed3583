"""One experiment per class: train it, test it, and summarise the classes of one invocation.

This is the only module that knows all the parts (data, model, training, scores, reports); each
part knows nothing of the others.
"""

import re
import time
from pathlib import Path

import keras
import numpy as np

from data.pipeline import one_class_split, evaluation_batches, to_model_images, training_batches
from data.sources import ImageDataset
from models.dgad_gan import DGAD
from utils.config import Config, load_config_dict, save_config
from utils.paper_results import DGAD_PARAMETERS, paper_reference
from utils.reports import write_class_results, write_summary
from utils.scores import min_max_normalise, reconstruction_score
from utils.training import make_checkpoint_manager, restore_latest, train_for_iterations


class ExperimentError(Exception):
    """A run cannot go ahead as asked; the message says why and what to do."""


def build_model(config: Config, image_shape: tuple[int, int, int]) -> DGAD:
    """The networks of config.method with their optimisers; initialisation is fixed by config.seed."""
    keras.utils.set_random_seed(config.seed)
    model = DGAD(image_shape, config.protocol, config.width, lambda_cls=config.lambda_cls,
                 lambda_rec=config.lambda_rec, lambda_cmp=config.lambda_cmp)

    def adam():
        return keras.optimizers.Adam(config.learning_rate, beta_1=config.beta_1, beta_2=config.beta_2)

    model.compile(generator_optimizer=adam(), discriminator_optimizer=adam(), jit_compile=config.jit_compile)
    return model


class FreshModels:
    """Hands out the model in its just-initialised state, building and compiling it only once.

    Tracing and XLA-compiling the training step takes about half a minute on a CPU; every class
    starts from the same seeded initialisation, so one model reset to its initial variables
    (weights and optimiser state) serves every class of an invocation.
    """

    def __init__(self, config: Config, image_shape: tuple[int, int, int]):
        self.model = build_model(config, image_shape)
        self.variables = self.model.variables + [
            variable for optimizer in (self.model.generator_optimizer, self.model.discriminator_optimizer)
            for variable in optimizer.variables]
        self.initial_values = [variable.numpy() for variable in self.variables]

    def fresh(self) -> DGAD:
        for variable, value in zip(self.variables, self.initial_values):
            variable.assign(value)
        return self.model


def class_folder_name(dataset: ImageDataset, class_index: int) -> str:
    return f"{class_index}_" + re.sub(r"[^A-Za-z0-9_.-]+", "_", dataset.class_names[class_index])


def parameter_summary(model: DGAD) -> str:
    generator = model.encoder.count_params() + model.decoder.count_params()
    return (f"DGAD at width {model.width}: encoder + decoder {generator / 1e6:.2f}M parameters, discriminator "
            f"{model.discriminator.count_params() / 1e6:.2f}M (the paper, at width 64: about "
            f"{DGAD_PARAMETERS['encoder_decoder'] / 1e6:.1f}M and {DGAD_PARAMETERS['discriminator'] / 1e6:.1f}M)")


def missing_model_message(config: Config, class_index: int, folder: Path) -> str:
    message = f"no trained model for class {class_index} in {folder}. "
    runs = sorted(path.name for path in folder.parent.parent.glob("*") if path.is_dir())
    if runs:
        message += f"Runs that exist for {config.dataset}: {', '.join(runs)} (pass the flags they were trained with). "
    return message + (f"Train it first: python main.py --dataset {config.dataset} --train_object {class_index} "
                      "with the same --width/--iterations/--protocol/--batch_size/--seed")


class Experiment:
    """The classes of one dataset under one configuration: train them, test them, summarise them."""

    def __init__(self, config: Config, dataset: ImageDataset):
        self.config = config
        self.dataset = dataset
        self._models = None

    def fresh_model(self) -> DGAD:
        if self._models is None:
            image_shape = (self.config.image_size, self.config.image_size, self.dataset.x_train.shape[-1])
            self._models = FreshModels(self.config, image_shape)
            print(parameter_summary(self._models.model))
        return self._models.fresh()

    def check_trained_with_this_config(self, folder: Path):
        saved = load_config_dict(folder)
        if saved is not None and self.config.training_differences(saved):
            raise ExperimentError(
                f"{folder} holds a run trained with other settings "
                f"({'; '.join(self.config.training_differences(saved))}); pass the settings it was trained "
                "with, or --run_name NAME (or another --checkpoint_dir) for a separate run")

    def describe(self, class_index: int) -> str:
        return f"{self.dataset.name} class {class_index} ({self.dataset.class_names[class_index]})"

    def train_class(self, class_index: int) -> Path:
        """Train (or resume training) the model of one class; return its checkpoint folder."""
        config = self.config
        split = one_class_split(self.dataset, class_index, config.scheme)
        images = to_model_images(split.train_images, config.image_size)
        folder = config.checkpoint_folder() / class_folder_name(self.dataset, class_index)
        self.check_trained_with_this_config(folder)
        save_config(config, folder)

        model = self.fresh_model()
        manager = make_checkpoint_manager(model, folder)
        start = restore_latest(manager)
        if start >= config.iterations:
            print(f"{self.describe(class_index)}: already trained ({start} iterations) in {folder}; skipping")
            return folder
        print(f"{self.describe(class_index)}: {'resuming at iteration ' + str(start) if start else 'training'} "
              f"on {len(images)} normal images for {config.iterations} iterations")
        batches = training_batches(images, config.batch_size, config.seed, start, config.iterations, config.max_zoom)
        seconds = train_for_iterations(model, batches, manager, config.iterations, config.checkpoint_every)
        print(f"{self.describe(class_index)}: trained in {seconds:.0f} s; checkpoint in {folder}")
        return folder

    def test_class(self, class_index: int) -> float:
        """Score the test set with the trained model of one class; write its results; return the AUC."""
        config = self.config
        split = one_class_split(self.dataset, class_index, config.scheme)
        folder_name = class_folder_name(self.dataset, class_index)
        checkpoint_folder = config.checkpoint_folder() / folder_name
        self.check_trained_with_this_config(checkpoint_folder)
        model = self.fresh_model()
        manager = make_checkpoint_manager(model, checkpoint_folder)
        if manager.latest_checkpoint is None:
            raise ExperimentError(missing_model_message(config, class_index, checkpoint_folder))
        trained_iterations = restore_latest(manager)
        if trained_iterations < config.iterations:
            print(f"warning: {self.describe(class_index)} was trained for {trained_iterations} of "
                  f"{config.iterations} iterations (interrupted?); testing that checkpoint")

        images = to_model_images(split.test_images, config.image_size)
        started = time.perf_counter()
        errors = model.predict(evaluation_batches(images, config.batch_size), verbose=0)
        seconds = time.perf_counter() - started
        raw_scores = reconstruction_score(errors["image_error"], errors["latent_error"], config.lambda_s)
        run_folder = config.results_folder() / folder_name
        save_config(config, run_folder)
        try:
            auc = write_class_results(
                run_folder, split.test_anomaly_labels, min_max_normalise(raw_scores),
                self.dataset.class_names[class_index],
                extra_columns={"class_label": split.test_class_labels, "s_rec": raw_scores,
                               "image_error": errors["image_error"], "latent_error": errors["latent_error"]})
        except ValueError as error:
            raise ExperimentError(f"cannot evaluate {self.describe(class_index)}: {error}") from error
        print(f"{self.describe(class_index)}: AUC {auc:.4f} ({len(raw_scores) / seconds:.0f} images/s); "
              f"results in {run_folder}")
        return auc

    def test_classes(self, classes: list[int]) -> Path:
        """Test each class, then write summary.json / summary.md for them beside the per-class folders."""
        per_class_auc = {self.dataset.class_names[index]: self.test_class(index) for index in classes}
        config = self.config
        paper = paper_reference(config.method, config.dataset, config.protocol, config.scheme)
        json_path, markdown_path = write_summary(config.results_folder(), per_class_auc,
                                                 list(self.dataset.class_names), config.to_dict(), paper)
        print(f"mean AUC over {len(classes)} classes: {np.mean(list(per_class_auc.values())):.4f}; "
              f"summary in {markdown_path} and {json_path}")
        return json_path
