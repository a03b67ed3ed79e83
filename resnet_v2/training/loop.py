"""Train a registered model on an image folder, resumably.

  result = train(TrainOptions(data_dir='photos', train_dir='runs/photos',
                              model='resnet_v2_18', max_steps=1000))

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

import os

from absl import logging
import numpy as np
import tensorflow.compat.v1 as tf
import tf_slim as slim

from resnet_v2.common import precision as precision_lib
from resnet_v2.data import image_folder
from resnet_v2.data import pipeline
from resnet_v2.nets import zoo
from resnet_v2.training import checkpoints
from resnet_v2.training import interrupts
from resnet_v2.training import options as options_lib
from resnet_v2.training import progress
from resnet_v2.training import run_dir
from resnet_v2.training import schedule

CHECKPOINT_NAME = 'model.ckpt'


def _load_folder(options):
  """The (training, validation) split of the readable images, and the skipped.

  The folder is scanned and decoded once; the validation part (None
  without a split) is handed back so that scoring it needs no second pass.
  """
  folder, skipped = image_folder.load(options.data_dir, strict=options.strict)
  if not options.validation_split:
    return folder, None, skipped
  training, validation = image_folder.split(folder, options.validation_split,
                                            options.seed)
  return training, validation, skipped


def _run_record(options, class_names, image_size):
  """The train_dir record: what evaluation and export need to know."""
  return {
      'model': options.model,
      'class_names': list(class_names),
      'image_size': image_size,
      'central_fraction': options_lib.resolve_central_fraction(
          options.model, options.central_fraction),
      'value_range': list(zoo.get_spec(options.model).inputs.value_range),
      'validation_split': options.validation_split,
      'seed': options.seed,
  }


def _resume_step(train_dir):
  """The global step of the latest checkpoint in ``train_dir`` (0 if none)."""
  latest = run_dir.latest_checkpoint(train_dir)
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
    dataset = pipeline.training_dataset(
        folder, image_size, options.batch_size, options.seed, start_step,
        min_crop_area=options.min_crop_area, flip=options.flip,
        color_jitter=options.color_jitter,
        value_range=zoo.get_spec(options.model).inputs.value_range)
    images, labels = tf.data.make_one_shot_iterator(dataset).get_next()
    network_fn = zoo.get_network_fn(
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
    self.learning_rate = schedule.learning_rate(
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


def train(options: options_lib.TrainOptions) -> options_lib.TrainResult:
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
  options_lib.check_options(options)
  image_size = options_lib.resolve_image_size(options.model,
                                              options.image_size)
  folder, validation, skipped = _load_folder(options)
  class_names = folder.class_names
  if skipped:
    logging.warning('skipped %d unreadable image(s): %s', len(skipped),
                    ', '.join(skipped))
  run = _run_record(options, class_names, image_size)
  run_dir.check_owner(options.train_dir, run)
  max_steps = options_lib.steps_for(options, len(folder.paths))
  start_step, latest = _resume_step(options.train_dir)
  if start_step >= max_steps:
    logging.info('%s is already at step %d of %d: nothing to train (raise '
                 '--max_steps or --epochs to continue).', options.train_dir,
                 start_step, max_steps)
    return options_lib.TrainResult(start_step, None, None, None, [], skipped,
                                    latest, validation)
  logging.info('%s on %d images of %d classes at %dx%d: steps %d to %d%s',
               options.model, len(folder.paths), len(class_names), image_size,
               image_size, start_step, max_steps,
               ' (resumed from %s)' % latest if latest else '')
  with tf.Graph().as_default():
    graph = TrainGraph(options, folder, image_size, start_step, max_steps)
    restore = _initial_restore(options, latest)
    run_dir.claim(options.train_dir, run)
    with interrupts.StopRequest() as stop:
      step, history = _run_session(graph, options, latest, restore,
                                   start_step, max_steps, stop)
  loss, accuracy = history[-1][1:] if history else (None, None)
  return options_lib.TrainResult(
      step, loss, accuracy, stop.requested, history, skipped,
      run_dir.latest_checkpoint(options.train_dir), validation)
