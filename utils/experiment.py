"""One experiment per class: train it, test it, and summarise the classes of one invocation.

This is the only module that knows all the parts (data, model, training, scores, reports); each
part knows nothing of the others.
"""

import os
import platform
import re
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from data.pipeline import one_class_split, to_model_images, training_batches
from data.sources import ImageDataset
from models.adcgan import ADCGAN, table2_layout
from models.dgad_gan import DGAD
from utils.adcgan_scores import normality_score
from utils.config import Config, load_config_dict, save_config
from utils.dirichlet import fit_grouped_dirichlet, grouped_dirichlet_normality_score
from utils.evaluation import ADCGANScoring, Scoring, timed
from utils.paper_results import DGAD_PARAMETERS, paper_reference
from utils.reports import read_class_metrics, write_class_results, write_summary
from utils.scores import min_max_normalise, reconstruction_score
from utils.run_lock import RunLock, RunLocked
from utils.training import Checkpoints, NoReadableCheckpoint, train_for_iterations


class ExperimentError(Exception):
    """A run cannot go ahead as asked; the message says why and what to do."""


def build_model(config: Config, image_shape: tuple[int, int, int]) -> DGAD | ADCGAN:
    """The networks of config.method with their optimisers; initialisation is fixed by config.seed."""
    keras.utils.set_random_seed(config.seed)

    def adam(learning_rate=config.learning_rate):
        return keras.optimizers.Adam(learning_rate, beta_1=config.beta_1, beta_2=config.beta_2)

    if config.method == "adcgan":
        try:
            table2_layout(image_shape)
        except ValueError as error:
            raise ExperimentError(f"{error}; pass main.py --image_size 32 (or 28 for one channel, 64 for colour)"
                                  ) from error
        model = ADCGAN(image_shape, config.latent_size, config.width)
        # The latent game D_z vs E runs at the CGAN's learning rate, as in the authors' code.
        model.compile(cgan_optimizer_g=adam(), cgan_optimizer_d=adam(), latent_optimizer=adam(),
                      autoencoder_optimizer=adam(config.autoencoder_learning_rate), jit_compile=config.jit_compile)
        return model
    model = DGAD(image_shape, config.protocol, config.width, config.variant, lambda_cls=config.lambda_cls,
                 lambda_rec=config.lambda_rec, lambda_cmp=config.lambda_cmp)
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
        optimizers = [value for value in self.model.checkpoint_objects().values()
                      if isinstance(value, keras.optimizers.Optimizer)]
        self.variables = self.model.variables + [variable for optimizer in optimizers
                                                 for variable in optimizer.variables]
        self.initial_values = [variable.numpy() for variable in self.variables]

    def fresh(self) -> DGAD | ADCGAN:
        for variable, value in zip(self.variables, self.initial_values):
            variable.assign(value)
        return self.model


def class_folder_name(dataset: ImageDataset, class_index: int) -> str:
    return f"{class_index}_" + re.sub(r"[^A-Za-z0-9_.-]+", "_", dataset.class_names[class_index])


def parameter_summary(model: DGAD | ADCGAN) -> str:
    if isinstance(model, ADCGAN):
        return (f"AD-CGAN at width {model.width}, latent {model.latent_size}: encoder "
                f"{model.encoder.count_params() / 1e6:.2f}M parameters, generator (= decoder) "
                f"{model.generator.count_params() / 1e6:.2f}M, critic {model.critic.count_params() / 1e6:.2f}M, "
                f"D_z {model.latent_discriminator.count_params() / 1e6:.3f}M")
    generator = model.encoder.count_params() + model.decoder.count_params()
    return (f"DGAD at width {model.width}: encoder + decoder {generator / 1e6:.2f}M parameters, discriminator "
            f"{model.discriminator.count_params() / 1e6:.2f}M (the paper, at width 64: about "
            f"{DGAD_PARAMETERS['encoder_decoder'] / 1e6:.1f}M and {DGAD_PARAMETERS['discriminator'] / 1e6:.1f}M)")


def software_and_machine() -> dict:
    """What a result's last digits depend on besides the seed: the same seed repeats bit for bit only with
    the same TensorFlow, processor (its kernels round differently) and core count (the thread pools split
    sums by it)."""
    processor, vector_instructions = platform.machine(), []
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        fields = {key.strip(): value.strip() for key, value in
                  (line.split(":", 1) for line in cpuinfo.read_text().splitlines() if ":" in line)}
        processor = fields.get("model name", processor)
        vector_instructions = sorted(flag for flag in fields.get("flags", "").split()
                                     if flag.startswith(("avx", "amx")))
    return {"tensorflow": tf.__version__, "keras": keras.__version__, "processor": processor,
            "vector_instructions": vector_instructions, "cores": os.cpu_count()}


def missing_model_message(config: Config, class_index: int, folder: Path) -> str:
    message = f"no trained model for class {class_index} in {folder}. "
    runs = sorted(path.name for path in folder.parent.parent.glob("*") if path.is_dir())
    if runs:
        message += f"Runs that exist for {config.dataset}: {', '.join(runs)} (pass the flags they were trained with). "
    if config.method == "dgad":
        method, settings = "", "--width/--iterations/--protocol/--variant/--batch_size/--seed"
    else:
        method, settings = f"--method {config.method} ", "--width/--iterations (or --epochs)/--batch_size/--latent_size/--seed"
    return message + (f"Train it first: python main.py {method}--dataset {config.dataset} --train_object {class_index} "
                      f"with the same {settings}")


class Experiment:
    """The classes of one dataset under one configuration: train them, test them, summarise them."""

    def __init__(self, config: Config, dataset: ImageDataset):
        self.config = config
        self.dataset = dataset
        self._models = None
        self._scoring = None
        self._lock = RunLock(config.checkpoint_folder())

    def close(self):
        """Let other processes use the run folder (also done when the process ends)."""
        self._lock.release()

    def hold_run_folder(self):
        """Lock the run folder for this process, from the first class trained or tested on."""
        try:
            self._lock.acquire()
        except RunLocked as error:
            raise ExperimentError(str(error)) from error

    def restore(self, checkpoints: Checkpoints) -> int:
        """checkpoints.restore_latest(), with no readable checkpoint as an ExperimentError."""
        try:
            return checkpoints.restore_latest()
        except NoReadableCheckpoint as error:
            raise ExperimentError(str(error)) from error

    def fresh_model(self) -> DGAD | ADCGAN:
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

    def checkpoint_folder(self, class_index: int) -> Path:
        return self.config.checkpoint_folder() / class_folder_name(self.dataset, class_index)

    def schedule(self, class_index: int) -> tuple[int, int]:
        """(iterations, warm-up iterations) of one class's training (Config.schedule)."""
        train_size = len(one_class_split(self.dataset, class_index, self.config.scheme).train_images)
        return self.config.schedule(train_size)

    def train_class(self, class_index: int) -> Path:
        """Train (or resume training) the model of one class; return its checkpoint folder."""
        config = self.config
        split = one_class_split(self.dataset, class_index, config.scheme)
        images = to_model_images(split.train_images, config.image_size)
        iterations, warmup_iterations = config.schedule(len(images))
        folder = self.checkpoint_folder(class_index)
        self.hold_run_folder()
        self.check_trained_with_this_config(folder)
        save_config(config, folder)

        model = self.fresh_model()
        checkpoints = Checkpoints(model, folder)
        start = self.restore(checkpoints)
        if start >= iterations:
            print(f"{self.describe(class_index)}: already trained ({start} iterations) in {folder}; skipping")
            return folder
        if isinstance(model, ADCGAN):
            model.warmup_iterations.assign(warmup_iterations)
        warmup = f", the first {warmup_iterations} autoencoder only" if warmup_iterations else ""
        print(f"{self.describe(class_index)}: {'resuming at iteration ' + str(start) if start else 'training'} "
              f"on {len(images)} normal images for {iterations} iterations{warmup}")
        batches = training_batches(images, config.batch_size, config.seed, start, iterations, config.max_zoom)
        started = time.perf_counter()
        train_for_iterations(model, batches, checkpoints, iterations, config.checkpoint_every)
        print(f"{self.describe(class_index)}: trained in {time.perf_counter() - started:.0f} s; checkpoint in {folder}")
        return folder

    def trained_model(self, class_index: int) -> DGAD | ADCGAN:
        """The model of one class with its latest readable checkpoint restored."""
        return self.restored(class_index)[0]

    def restored(self, class_index: int) -> tuple[DGAD | ADCGAN, Checkpoints]:
        """trained_model(), and the checkpoints it was restored from."""
        checkpoint_folder = self.checkpoint_folder(class_index)
        self.check_trained_with_this_config(checkpoint_folder)
        model = self.fresh_model()
        checkpoints = Checkpoints(model, checkpoint_folder)
        if checkpoints.latest is None:
            raise ExperimentError(missing_model_message(self.config, class_index, checkpoint_folder))
        self.hold_run_folder()
        trained_iterations = self.restore(checkpoints)
        iterations, _ = self.schedule(class_index)
        if trained_iterations < iterations:
            print(f"warning: {self.describe(class_index)} was trained for {trained_iterations} of "
                  f"{iterations} iterations (interrupted?); testing that checkpoint")
        return model, checkpoints

    def scoring(self, model: DGAD | ADCGAN) -> Scoring | ADCGANScoring:
        """The compiled scoring passes of the experiment's one model (compiled on first use)."""
        if self._scoring is None:
            if isinstance(model, ADCGAN):
                self._scoring = ADCGANScoring(model, self.config.batch_size, self.config.seed, self.config.jit_compile)
            else:
                self._scoring = Scoring(model, self.config.batch_size, self.config.jit_compile)
        return self._scoring

    def class_results_folder(self, class_index: int, score: str) -> Path:
        return self.config.results_folder(score) / class_folder_name(self.dataset, class_index)

    def class_metrics(self, class_index: int, score: str) -> dict | None:
        """The saved metrics of one class and score (AUC, speed, ...), or None if it was not tested yet
        (or was tested with other settings, or on a model whose training had not finished)."""
        folder = self.class_results_folder(class_index, score)
        saved = load_config_dict(folder)
        if saved is None or self.config.training_differences(saved):
            return None
        metrics = read_class_metrics(folder)
        if metrics is None or metrics.get("trained_iterations", 0) < self.schedule(class_index)[0]:
            return None
        if self.config.method == "adcgan" and (metrics.get("lambda"), metrics.get("rho")) != (
                self.config.ns_lambda, self.config.ns_rho):
            return None
        return metrics

    def test_class(self, class_index: int, scores: tuple[str, ...] | None = None) -> dict[str, float]:
        """Score the test set with the trained model of one class, for each score (default: config.scores);
        write the results of each score; return {score: AUC}."""
        scores = scores or self.config.scores
        split = one_class_split(self.dataset, class_index, self.config.scheme)
        model, checkpoints = self.restored(class_index)
        run = {"trained_iterations": int(model.iterations), "training_seconds": checkpoints.training_seconds,
               "environment": software_and_machine()}
        try:
            score_results = (self.adcgan_scores if isinstance(model, ADCGAN) else self.dgad_scores)(
                model, split, scores)
            return {score: self.write_results(class_index, split, score, anomaly_scores, columns, {**metrics, **run})
                    for score, (anomaly_scores, columns, metrics) in score_results.items()}
        except ValueError as error:
            raise ExperimentError(f"cannot evaluate {self.describe(class_index)}: {error}") from error

    def dgad_scores(self, model: DGAD, split, scores: tuple[str, ...]) -> dict[str, tuple]:
        """{score: (anomaly scores, extra columns, metrics)} for s_rec (eqs 15-16) and s_dir (eq 17)."""
        scoring = self.scoring(model)
        test_images = to_model_images(split.test_images, self.config.image_size)
        results = {}
        if "rec" in scores:
            errors, seconds = timed(scoring.reconstruction_errors, test_images)
            raw_scores = reconstruction_score(errors["image_error"], errors["latent_error"], self.config.lambda_s)
            results["rec"] = (min_max_normalise(raw_scores), {"s_rec": raw_scores, **errors},
                              {"images_per_second": len(raw_scores) / seconds, "scoring_seconds": seconds})
        if "dir" in scores:
            train_images = to_model_images(split.train_images, self.config.image_size)
            train_probabilities, train_seconds = timed(scoring.transformation_probabilities, train_images)
            alphas = fit_grouped_dirichlet(train_probabilities, scoring.label_groups)
            probabilities, seconds = timed(scoring.transformation_probabilities, test_images)
            normality = grouped_dirichlet_normality_score(probabilities, alphas, scoring.label_groups)
            accuracy = scoring.discriminator_accuracy(probabilities)
            normal = split.test_anomaly_labels == 0
            # s_dir is a normality score (higher = more normal); its negation ranks anomalies first.
            results["dir"] = (min_max_normalise(-normality), {"s_dir": normality, "discriminator_accuracy": accuracy},
                              {"images_per_second": len(normality) / seconds, "training_pass_seconds": train_seconds,
                               "scoring_seconds": seconds + train_seconds,
                               "discriminator_accuracy_normal": float(accuracy[normal].mean()),
                               "discriminator_accuracy_all": float(accuracy.mean()), "alphas": alphas})
        return results

    def adcgan_scores(self, model: ADCGAN, split, scores: tuple[str, ...]) -> dict[str, tuple]:
        """{score: (anomaly scores, extra columns, metrics)} for AD-CGAN's NS (eqs 4-5) and its ablations."""
        scoring = self.scoring(model)
        test_images = to_model_images(split.test_images, self.config.image_size)
        terms, seconds = timed(scoring.terms, test_images)
        terms = {name: values.astype(np.float64) for name, values in terms.items()}
        results = {}
        for score in scores:
            # NS is an anomaly score already: every term is a reconstruction error.
            raw_scores = normality_score(terms, self.config.ns_lambda, self.config.ns_rho, score)
            results[score] = (min_max_normalise(raw_scores), {f"ns_{score}": raw_scores, **terms},
                              {"images_per_second": len(raw_scores) / seconds, "scoring_seconds": seconds,
                               "lambda": self.config.ns_lambda, "rho": self.config.ns_rho})
        return results

    def write_results(self, class_index, split, score, anomaly_scores, columns, metrics) -> float:
        folder = self.class_results_folder(class_index, score)
        save_config(self.config, folder)
        auc = write_class_results(folder, split.test_anomaly_labels, anomaly_scores,
                                  self.dataset.class_names[class_index],
                                  extra_columns={"class_label": split.test_class_labels, **columns}, metrics=metrics)
        print(f"{self.describe(class_index)}: s_{score} AUC {auc:.4f} ({metrics['images_per_second']:.0f} "
              f"images/s); results in {folder}")
        return auc

    def test_classes(self, classes: list[int]) -> list[Path]:
        """Test each class, then write summary.json / summary.md of each score beside its per-class folders.

        If a class fails, the classes tested before it are summarised before the error goes on.
        """
        per_class_auc = {score: {} for score in self.config.scores}
        try:
            for index in classes:
                for score, auc in self.test_class(index).items():
                    per_class_auc[score][self.dataset.class_names[index]] = auc
        except Exception:
            if any(per_class_auc.values()):
                print(f"testing failed after {len(next(iter(per_class_auc.values())))} classes; summarising them")
                for score, auc in per_class_auc.items():
                    self.write_score_summary(score, auc)
            raise
        return [self.write_score_summary(score, auc) for score, auc in per_class_auc.items()]

    def write_score_summary(self, score: str, per_class_auc: dict[str, float]) -> Path:
        config = self.config
        paper = paper_reference(config.method, config.dataset, config.protocol, config.scheme, config.variant, score)
        json_path, markdown_path = write_summary(config.results_folder(score), per_class_auc,
                                                 list(self.dataset.class_names), {**config.to_dict(), "score": score}, paper)
        print(f"s_{score}: mean AUC over {len(per_class_auc)} classes: {np.mean(list(per_class_auc.values())):.4f}; "
              f"summary in {markdown_path} and {json_path}")
        return json_path
