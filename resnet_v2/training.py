"""Train a registered model on an image folder, resumably.

``train(TrainOptions(...))`` is the whole recipe: the folder is scanned and
checked, the graph is built (input pipeline, net, softmax cross-entropy
plus the weight penalties, momentum SGD that also runs the batch-norm
moving-average updates in UPDATE_OPS), a fine-tuning checkpoint is checked
against the graph, and only then is ``train_dir`` claimed and written.
Checkpoints are saved every ``save_every`` steps, at the end, and when the
run is stopped with Ctrl-C or ``kill``; the next run in the same folder
restores the latest one and continues the same data stream (see
``input_pipeline``), so no step is lost or repeated beyond the last save.
"""

import dataclasses
import math
import os
from typing import Optional, Sequence

from absl import logging
import numpy as np
import tensorflow.compat.v1 as tf
import tf_slim as slim

from resnet_v2 import analysis
from resnet_v2 import checkpoints
from resnet_v2 import image_folder
from resnet_v2 import input_pipeline
from resnet_v2 import interrupts
from resnet_v2 import precision as precision_lib
from resnet_v2 import preprocessing
from resnet_v2 import progress
from resnet_v2 import registry
from resnet_v2 import train_dir as train_dir_lib

LR_SCHEDULES = ('cosine', 'step', 'constant')
CHECKPOINT_NAME = 'model.ckpt'


@dataclasses.dataclass
class TrainOptions:
  """Everything a training run needs; the fields mirror the train flags.

  Exactly one of ``max_steps`` and ``epochs`` must be set. ``image_size``
  None means the model's default size (224 for the ImageNet nets).
  """
  data_dir: str
  train_dir: str
  model: str = 'resnet_v2_50'
  image_size: Optional[int] = None
  batch_size: int = 32
  max_steps: Optional[int] = None
  epochs: Optional[float] = None
  learning_rate: float = 0.05
  lr_schedule: str = 'cosine'
  warmup_steps: int = 0
  momentum: float = 0.9
  weight_decay: float = 1e-4
  batch_norm_decay: float = 0.997
  validation_split: float = 0.0
  seed: int = 0
  precision: str = 'fp32'
  min_crop_area: float = preprocessing.DEFAULT_MIN_CROP_AREA
  flip: bool = True
  color_jitter: bool = False
  central_fraction: float = preprocessing.DEFAULT_CENTRAL_FRACTION
  checkpoint_path: Optional[str] = None
  checkpoint_exclude_scopes: Sequence[str] = ()
  trainable_scopes: Sequence[str] = ()
  save_every: int = 500
  log_every: int = 50
  strict: bool = False


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
  """
  global_step: int
  loss: Optional[float]
  accuracy: Optional[float]
  interrupted: Optional[str]
  history: Sequence[tuple]
  skipped_images: Sequence[str]
  checkpoint: Optional[str]


def _positive(name, value, kind=int):
  """Raise a ValueError unless ``value`` is a positive ``kind``."""
  if isinstance(value, bool) or not isinstance(value, (kind, int)) or \
      not value > 0:
    raise ValueError('%s must be a positive %s; got %r.'
                     % (name, kind.__name__, value))


def check_options(options):
  """Raise a ValueError naming the first option that cannot work."""
  registry.get_spec(options.model)
  _positive('batch_size', options.batch_size)
  _positive('learning_rate', options.learning_rate, float)
  _positive('save_every', options.save_every)
  _positive('log_every', options.log_every)
  if (options.max_steps is None) == (options.epochs is None):
    raise ValueError('pass exactly one of max_steps (e.g. 1000) and epochs '
                     '(e.g. 10); got max_steps=%r, epochs=%r.'
                     % (options.max_steps, options.epochs))
  if options.max_steps is not None:
    _positive('max_steps', options.max_steps)
  else:
    _positive('epochs', options.epochs, float)
  if options.lr_schedule not in LR_SCHEDULES:
    raise ValueError('lr_schedule must be one of %s; got %r.'
                     % (', '.join(LR_SCHEDULES), options.lr_schedule))
  if not 0 < options.min_crop_area <= 1:
    raise ValueError('min_crop_area must be in (0, 1] (1 disables random '
                     'crops); got %r.' % (options.min_crop_area,))
  if not 0 <= options.batch_norm_decay < 1:
    raise ValueError('batch_norm_decay must be in [0, 1), e.g. 0.997 for '
                     'long runs or 0.9 for a few hundred steps; got %r.'
                     % (options.batch_norm_decay,))
  if not 0 < options.central_fraction <= 1:
    raise ValueError('central_fraction must be in (0, 1]; got %r.'
                     % (options.central_fraction,))
  precision_lib.check_precision_supported(options.precision)


def resolve_image_size(model, image_size):
  """The input side to use: ``image_size`` or the model's default, checked.

  Raises:
    ValueError: naming the smallest size that works
      (``analysis.check_image_size``).
  """
  if image_size is None:
    return registry.get_spec(model).default_image_size
  analysis.check_image_size(model, image_size)
  return image_size


def steps_for(options, num_examples):
  """``max_steps``, or the steps that make ``epochs`` passes over the data."""
  if options.max_steps is not None:
    return options.max_steps
  return int(math.ceil(options.epochs * num_examples / options.batch_size))


def learning_rate(base_rate, schedule, global_step, max_steps, warmup_steps=0):
  """The learning-rate tensor for ``global_step``.

  'cosine' decays from ``base_rate`` to 0 over ``max_steps`` (Loshchilov &
  Hutter 2017); 'step' divides it by 10 at 50% and again at 75% of the run,
  the classic ResNet recipe; 'constant' keeps it. A linear warm-up over the
  first ``warmup_steps`` steps protects large rates from an early blow-up.
  """
  if schedule == 'cosine':
    rate = tf.train.cosine_decay(base_rate, global_step, max_steps)
  elif schedule == 'step':
    rate = tf.train.piecewise_constant(
        global_step, [max_steps // 2, (max_steps * 3) // 4],
        [base_rate, base_rate * 0.1, base_rate * 0.01])
  else:
    rate = tf.constant(base_rate, tf.float32)
  if warmup_steps:
    ramp = tf.cast(global_step + 1, tf.float32) / float(warmup_steps)
    rate = rate * tf.minimum(ramp, 1.0)
  return rate


def _load_folder(options):
  """The training ImageFolder (readable images only) and the skipped paths."""
  folder = image_folder.scan(options.data_dir)
  folder, skipped = image_folder.drop_unreadable(folder, strict=options.strict)
  training = image_folder.select(folder, 'training', options.validation_split,
                                 options.seed)
  return folder.class_names, training, skipped


def _run_record(options, class_names, image_size):
  """The train_dir record: what evaluation and export need to know."""
  return {
      'model': options.model,
      'class_names': list(class_names),
      'image_size': image_size,
      'central_fraction': options.central_fraction,
      'validation_split': options.validation_split,
      'seed': options.seed,
  }


def _resume_step(train_dir):
  """The global step of the latest checkpoint in ``train_dir`` (0 if none)."""
  latest = train_dir_lib.latest_checkpoint(train_dir)
  if not latest:
    return 0, None
  return int(tf.train.load_variable(latest, 'global_step')), latest


class TrainGraph(object):
  """The tensors and ops of one training step, built in the default graph.

  Attributes:
    global_step, loss (cross-entropy plus weight penalties),
    cross_entropy, accuracy (of the batch), learning_rate, train_op (one
    momentum-SGD step that first runs the UPDATE_OPS), summaries, saver.
  """

  def __init__(self, options, folder, image_size, start_step, max_steps):
    tf.set_random_seed(options.seed)
    self.global_step = tf.train.get_or_create_global_step()
    dataset = input_pipeline.training_dataset(
        folder, image_size, options.batch_size, options.seed, start_step,
        min_crop_area=options.min_crop_area, flip=options.flip,
        color_jitter=options.color_jitter)
    images, labels = tf.data.make_one_shot_iterator(dataset).get_next()
    network_fn = registry.get_network_fn(
        options.model, num_classes=folder.num_classes,
        weight_decay=options.weight_decay,
        batch_norm_decay=options.batch_norm_decay, is_training=True)
    logits, _ = network_fn(images)
    self.cross_entropy = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    self.loss = tf.add(self.cross_entropy, tf.losses.get_regularization_loss(),
                       name='total_loss')
    self.accuracy = tf.reduce_mean(tf.cast(
        tf.equal(tf.argmax(logits, 1, output_type=tf.int32), labels),
        tf.float32))
    self.learning_rate = learning_rate(
        options.learning_rate, options.lr_schedule, self.global_step,
        max_steps, options.warmup_steps)
    self.train_op = self._train_op(options)
    self.summaries = self._summaries()
    self.saver = tf.train.Saver(max_to_keep=5)

  def _train_op(self, options):
    """Momentum SGD on the trainable scopes, after the batch-norm updates."""
    variables = checkpoints.trainable(tf.trainable_variables(),
                                      options.trainable_scopes)
    optimizer = tf.train.MomentumOptimizer(self.learning_rate,
                                           options.momentum)
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
      return optimizer.minimize(self.loss, self.global_step, var_list=variables)

  def _summaries(self):
    """The merged TensorBoard scalars."""
    tf.summary.scalar('losses/total_loss', self.loss)
    tf.summary.scalar('losses/cross_entropy', self.cross_entropy)
    tf.summary.scalar('accuracy', self.accuracy)
    tf.summary.scalar('learning_rate', self.learning_rate)
    return tf.summary.merge_all()


def _initial_restore(options, latest):
  """The function that fills the variables before the first step.

  The latest checkpoint of ``train_dir`` when resuming (the fine-tuning
  checkpoint is then ignored, as in TF-Slim), else the fine-tuning
  checkpoint, checked against the graph now, before any training.
  """
  if latest or not options.checkpoint_path:
    return None
  restore, _ = checkpoints.restore_fn(
      options.checkpoint_path, slim.get_model_variables(),
      options.checkpoint_exclude_scopes)
  return restore


def _check_finite(loss, step):
  """Raise if the loss diverged, so no NaN weights are saved."""
  if not np.isfinite(loss):
    raise FloatingPointError(
        'the loss became %s at step %d: lower --learning_rate (or add '
        '--warmup_steps); the last good checkpoint is kept.' % (loss, step))


def _save(graph, session, prefix, step):
  """Write the checkpoint of ``step``; returns ``step``."""
  graph.saver.save(session, prefix, global_step=step, write_meta_graph=False)
  return step


def _loop(session, graph, options, start_step, max_steps, stop, writer):
  """Run steps until ``max_steps`` or a stop request, then save.

  A stop signal may arrive at any point of a step; whatever step was
  reached last is logged and saved after the loop.

  Returns:
    ``(step, history)``: the last step and the logged (step, loss,
    accuracy) triples, the last step always included.
  """
  report = progress.TrainingProgress(start_step, max_steps,
                                     options.batch_size, options.log_every)
  prefix = os.path.join(options.train_dir, CHECKPOINT_NAME)
  step, saved, history = start_step, start_step, []
  fetches = [graph.train_op, graph.loss, graph.accuracy]
  while step < max_steps and not stop.requested:
    step += 1  # The train op increments global_step exactly once.
    log_now = step % options.log_every == 0
    values = session.run(fetches + ([graph.summaries] if log_now else []))
    loss, accuracy = float(values[1]), float(values[2])
    _check_finite(loss, step)
    if log_now:
      writer.add_summary(values[3], step)
    if report.update(step, loss, accuracy):
      history.append((step, loss, accuracy))
    if step % options.save_every == 0:
      saved = _save(graph, session, prefix, step)
  if step > start_step and history[-1:] != [(step, loss, accuracy)]:
    report.update(step, loss, accuracy, force_log=True)
    history.append((step, loss, accuracy))
  if step > saved:
    _save(graph, session, prefix, step)
  if stop.requested:
    report.message('%s received: stopped and saved at step %d; run the same '
                   'command again to resume.' % (stop.requested, step))
  return step, history


def _run_session(graph, options, latest, restore, start_step, max_steps,
                 stop):
  """Initialise or restore the variables, then run ``_loop``."""
  config = precision_lib.session_config(options.precision)
  with tf.Session(config=config) as session:
    session.run(tf.global_variables_initializer())
    if latest:
      graph.saver.restore(session, latest)
    elif restore:
      restore(session)
    writer = tf.summary.FileWriter(options.train_dir,
                                   None if latest else session.graph)
    try:
      return _loop(session, graph, options, start_step, max_steps, stop,
                   writer)
    finally:
      writer.close()


def train(options):
  """Train (or resume, or fine-tune) as ``options`` say.

  Returns:
    A ``TrainResult``.

  Raises:
    ValueError: for bad options or data, a train_dir owned by another run,
      or a fine-tuning checkpoint that does not fit
      (``checkpoints.CheckpointMismatchError``), always before any file is
      written.
    FloatingPointError: if the loss diverges.
  """
  check_options(options)
  image_size = resolve_image_size(options.model, options.image_size)
  class_names, folder, skipped = _load_folder(options)
  if skipped:
    logging.warning('skipped %d unreadable image(s): %s', len(skipped),
                    ', '.join(skipped))
  run = _run_record(options, class_names, image_size)
  train_dir_lib.check_owner(options.train_dir, run)
  max_steps = steps_for(options, len(folder.paths))
  start_step, latest = _resume_step(options.train_dir)
  if start_step >= max_steps:
    logging.info('%s is already at step %d of %d: nothing to train (raise '
                 '--max_steps or --epochs to continue).', options.train_dir,
                 start_step, max_steps)
    return TrainResult(start_step, None, None, None, [], skipped, latest)
  logging.info('%s on %d images of %d classes at %dx%d: steps %d to %d%s',
               options.model, len(folder.paths), len(class_names), image_size,
               image_size, start_step, max_steps,
               ' (resumed from %s)' % latest if latest else '')
  with tf.Graph().as_default():
    graph = TrainGraph(options, folder, image_size, start_step, max_steps)
    restore = _initial_restore(options, latest)
    train_dir_lib.claim(options.train_dir, run)
    with interrupts.StopRequest() as stop:
      step, history = _run_session(graph, options, latest, restore,
                                   start_step, max_steps, stop)
  loss, accuracy = history[-1][1:] if history else (None, None)
  return TrainResult(step, loss, accuracy, stop.requested, history, skipped,
                     train_dir_lib.latest_checkpoint(options.train_dir))
