"""Training: the step, resuming after an interrupt, fine-tuning, bad input."""

import glob
import importlib
import io
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from resnet_v2.nets import checkpoints
from resnet_v2.training import interrupts
from resnet_v2.training import progress
import resnet_v2
from resnet_v2 import tf_keras as resnet_keras
from resnet_v2 import training
from resnet_v2.training import loop

from image_sets import MODEL
from image_sets import small_options as options
from image_sets import write_grey_classes


@pytest.fixture(scope='module')
def uninterrupted(images, tmp_path_factory):
  """A six-step run that nothing interrupts."""
  train_dir = str(tmp_path_factory.mktemp('uninterrupted'))
  return train_dir, training.train(options(images, train_dir))


def interrupt_at(monkeypatch, stop_step, signum=signal.SIGINT):
  """Send ``signum`` to this process when step ``stop_step`` is reported."""
  report = progress.TrainingProgress.update

  def update(self, step, *args, **kwargs):
    if step == stop_step:
      os.kill(os.getpid(), signum)
    return report(self, step, *args, **kwargs)

  monkeypatch.setattr(progress.TrainingProgress, 'update', update)


def test_an_interrupted_run_resumes_with_the_same_steps_and_data(
    images, uninterrupted, tmp_path, monkeypatch):
  train_dir = str(tmp_path / 'run')
  with monkeypatch.context() as patch:
    interrupt_at(patch, 3)
    stopped = training.train(options(images, train_dir))
  assert stopped.interrupted == 'SIGINT'
  assert stopped.global_step == 3
  assert stopped.checkpoint == os.path.join(train_dir, 'model.ckpt-3')
  assert tf.train.load_variable(stopped.checkpoint, 'global_step') == 3

  resumed = training.train(options(images, train_dir))
  assert resumed.interrupted is None and resumed.global_step == 6
  assert [step for step, _, _ in resumed.history] == [4, 5, 6]
  # Same batches and restored weights give the losses of the run that was
  # never interrupted; a repeated or skipped batch would not.
  _, reference = uninterrupted
  np.testing.assert_allclose([loss for _, loss, _ in resumed.history],
                             [loss for _, loss, _ in reference.history[3:]],
                             rtol=1e-4)


def test_stop_request_records_sigterm_and_restores_the_handler():
  before = signal.getsignal(signal.SIGTERM)
  with interrupts.StopRequest() as stop:
    os.kill(os.getpid(), signal.SIGTERM)
    assert stop.requested == 'SIGTERM'
  assert signal.getsignal(signal.SIGTERM) is before
  assert interrupts.exit_status('SIGTERM') == 143


def test_a_finished_run_saves_its_last_step_and_updates_batch_norm(
    uninterrupted):
  train_dir, result = uninterrupted
  assert result.global_step == 6
  assert result.checkpoint == os.path.join(train_dir, 'model.ckpt-6')
  # Moving means start at 0; only the UPDATE_OPS move them.
  moving_mean = tf.train.load_variable(
      result.checkpoint, MODEL + '/postnorm/moving_mean')
  assert np.abs(moving_mean).max() > 0


def test_the_loss_is_cross_entropy_plus_half_weight_decay_times_sq_weights():
  layer = resnet_keras.ResNetV2(MODEL, 3, weight_decay=0.01)
  images = tf.random.uniform([2, 32, 32, 3], -1.0, 1.0, seed=1)
  labels = tf.constant([0, 2])
  logits, cross_entropy, penalty = loop.step_losses(layer, images, labels)
  expected = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(
      labels=labels, logits=logits))
  np.testing.assert_allclose(float(cross_entropy), float(expected), rtol=1e-6)
  weights = [v.numpy() for v in layer.trainable_variables
             if v.name.split(':')[0].endswith('/weights')]
  np.testing.assert_allclose(
      float(penalty), sum(0.01 * np.sum(np.square(w)) / 2 for w in weights),
      rtol=1e-4)


@pytest.mark.parametrize('schedule, step, expected', [
    ('constant', 7, 0.1),
    ('cosine', 0, 0.1),
    ('cosine', 50, 0.05),
    ('cosine', 100, 0.0),
    ('step', 50, 0.1),
    ('step', 51, 0.01),
    ('step', 76, 0.001),
])
def test_learning_rate_schedules(schedule, step, expected):
  rate = training.learning_rate(0.1, schedule, tf.constant(step, tf.int64),
                                max_steps=100)
  assert float(rate) == pytest.approx(expected, abs=1e-7)


def test_warmup_ramps_the_rate_linearly():
  rate = training.learning_rate(0.1, 'constant', tf.constant(4, tf.int64),
                                max_steps=100, warmup_steps=10)
  assert float(rate) == pytest.approx(0.05)


def test_epochs_become_whole_steps():
  run = training.TrainOptions('d', 't', batch_size=4, epochs=2.0)
  assert training.steps_for(run, num_examples=10) == 5


def test_frozen_backbone_only_trains_the_logits(images, uninterrupted,
                                                 tmp_path):
  start, _ = uninterrupted
  result = training.train(options(
      images, str(tmp_path / 'head'), max_steps=2, learning_rate=0.5,
      checkpoint_path=start, trainable_scopes=[MODEL + '/logits']))
  def weights(checkpoint, name):
    return tf.train.load_variable(checkpoint, MODEL + name)
  origin = checkpoints.resolve(start)
  np.testing.assert_array_equal(weights(result.checkpoint, '/conv1/weights'),
                                weights(origin, '/conv1/weights'))
  assert not np.array_equal(weights(result.checkpoint, '/logits/weights'),
                            weights(origin, '/logits/weights'))


def test_a_checkpoint_with_other_classes_fails_before_training(
    uninterrupted, tmp_path):
  start, _ = uninterrupted
  two_classes = write_grey_classes(str(tmp_path / 'two'), [30, 230])
  train_dir = str(tmp_path / 'fine_tuned')
  with pytest.raises(checkpoints.CheckpointMismatchError) as error:
    training.train(options(two_classes, train_dir, checkpoint_path=start))
  message = str(error.value)
  assert MODEL + '/logits/weights' in message and '[1, 1, 512, 3]' in message
  assert '--checkpoint_exclude_scopes=%s/logits' % MODEL in message
  assert not os.path.exists(train_dir)
  fixed = training.train(options(
      two_classes, train_dir, max_steps=1, checkpoint_path=start,
      checkpoint_exclude_scopes=[MODEL + '/logits'],
      trainable_scopes=[MODEL + '/logits']))
  np.testing.assert_array_equal(
      tf.train.load_variable(fixed.checkpoint, MODEL + '/conv1/weights'),
      tf.train.load_variable(checkpoints.resolve(start),
                             MODEL + '/conv1/weights'))


def test_a_train_dir_of_another_model_is_refused_and_left_intact(
    images, uninterrupted):
  train_dir, _ = uninterrupted
  before = {name: os.stat(os.path.join(train_dir, name)).st_mtime_ns
            for name in os.listdir(train_dir)}
  with pytest.raises(ValueError, match='holds a run of model resnet_v2_18'):
    training.train(options(images, train_dir, model='resnet_v2_34'))
  after = {name: os.stat(os.path.join(train_dir, name)).st_mtime_ns
           for name in os.listdir(train_dir)}
  assert after == before


def test_an_image_size_below_the_output_stride_is_refused(images, tmp_path):
  with pytest.raises(ValueError, match='image_size=16 is too small.*32'):
    training.train(options(images, str(tmp_path), image_size=16))


def test_steps_or_epochs_must_be_given_once(images, tmp_path):
  with pytest.raises(ValueError, match='exactly one of max_steps'):
    training.train(options(images, str(tmp_path), epochs=1.0))


def test_progress_line_reports_throughput_and_eta():
  clock = iter([0.0, 2.0]).__next__
  report = progress.TrainingProgress(0, 100, batch_size=4, log_every=10,
                                     stream=io.StringIO(), clock=clock)
  line = report.log_line(10, 0.5, 0.75)
  # 10 steps of 4 images in 2 s: 20 images/s; 90 steps at 5 steps/s: 18 s.
  assert line == ('step 10/100  loss 0.5000  accuracy 0.750  '
                  'images/sec 20.0  ETA 0:00:18')


class _Terminal(io.StringIO):
  """A text stream that claims to be a terminal."""

  def isatty(self):
    return True


@pytest.mark.parametrize('stream, bar_expected', [(io.StringIO(), False),
                                                  (_Terminal(), True)])
def test_progress_bar_only_on_a_terminal(stream, bar_expected):
  report = progress.TrainingProgress(0, 4, batch_size=1, log_every=4,
                                     stream=stream)
  for step in range(1, 5):
    report.update(step, 1.0, 0.5)
  text = stream.getvalue()
  assert ('[' in text) == bar_expected
  assert text.rstrip().endswith('ETA 0:00:00')
  assert text.count('step 4/4') == 1


def test_train_command_reports_bad_input_in_one_line(tmp_path):
  command = [sys.executable, '-m', 'resnet_v2.train',
             '--data_dir=%s' % (tmp_path / 'missing'),
             '--train_dir=%s' % (tmp_path / 'run'), '--max_steps=1']
  finished = subprocess.run(command, capture_output=True, text=True,
                            timeout=120)
  assert finished.returncode == 2
  assert 'Traceback' not in finished.stderr
  errors = [line for line in finished.stderr.splitlines()
            if line.startswith('error:')]
  assert errors == ["error: data_dir '%s' does not exist or is not a folder: "
                    'pass a folder with one subfolder of images per class.'
                    % (tmp_path / 'missing')]
  assert not os.path.exists(tmp_path / 'run')


def test_the_command_modules_import_side_by_side():
  modules = [importlib.import_module('resnet_v2.' + name)
             for name in ('train', 'evaluate', 'export')]
  assert [m.FLAGS['train_dir'].name for m in modules] == ['train_dir'] * 3


def test_the_checkpoint_restores_into_the_graph_builder_by_name(
    uninterrupted):
  train_dir, result = uninterrupted
  with tf.Graph().as_default():
    network_fn = resnet_v2.get_network_fn(MODEL, 3)
    logits, _ = network_fn(tf.zeros([1, 32, 32, 3]))
    saver = tf.compat.v1.train.Saver()
    with tf.compat.v1.Session() as session:
      saver.restore(session, result.checkpoint)
      values = session.run(tf.compat.v1.global_variables())
      names = [v.op.name for v in tf.compat.v1.global_variables()]
  for name, value in zip(names, values):
    np.testing.assert_array_equal(
        value, tf.train.load_variable(result.checkpoint, name))


def test_a_run_killed_with_sigkill_resumes_with_the_uninterrupted_losses(
    images, uninterrupted, tmp_path):
  train_dir = str(tmp_path / 'run')
  command = [sys.executable, '-m', 'resnet_v2.train',
             '--data_dir=%s' % images, '--train_dir=%s' % train_dir,
             '--model=%s' % MODEL, '--image_size=32', '--batch_size=4',
             '--max_steps=6', '--learning_rate=0.01', '--log_every=1',
             '--save_every=2', '--seed=7']
  process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
  state = os.path.join(train_dir, 'checkpoint')
  try:
    while not os.path.exists(state) and process.poll() is None:
      time.sleep(0.02)
  finally:
    process.kill()
    process.wait(timeout=60)
  saved = int(tf.train.load_variable(train_dir, 'global_step'))
  assert saved in (2, 4, 6)
  resumed = subprocess.run(command, capture_output=True, text=True,
                           timeout=240, check=False)
  assert resumed.returncode == 0, resumed.stderr
  losses = [(int(step), float(loss)) for step, loss in re.findall(
      r'step (\d+)/6\s+loss ([0-9.]+)', resumed.stdout)]
  _, reference = uninterrupted
  expected = [(step, loss) for step, loss, _ in reference.history
              if step > saved]
  assert [step for step, _ in losses] == [step for step, _ in expected]
  np.testing.assert_allclose([loss for _, loss in losses],
                             [loss for _, loss in expected], atol=1e-4)


def test_the_chief_writes_tensorboard_scalars_at_every_log_step(
    uninterrupted):
  train_dir, _ = uninterrupted
  seen = {}
  for path in glob.glob(os.path.join(train_dir, 'events.out.tfevents.*')):
    for event in tf.compat.v1.train.summary_iterator(path):
      for value in event.summary.value:
        assert value.metadata.plugin_data.plugin_name == 'scalars'
        seen.setdefault(value.tag, []).append(event.step)
  assert sorted(seen) == ['accuracy', 'learning_rate', 'losses/cross_entropy',
                          'losses/total_loss']
  assert seen['losses/total_loss'] == [1, 2, 3, 4, 5, 6]
