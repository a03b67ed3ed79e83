"""The settings of a training run: one typed record, its checks and recipes.

``TrainOptions`` is the single home of every training default: the
``python -m resnet_v2.train`` flags are generated from its fields (name,
type, default and help text), so a default is written once::

  options = TrainOptions(data_dir='photos', train_dir='runs/photos',
                         model='resnet_v2_18', max_steps=1000)
  check_options(options)               # ValueError naming the bad field
  image_size = resolve_image_size(options, options.image_size)
"""

import dataclasses
import math
import os
from typing import Optional, Sequence

from resnet_v2 import weights
from resnet_v2.common import checks
from resnet_v2.common import precision as precision_lib
from resnet_v2.data import image_folder
from resnet_v2.data import preprocessing
from resnet_v2.nets import analysis
from resnet_v2.nets import arg_scope
from resnet_v2.nets import inputs as inputs_lib
from resnet_v2.nets import normalization
from resnet_v2.nets import registry
from resnet_v2.training import distribution
from resnet_v2.training import schedule


def _option(default, help_text, **metadata):
  """A dataclass field with the help text its command-line flag shows."""
  if isinstance(default, (list, tuple)):
    return dataclasses.field(default_factory=lambda: list(default),
                             metadata=dict(help=help_text, **metadata))
  return dataclasses.field(default=default,
                           metadata=dict(help=help_text, **metadata))


@dataclasses.dataclass
class TrainOptions:
  """Everything a training run needs; the fields are the train flags.

  Exactly one of ``max_steps`` and ``epochs`` must be set. ``image_size``
  and ``central_fraction`` None mean the run's input settings: those of
  the release when ``checkpoint_path`` names TF-Slim's released weights,
  else the model's own (see ``input_settings``).
  """
  data_dir: str = _option(
      None, 'Folder with one subfolder of images (PNG/JPEG) per class.')
  train_dir: str = _option(
      None, 'Folder for checkpoints, TensorBoard events and run.json.')
  model: str = _option('resnet_v2_50', 'Registered model to train.',
                       choices=registry.list_models)
  image_size: Optional[int] = _option(
      None, "Side of the square network input; default: the model's.")
  batch_size: int = _option(32, 'Images per training step.')
  max_steps: Optional[int] = _option(None, 'Steps to train (or use --epochs).')
  epochs: Optional[float] = _option(None, 'Passes over the training images.')
  learning_rate: float = _option(0.05, 'Initial learning rate.')
  lr_schedule: str = _option(
      'cosine', 'cosine: decay to 0; step: /10 at 50% and 75%; constant.',
      choices=lambda: schedule.LR_SCHEDULES)
  warmup_steps: int = _option(0, 'Linear learning-rate warm-up steps.')
  momentum: float = _option(0.9, 'Momentum of SGD.')
  weight_decay: float = _option(1e-4, 'L2 penalty on the conv weights.')
  batch_norm_decay: float = _option(
      arg_scope.BATCH_NORM_DECAY,
      'Decay of the batch-norm moving averages; use about 0.9 for runs of a '
      'few hundred steps.')
  validation_split: float = _option(
      0.0, 'Fraction of every class held out for validation.')
  seed: int = _option(0, 'Fixes the split, data order and crops.')
  precision: str = _option(
      'fp32', 'fp32, or bf16 mixed precision where the hardware has it.',
      choices=lambda: precision_lib.PRECISIONS)
  min_crop_area: float = _option(
      preprocessing.DEFAULT_MIN_CROP_AREA, 'Smallest image fraction a random crop keeps (1: no crop).')
  flip: bool = _option(True, 'Random left-right flips.')
  color_jitter: bool = _option(
      False, 'Random brightness, saturation, hue and contrast.')
  central_fraction: Optional[float] = _option(
      None, "Central crop used at evaluation and export; default: the "
      "model's.")
  checkpoint_path: Optional[str] = _option(
      None, 'Checkpoint (file, prefix or folder) to fine-tune from, or '
      "imagenet for TF-Slim's released weights of --model (fetched on "
      'first use; the release also sets the image size and preprocessing).')
  checkpoint_exclude_scopes: Sequence[str] = _option(
      (), 'Comma-separated scopes not restored from checkpoint_path.')
  trainable_scopes: Sequence[str] = _option(
      (), 'Comma-separated scopes to train; default: all.')
  save_every: int = _option(500, 'Steps between checkpoints.')
  log_every: int = _option(50, 'Steps between log lines.')
  strict: bool = _option(
      False, 'Fail on an unreadable image instead of skipping it.')
  strategy: str = _option(
      'default', 'default: one device; mirrored: every local GPU (or '
      '--cpu_replicas slices of the CPU); multi_worker: the processes of '
      'TF_CONFIG (MultiWorkerMirroredStrategy).',
      choices=lambda: distribution.STRATEGIES)
  batch_norm: str = _option(
      'local', "local: each replica's batch statistics; sync: the global "
      "batch's, all-reduced every step; frozen: the moving averages, not "
      'updated.', choices=lambda: normalization.BATCH_NORM_MODES)
  cpu_replicas: int = _option(
      0, 'With --strategy=mirrored on a machine without GPUs: split the CPU '
      'into this many replicas (0: one).')
  worker_timeout: float = _option(
      300.0, 'Seconds to wait for the other workers of TF_CONFIG to start.')


@dataclasses.dataclass
class TrainResult:
  """How a run ended.

  Attributes:
    global_step: the step of the last checkpoint (the step a resume starts
      from).
    loss: total loss of the last step run, or None if no step ran.
    accuracy: training-batch accuracy of the last step run, or None.
    interrupted: the stop signal's name ('SIGINT', 'SIGTERM') or None.
    history: ``(step, loss, accuracy)`` of every logged step of this run.
    skipped_images: unreadable files left out of training.
    checkpoint: the prefix of the last checkpoint.
    validation: the held-out ``ImageFolder`` (None without a split), so
      the run can be scored without scanning the folder again.
    fingerprint: a short hash of the trained weights; the workers of a
      distributed run print the same one.
  """
  global_step: int
  loss: Optional[float]
  accuracy: Optional[float]
  interrupted: Optional[str]
  history: Sequence[tuple]
  skipped_images: Sequence[str]
  checkpoint: Optional[str]
  validation: Optional[image_folder.ImageFolder] = None
  fingerprint: Optional[str] = None


def _check_positive(name, value, kind=int):
  """Raise unless ``value`` is a positive ``kind`` (an int for counts)."""
  if kind is int:
    checks.check_count(name, value, 1)
  else:
    checks.check_number(name, value, above=0.0)


def check_options(options: TrainOptions) -> None:
  """Raise a ValueError naming the first option that cannot work."""
  registry.get_spec(options.model)
  input_settings(options)
  _check_positive('batch_size', options.batch_size)
  _check_positive('learning_rate', options.learning_rate, float)
  _check_positive('save_every', options.save_every)
  _check_positive('log_every', options.log_every)
  if (options.max_steps is None) == (options.epochs is None):
    raise ValueError('pass exactly one of max_steps (e.g. 1000) and epochs '
                     '(e.g. 10); got max_steps=%r, epochs=%r.'
                     % (options.max_steps, options.epochs))
  if options.max_steps is not None:
    _check_positive('max_steps', options.max_steps)
  else:
    _check_positive('epochs', options.epochs, float)
  if options.lr_schedule not in schedule.LR_SCHEDULES:
    raise ValueError('lr_schedule must be one of %s; got %r.'
                     % (', '.join(schedule.LR_SCHEDULES), options.lr_schedule))
  checks.check_number('min_crop_area', options.min_crop_area, above=0.0,
                      at_most=1.0, hint=' (1 disables random crops)')
  checks.check_number('batch_norm_decay', options.batch_norm_decay,
                      above=0.0, below=1.0,
                      hint=', e.g. 0.997 for long runs or 0.9 for a few '
                      'hundred steps')
  if options.central_fraction is not None:
    checks.check_number('central_fraction', options.central_fraction,
                        above=0.0, at_most=1.0)
  checks.check_number('momentum', options.momentum, at_least=0.0, below=1.0)
  checks.check_number('validation_split', options.validation_split,
                      at_least=0.0, below=1.0,
                      hint=', e.g. 0.2 to hold out a fifth of every class')
  checks.check_number('weight_decay', options.weight_decay, at_least=0.0)
  checks.check_count('warmup_steps', options.warmup_steps, 0)
  if not (checks.is_int(options.seed) and 0 <= options.seed < 2 ** 32):
    raise ValueError('seed must be an int in [0, 2**32 - 1], e.g. 0; got %r.'
                     % (options.seed,))
  checks.check_count('cpu_replicas', options.cpu_replicas, 0)
  checks.check_number('worker_timeout', options.worker_timeout, above=0.0)
  distribution.check_strategy(options.strategy)
  normalization.check_mode(options.batch_norm)
  precision_lib.check_precision_supported(options.precision)


def check_train_dir(train_dir: str, data_dir: Optional[str] = None) -> None:
  """Raise unless ``train_dir`` is (or can become) a writable folder.

  It must also lie outside ``data_dir``: a folder there would be read as
  one more class of images the next time the data is scanned.
  """
  if not train_dir:
    raise ValueError('train_dir is empty: pass the folder for checkpoints.')
  if data_dir and _inside(train_dir, data_dir):
    raise ValueError(
        'train_dir %r is inside data_dir %r, where it would be read as a '
        'class of images: pass a train_dir outside the image folder (a run '
        'already there can be moved out and resumed from its new place).'
        % (train_dir, data_dir))
  if os.path.exists(train_dir) and not os.path.isdir(train_dir):
    raise ValueError('train_dir %r is a file, not a folder: pass a folder '
                     'path (new or holding a run of this model).'
                     % (train_dir,))
  checks.check_writable('train_dir', train_dir)


def _inside(path: str, folder: str) -> bool:
  """Whether ``path`` is ``folder`` or lies below it (links resolved)."""
  path, folder = os.path.realpath(path), os.path.realpath(folder)
  return os.path.commonpath([path, folder]) == folder


def input_settings(options: TrainOptions) -> inputs_lib.InputSettings:
  """What the run's images look like: the release's settings when it
  fine-tunes TF-Slim's released weights, else the model's own.

  Raises:
    ValueError: for ``--checkpoint_path=imagenet`` with a model that has
      no release, or another model's release.
  """
  release = weights.release_for(options.checkpoint_path, options.model)
  if release is not None:
    return release.inputs
  return registry.get_spec(options.model).inputs


def resolve_image_size(options: TrainOptions,
                       image_size: Optional[int]) -> int:
  """The input side to use: ``image_size`` or the run's default, checked.

  Raises:
    ValueError: naming the smallest size that works
      (``analysis.check_image_size``).
  """
  if image_size is None:
    return input_settings(options).image_size
  analysis.check_image_size(options.model, image_size)
  return image_size


def resolve_central_fraction(options: TrainOptions,
                             central_fraction: Optional[float]) -> float:
  """``central_fraction``, or the run's evaluation crop when None."""
  if central_fraction is None:
    return input_settings(options).central_fraction
  return central_fraction


def steps_for(options: TrainOptions, num_examples: int) -> int:
  """``max_steps``, or the steps that make ``epochs`` passes over the data."""
  if options.max_steps is not None:
    return options.max_steps
  return int(math.ceil(options.epochs * num_examples / options.batch_size))


# Trains resnet_v2_18 to about 98% test accuracy in about 90 seconds on two
# CPU cores. The digits are upsampled to 32x32, the smallest input a
# stride-32 net accepts; crops keep at least 70% of the image (small shifts
# and zooms) and there are no flips, since a mirrored digit is another
# symbol or none; a batch-norm decay of 0.99 lets the moving averages
# forget their initial values within the run.
DIGITS_RECIPE = dict(model='resnet_v2_18', image_size=32, batch_size=32,
                     max_steps=600, learning_rate=0.05, warmup_steps=50,
                     weight_decay=5e-4, batch_norm_decay=0.99,
                     min_crop_area=0.7, flip=False,
                     central_fraction=1.0, save_every=10 ** 9, log_every=100)


def digits_train_options(data_dir: str, train_dir: str,
                         **overrides) -> TrainOptions:
  """``TrainOptions`` of ``DIGITS_RECIPE``, ``overrides`` applied."""
  return TrainOptions(data_dir=data_dir, train_dir=train_dir,
                      **dict(DIGITS_RECIPE, **overrides))
