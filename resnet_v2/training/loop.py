"""Train a registered model on an image folder, on one device or many.

  result = train(TrainOptions(data_dir='photos', train_dir='runs/photos',
                              model='resnet_v2_18', max_steps=1000,
                              strategy='multi_worker'))

``train`` is TensorFlow 2 code: the net is the tf-keras layer
``resnet_v2.tf_keras.ResNetV2`` (TF-Slim's graph builder and variable
names), and one training step is a ``tf.function`` that runs the forward and
backward pass on every replica of a ``tf.distribute`` strategy
(``strategy.run``), sums the gradients over the replicas and takes one
momentum-SGD step on every copy of the weights. With the default strategy
that is one device; 'mirrored' uses every local GPU; 'multi_worker' the
processes of ``TF_CONFIG``.

Everything that can fail is checked first: options, the folder, the
train_dir's owner, the fine-tuning checkpoint; only then is ``train_dir``
claimed. Checkpoints (TF1 files under TF-Slim's names, see ``saver``) are
written every ``save_every`` steps, at the end, and when Ctrl-C or
``kill`` stops the run; the next run resumes from the newest one and
continues the same data stream, so its losses are those an uninterrupted
run would have had.
"""

import contextlib
import dataclasses
import hashlib
import os
import time

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import summary_pb2

from resnet_v2 import tf_keras as keras_nets
from resnet_v2 import weights
from resnet_v2.common import precision as precision_lib
from resnet_v2.data import image_folder
from resnet_v2.data import pipeline
from resnet_v2.nets import checkpoints
from resnet_v2.training import distribution
from resnet_v2.training import interrupts
from resnet_v2.training import momentum as momentum_lib
from resnet_v2.training import options as options_lib
from resnet_v2.training import progress
from resnet_v2.training import run_dir
from resnet_v2.training import saver as saver_lib
from resnet_v2.training import schedule

CHECKPOINT_NAME = saver_lib.CHECKPOINT_NAME
GLOBAL_STEP = 'global_step'
_SUM = tf.distribute.ReduceOp.SUM


class DistributedError(ValueError):
  """Another worker of a multi-worker run stopped answering."""


def _run_record(options, class_names, image_size):
  """The train_dir record: what evaluation and export need to know."""
  return {
      'model': options.model,
      'class_names': list(class_names),
      'image_size': image_size,
      'central_fraction': options_lib.resolve_central_fraction(
          options, options.central_fraction),
      'value_range': list(options_lib.input_settings(options).value_range),
      'validation_split': options.validation_split,
      'seed': options.seed,
      'data_dir': os.path.abspath(options.data_dir),
      run_dir.CHANGEABLE_KEY: _settings(options),
  }


# Options that are not resumable settings: those that define the run, the
# folder it is written to, and the crop the record holds for evaluation.
_NOT_SETTINGS = run_dir.MEANING_KEYS + ('train_dir', 'central_fraction')


def _settings(options):
  """Every other option, as JSON values: what a resume may change.

  ``run_dir.claim`` notes each change with the step it happened at, so a
  resume with another batch size or learning rate is on record.
  """
  settings = {}
  for field in dataclasses.fields(options):
    if field.name not in _NOT_SETTINGS:
      value = getattr(options, field.name)
      settings[field.name] = (list(value) if isinstance(value, (list, tuple))
                              else value)
  return settings


def _resume_step(train_dir):
  """``(step, prefix)`` of the checkpoint to resume from, or (0, None).

  A line says what changed in ``train_dir`` since the last run, if
  anything did (``run_dir.resume_checkpoint``).
  """
  latest, note = run_dir.resume_checkpoint(train_dir)
  if note:
    print(note, flush=True)
  if not latest:
    return 0, None
  return int(tf.train.load_variable(latest, GLOBAL_STEP)), latest


def _check_replicas(batch_size, replicas):
  """Raise unless the global batch divides evenly among the replicas."""
  if batch_size % replicas:
    raise ValueError(
        'batch_size=%d does not divide among the %d replicas of this run: '
        'use a multiple of %d, e.g. --batch_size=%d (the batch is global; '
        'each replica gets batch_size / %d).'
        % (batch_size, replicas, replicas,
           max(replicas, batch_size - batch_size % replicas), replicas))


class _Model:
  """The layer, its optimizer state and the step counter, in a strategy.

  Built inside ``strategy.scope()``, so every variable is distributed the
  strategy's way (mirrored across replicas, broadcast from worker 0).
  """

  def __init__(self, options, num_classes, image_size, strategy):
    # The same seed gives the same initial weights in every run of these
    # options (an interrupted run and the one it resumes, every worker).
    tf.random.set_seed(options.seed)
    with strategy.scope():
      self.layer = keras_nets.ResNetV2(
          options.model, num_classes, weight_decay=options.weight_decay,
          batch_norm_decay=options.batch_norm_decay,
          batch_norm=options.batch_norm)
      self.layer(tf.zeros([1, image_size, image_size, 3]), training=False)
      variables = self.layer.trainable_variables
      names = [checkpoints.variable_name(v) for v in variables]
      chosen = set(map(id, checkpoints.trainable(variables,
                                                 options.trainable_scopes)))
      self.trained = [v for v in variables if id(v) in chosen]
      self.optimizer = momentum_lib.Momentum(
          self.trained, options.momentum,
          [n for n, v in zip(names, variables) if id(v) in chosen])
      self.global_step = tf.Variable(0, dtype=tf.int64, trainable=False,
                                     name=GLOBAL_STEP)

  def named_variables(self):
    """Everything a checkpoint holds, by name."""
    named = {checkpoints.variable_name(v): v for v in self.layer.variables}
    named.update(self.optimizer.named_slots())
    named[GLOBAL_STEP] = self.global_step
    return named

  def fingerprint(self) -> str:
    """A short hash of the trained weights, equal on workers that agree."""
    digest = hashlib.sha256()
    for variable in self.layer.trainable_variables:
      digest.update(np.ascontiguousarray(variable.numpy()).tobytes())
    return digest.hexdigest()[:16]


def step_losses(layer, images, labels):
  """``(summed cross-entropy, weight penalty)`` of ``layer`` on a batch.

  The cross-entropy is summed over the batch, so that dividing by the
  global batch gives every replica's share of the mean; the penalty is the
  L2 term of the conv weights that ``resnet_arg_scope`` regularizes
  (``weight_decay * sum(w ** 2) / 2``), taken from ``layer.losses``.
  """
  logits = layer(images, training=True)
  cross_entropy = tf.reduce_sum(
      tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                     logits=logits))
  penalty = tf.add_n(layer.losses) if layer.losses else tf.constant(0.0)
  return logits, cross_entropy, penalty


def _step_function(model, options, strategy, max_steps):
  """The ``tf.function`` of one training step over every replica.

  ``step(iterator, requested)`` returns: total loss (mean cross-entropy
  plus the weight penalty), cross-entropy, batch accuracy, learning rate,
  and the stop signals ``requested`` (``interrupts.encode``) summed over
  the cluster, so that every worker stops after the same step.
  """
  replicas = strategy.num_replicas_in_sync
  global_batch = float(options.batch_size)

  def replica_step(images, labels, requested):
    with tf.GradientTape() as tape:
      logits, cross_entropy, penalty = step_losses(model.layer, images,
                                                   labels)
      objective = cross_entropy / global_batch + penalty / replicas
    gradients = tape.gradient(objective, model.trained)
    rate = schedule.learning_rate(options.learning_rate, options.lr_schedule,
                                  model.global_step, max_steps,
                                  options.warmup_steps)
    model.optimizer.apply(gradients, rate)
    correct = tf.reduce_sum(tf.cast(
        tf.equal(tf.argmax(logits, 1, output_type=tf.int32), labels),
        tf.float32))
    stops = tf.distribute.get_replica_context().all_reduce(
        _SUM, tf.identity(requested))
    return cross_entropy, penalty, correct, rate, stops

  @tf.function
  def step(iterator, requested):
    images, labels = next(iterator)
    outputs = strategy.run(replica_step, args=(images, labels, requested))
    stops = strategy.experimental_local_results(outputs[4])[0]
    cross_entropy = strategy.reduce(_SUM, outputs[0], axis=None)
    penalty = strategy.reduce(tf.distribute.ReduceOp.MEAN, outputs[1],
                              axis=None)
    correct = strategy.reduce(_SUM, outputs[2], axis=None)
    rate = strategy.reduce(tf.distribute.ReduceOp.MEAN, outputs[3], axis=None)
    model.global_step.assign_add(1)
    mean_cross_entropy = cross_entropy / global_batch
    return (mean_cross_entropy + penalty, mean_cross_entropy,
            correct / global_batch, rate, stops)

  return step


def _check_finite(loss, step):
  """Raise if the loss diverged, so no NaN weights are saved."""
  if not np.isfinite(loss):
    raise FloatingPointError(
        'the loss became %s at step %d: lower --learning_rate (or add '
        '--warmup_steps); the last good checkpoint is kept.' % (loss, step))


def _dataset(folder, options, image_size, strategy, start_step):
  """The distributed training stream from ``start_step`` on."""
  value_range = options_lib.input_settings(options).value_range

  def replica_dataset(context):
    return pipeline.training_dataset(
        folder, image_size, options.batch_size, options.seed, start_step,
        min_crop_area=options.min_crop_area, flip=options.flip,
        color_jitter=options.color_jitter, value_range=value_range,
        shard=context.input_pipeline_id,
        num_shards=context.num_input_pipelines,
        replica_batch_size=context.get_per_replica_batch_size(
            options.batch_size))

  return strategy.distribute_datasets_from_function(replica_dataset)


def _scalar_metadata():
  """Summary metadata that marks a value as a TensorBoard scalar.

  Written with TensorFlow's own ``tf.summary.write``, so event files need
  no TensorBoard installed to be written (only to be viewed).
  """
  metadata = summary_pb2.SummaryMetadata()
  metadata.plugin_data.plugin_name = 'scalars'
  metadata.data_class = summary_pb2.DATA_CLASS_SCALAR
  return metadata.SerializeToString()


class _Summaries:
  """TensorBoard scalars of the chief, nothing elsewhere."""

  def __init__(self, directory, enabled):
    self._writer = (tf.summary.create_file_writer(directory) if enabled
                    else None)
    self._metadata = _scalar_metadata()

  def write(self, step, loss, cross_entropy, accuracy, rate):
    if self._writer is None:
      return
    with self._writer.as_default():
      for tag, value in (('losses/total_loss', loss),
                         ('losses/cross_entropy', cross_entropy),
                         ('accuracy', accuracy), ('learning_rate', rate)):
        tf.summary.write(tag, tf.constant(value, tf.float32), step=step,
                         metadata=self._metadata)
    self._writer.flush()

  def close(self):
    if self._writer is not None:
      self._writer.close()


def _loop(run, options, start_step, max_steps, stop):
  """Run steps until ``max_steps`` or a stop request, then save.

  Returns:
    ``(step, history)``: the last step and the logged (step, loss,
    accuracy) triples, the last step always included.
  """
  stream = None if run.is_chief else open(os.devnull, 'w')
  report = progress.TrainingProgress(start_step, max_steps,
                                     options.batch_size, options.log_every,
                                     stream=stream)
  step, saved, history = start_step, start_step, []
  loss = accuracy = None
  # One process stops before the step after a signal. The workers of a
  # cluster learn of a signal from the step itself (an all-reduce of the
  # requests), so all of them stop after that same step.
  alone = distribution.task(run.strategy) is None
  try:
    while step < max_steps and not (alone and stop.requested):
      requested = tf.constant(interrupts.encode(stop.requested))
      *values, stops = run.step(run.iterator, requested)
      values = [float(value) for value in values]
      step += 1
      loss, accuracy = values[0], values[2]
      _check_finite(loss, step)
      if step % options.log_every == 0:
        run.summaries.write(step, *values)
      if report.update(step, loss, accuracy):
        history.append((step, loss, accuracy))
      if step % options.save_every == 0:
        _save(run, step, report)
        saved = step
      received = interrupts.decode(stops.numpy())
      if received:
        stop.requested = received
        break
    if step > start_step and history[-1:] != [(step, loss, accuracy)]:
      report.update(step, loss, accuracy, force_log=True)
      history.append((step, loss, accuracy))
    seconds = _save(run, step, report) if step > saved else None
    if stop.requested:
      _say(run, report, _stopped_line(run, stop.requested, step, seconds))
  finally:
    if stream is not None:
      stream.close()
  return step, history


def _say(run, report, text):
  """Print a line of the run's own on every worker (the chief's progress
  stream; the others have none)."""
  if run.is_chief:
    report.message(text)
  else:
    print(text, flush=True)


def _save(run, step, report):
  """Save ``step`` on every worker; the seconds it took.

  The chief first checks that ``run.json`` is still this run's
  (``run_dir.check_unchanged``): it says so in one line if the file was
  removed and written again, and raises before writing anything if the
  folder or the record now belong to something else.
  """
  if run.is_chief:
    note = run_dir.check_unchanged(run.train_dir, run.record, step)
    if note:
      report.message(note)
  started = time.monotonic()
  run.saver.save(step)
  return time.monotonic() - started


def _stopped_line(run, signal_name, step, seconds):
  """The one line a run stopped by ``signal_name`` prints before it exits."""
  cause = interrupts.describe(signal_name)
  if seconds is None:
    return ('%s: step %d was saved already; run the same command again to '
            'resume from it.' % (cause, step))
  if not run.is_chief:
    return ('%s: this worker took part in saving step %d (%.1f s); run the '
            'same command again on every worker to resume.'
            % (cause, step, seconds))
  return ('%s: saved step %d in %.1f s as %s; run the same command again to '
          'resume from it.' % (cause, step, seconds, run.saver.prefix(step)))


class _Run:
  """What the loop needs: strategy, step function, data, saver, summaries,
  and the run's folder and record."""

  def __init__(self, **parts):
    self.__dict__.update(parts)


def _initial_restore(model, options, saver, latest):
  """Fill the variables: the newest checkpoint, or the fine-tuning one.

  When resuming, the fine-tuning checkpoint is ignored, as in TF-Slim; a
  fine-tuning checkpoint is checked against the layer (the mismatch table
  of ``checkpoints``) before anything is written.
  """
  if latest:
    saver.restore(latest)
    return
  if not options.checkpoint_path:
    return
  checkpoint, variables = checkpoints.checked_restore(
      weights.resolve(options.checkpoint_path, options.model),
      model.layer.variables,
      options.checkpoint_exclude_scopes)
  reader = tf.train.load_checkpoint(checkpoint)
  for variable in variables:
    variable.assign(reader.get_tensor(checkpoints.variable_name(variable)))


def _prepare(options):
  """Checks that need no TensorFlow runtime: options, folder, train_dir."""
  options_lib.check_options(options)
  options_lib.check_train_dir(options.train_dir, options.data_dir)
  image_size = options_lib.resolve_image_size(options, options.image_size)
  folder = image_folder.scan(options.data_dir)
  record = _run_record(options, folder.class_names, image_size)
  existing = run_dir.check_owner(options.train_dir, record)
  if existing and run_dir.SPLIT_KEY in existing:
    record[run_dir.SPLIT_KEY] = existing[run_dir.SPLIT_KEY]
  if options.strategy == 'multi_worker':
    # One replica per worker on a CPU: the batch check needs no network.
    _check_replicas(options.batch_size,
                    distribution.cluster_size(distribution.read_cluster()))
  return image_size, folder, record


def _split(folder, options, record):
  """Readable training images, the validation part (or None), the skipped
  image files, and what changed since the run recorded its split (None).

  A resumed run keeps the split recorded when it started
  (``record['split']``); a new run with a validation split records its own
  there, so that images added later never move into validation.
  """
  folder, skipped = image_folder.drop_unreadable(folder, strict=options.strict)
  recorded = record.get(run_dir.SPLIT_KEY)
  if recorded is not None:
    training, validation = image_folder.apply_split(folder, recorded)
    changes = image_folder.split_changes(folder, recorded)
    image_folder.check_recorded_training(training, changes, options.train_dir)
    return training, validation, skipped, changes
  if not options.validation_split:
    image_folder.check_trainable(folder)
    return folder, None, skipped, None
  image_folder.check_split(folder, options.validation_split)
  training, validation = image_folder.split(folder, options.validation_split,
                                            options.seed)
  image_folder.check_trainable(training)
  record[run_dir.SPLIT_KEY] = image_folder.split_record(training, validation)
  return training, validation, skipped, None


def _check_batch_fits_data(batch_size, folder):
  """Raise if one batch needs more images than the training set holds."""
  if batch_size > len(folder.paths):
    raise ValueError(
        'batch_size=%d is larger than the %d training images: use '
        '--batch_size=%d or less (or add images).'
        % (batch_size, len(folder.paths), len(folder.paths)))


def train(options: options_lib.TrainOptions) -> options_lib.TrainResult:
  """Train (or resume, or fine-tune) as ``options`` say.

  Returns:
    A ``TrainResult``.

  Raises:
    ValueError: for bad options or data, a train_dir owned by another run,
      a batch that does not divide among the replicas, a bad TF_CONFIG, or
      a fine-tuning checkpoint that does not fit
      (``checkpoints.CheckpointMismatchError``), always before any file is
      written; ``DistributedError`` when another worker stops mid-run.
    FloatingPointError: if the loss diverges.
  """
  image_size, folder, record = _prepare(options)
  strategy = distribution.create_strategy(
      options.strategy, options.worker_timeout, options.cpu_replicas)
  _check_replicas(options.batch_size, strategy.num_replicas_in_sync)
  folder, validation, skipped, changes = _split(folder, options, record)
  _check_batch_fits_data(options.batch_size, folder)
  max_steps = options_lib.steps_for(options, len(folder.paths))
  start_step, latest = _resume_step(options.train_dir)
  state = run_dir.checkpoint_state(options.train_dir)
  if start_step >= max_steps:
    print('%s is already at step %d of %d: nothing to train (raise '
          '--max_steps or --epochs to continue).'
          % (options.train_dir, start_step, max_steps))
    return options_lib.TrainResult(start_step, None, None, None, [], skipped,
                                   latest, validation)
  chief = distribution.is_chief(strategy)
  if chief:
    _print_data_notes(folder, changes)
    print('images per class:\n%s' % image_folder.count_table(folder,
                                                            validation))
    print(_plan_line(options, folder, record, strategy, start_step,
                     max_steps, latest), flush=True)
  # From here on SIGTERM and Ctrl-C stop the run at a step boundary (and
  # keep the handler TensorFlow's cluster runtime installs for SIGTERM,
  # which would swallow it, out of the way).
  with interrupts.StopRequest() as stop, precision_lib.function_precision(
      options.precision):
    model = _Model(options, len(record['class_names']), image_size, strategy)
    saver = saver_lib.Saver(model.named_variables(), options.train_dir,
                            is_chief=chief)
    _initial_restore(model, options, saver, latest)
    run = _Run(strategy=strategy, is_chief=chief, saver=saver, model=model,
               train_dir=options.train_dir, record=record,
               step=_step_function(model, options, strategy, max_steps),
               iterator=iter(_dataset(folder, options, image_size, strategy,
                                      start_step)))
    with run_dir.lock(options.train_dir) if chief else contextlib.nullcontext():
      if chief:
        _check_still_newest(options.train_dir, latest, state)
        run.record = run_dir.claim(options.train_dir, record, start_step)
      step, history, stopped = _train_claimed(run, options, start_step,
                                              max_steps, stop)
  loss, accuracy = history[-1][1:] if history else (None, None)
  return options_lib.TrainResult(
      step, loss, accuracy, stopped, history, skipped,
      run_dir.latest_checkpoint(options.train_dir), validation,
      model.fingerprint())


def _print_data_notes(folder, changes):
  """Say which files were skipped, and how the folder changed since the
  run recorded its split (the run keeps that split)."""
  skipped = image_folder.describe_skipped(folder)
  if skipped:
    print(skipped)
  if changes and changes.describe():
    print('%s This run keeps its split; pass a new --train_dir to split the '
          'folder as it is now.' % changes.describe())


def _plan_line(options, folder, record, strategy, start_step, max_steps,
               latest):
  """What the run trains and where it starts, in one line."""
  if latest:
    start = 'resuming from %s at step %d' % (latest, start_step)
  elif options.checkpoint_path:
    start = 'starting from %s' % options.checkpoint_path
  else:
    start = 'starting from random weights'
  return ('training %s on %d images of %d classes at %dx%d, %d replica(s), '
          'to step %d; %s.' % (options.model, len(folder.paths),
                               len(record['class_names']), record['image_size'],
                               record['image_size'],
                               strategy.num_replicas_in_sync, max_steps, start))


def _check_still_newest(train_dir, latest, state):
  """Raise if ``train_dir`` gained a newer checkpoint than ``latest``.

  The resume point is read before the run takes the folder's lock; a run
  that held the folder meanwhile and has just finished would otherwise be
  followed by a second run that repeats its steps from an older
  checkpoint and makes that older one the newest again. The state file,
  read with the resume point (``state``), tells whether anything changed,
  without naming a skipped checkpoint a second time.
  """
  if run_dir.checkpoint_state(train_dir) == state:
    return
  newest = run_dir.latest_checkpoint(train_dir)
  if newest != latest:
    raise ValueError(
        'train_dir %r moved on to %s while this run was starting (another '
        'run trained it meanwhile): run the same command again to resume '
        'from there.' % (train_dir, newest))


def _train_claimed(run, options, start_step, max_steps, stop):
  """The loop, once the run holds its train_dir: ``(step, history, stop)``.

  A lost peer of a multi-worker run becomes a ``DistributedError`` that
  says how to resume.
  """
  run.summaries = _Summaries(options.train_dir, run.is_chief)
  try:
    step, history = _loop(run, options, start_step, max_steps, stop)
  except tf.errors.ResourceExhaustedError:
    raise ValueError(
        'batch_size=%d does not fit in memory: use a smaller one, e.g. '
        '--batch_size=%d (and scale --learning_rate with it); the last '
        'checkpoint is kept.' % (options.batch_size,
                                 max(1, options.batch_size // 2))) from None
  except (tf.errors.UnavailableError, tf.errors.CancelledError,
          tf.errors.DeadlineExceededError, tf.errors.InternalError) as error:
    if distribution.task(run.strategy) is None:
      raise
    raise DistributedError(
        'lost contact with another worker (%s): restart every worker '
        'with the same command; they resume from the newest checkpoint '
        'in %s.' % (type(error).__name__, options.train_dir)) from None
  finally:
    run.summaries.close()
  return step, history, stop.requested
