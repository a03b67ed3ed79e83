"""What a run directory promises: one run at a time, its own checkpoints,
clear words for a damaged record, and data that can train a classifier.

Oracles: the files on disk before and after, the step a run resumes from,
and the messages' advice followed to success.
"""

import os
import shutil
import subprocess
import sys

import pytest
import tensorflow as tf

from resnet_v2 import training
from resnet_v2.data import image_folder
from resnet_v2.training import run_dir

from image_sets import snapshot
from image_sets import small_options
from image_sets import write_grey_classes


@pytest.fixture(scope='module')
def finished(images, tmp_path_factory):
  """A four-step run saved at steps 2 and 4."""
  train_dir = str(tmp_path_factory.mktemp('finished'))
  training.train(small_options(images, train_dir, max_steps=4, save_every=2))
  return train_dir


def test_a_second_run_on_a_held_train_dir_is_refused(images, tmp_path):
  train_dir = str(tmp_path / 'run')
  holding = ('import sys, time\n'
             'from resnet_v2.training import run_dir\n'
             'with run_dir.lock(sys.argv[1]):\n'
             '  print("held", flush=True)\n'
             '  time.sleep(120)\n')
  holder = subprocess.Popen([sys.executable, '-c', holding, train_dir],
                            stdout=subprocess.PIPE, text=True)
  try:
    assert holder.stdout.readline() == 'held\n'
    before = snapshot(train_dir)
    with pytest.raises(ValueError, match='in use by another training run '
                       r'\(process %d, started 20' % holder.pid):
      training.train(small_options(images, train_dir, max_steps=1))
    assert snapshot(train_dir) == before
  finally:
    holder.kill()
    holder.wait()
  # The holder was killed: its lock file is stale and the run goes ahead.
  assert os.path.exists(os.path.join(train_dir, run_dir.LOCK_FILE))
  result = training.train(small_options(images, train_dir, max_steps=1))
  assert result.global_step == 1
  assert not os.path.exists(os.path.join(train_dir, run_dir.LOCK_FILE))


def test_a_moved_run_directory_resumes_from_its_own_checkpoints(
    images, finished, tmp_path):
  moved = str(tmp_path / 'moved')
  shutil.copytree(finished, moved)
  assert run_dir.latest_checkpoint(moved) == os.path.join(moved,
                                                          'model.ckpt-4')
  result = training.train(small_options(images, moved, max_steps=5,
                                        save_every=2))
  assert [step for step, _, _ in result.history] == [5]
  assert result.checkpoint == os.path.join(moved, 'model.ckpt-5')
  assert not os.path.exists(os.path.join(finished, 'model.ckpt-5.index'))


def test_an_unreadable_checkpoint_is_skipped_and_kept(
    images, finished, tmp_path, caplog):
  damaged = str(tmp_path / 'damaged')
  shutil.copytree(finished, damaged)
  index = os.path.join(damaged, 'model.ckpt-4.index')
  with open(index, 'wb') as f:
    f.write(b'not a checkpoint')
  assert run_dir.latest_checkpoint(damaged) == os.path.join(damaged,
                                                            'model.ckpt-2')
  assert 'model.ckpt-4 cannot be read' in caplog.text
  result = training.train(small_options(images, damaged, max_steps=3))
  assert [step for step, _, _ in result.history] == [3]
  assert os.path.exists(index)


@pytest.mark.parametrize('content', ['{"model": "resnet_v2_18", "cla',
                                     '{"seed": 1}', '[]'])
def test_a_damaged_run_record_is_one_line_naming_the_file(
    images, finished, tmp_path, content):
  damaged = str(tmp_path / 'damaged')
  shutil.copytree(finished, damaged)
  with open(os.path.join(damaged, 'run.json'), 'w') as f:
    f.write(content)
  before = snapshot(damaged)
  with pytest.raises(ValueError, match='run.json cannot be read .*pass a new '
                     '--train_dir'):
    training.train(small_options(images, damaged, max_steps=5))
  with pytest.raises(ValueError, match='run.json cannot be read'):
    training.evaluate(damaged, images)
  assert snapshot(damaged) == before


def test_one_class_is_not_a_classifier(tmp_path):
  one_class = write_grey_classes(str(tmp_path / 'one'), [30])
  with pytest.raises(ValueError, match='only one class .*at least two'):
    training.train(small_options(one_class, str(tmp_path / 'run')))
  assert not os.path.exists(tmp_path / 'run')


def test_a_class_of_one_image_cannot_be_split_and_trains_without_a_split(
    tmp_path):
  data = write_grey_classes(str(tmp_path / 'data'), [30, 130])
  os.remove(os.path.join(data, 'class_1', '0.png'))
  os.remove(os.path.join(data, 'class_1', '1.png'))
  os.remove(os.path.join(data, 'class_1', '2.png'))
  with pytest.raises(ValueError, match="class 'class_1' has 1 image.*too few "
                     'to hold one out.*--validation_split=0 to train'):
    training.train(small_options(data, str(tmp_path / 'run'),
                                 validation_split=0.25))
  assert not os.path.exists(tmp_path / 'run')
  result = training.train(small_options(data, str(tmp_path / 'run'),
                                        validation_split=0.0, max_steps=1,
                                        batch_size=2))
  assert result.global_step == 1


def test_a_class_of_unreadable_files_counts_as_empty(tmp_path):
  data = write_grey_classes(str(tmp_path / 'data'), [30, 130, 230])
  for name in os.listdir(os.path.join(data, 'class_2')):
    with open(os.path.join(data, 'class_2', name), 'wb') as f:
      f.write(b'broken')
  with pytest.raises(ValueError, match="class 'class_2' has no training "
                     'images after decoding'):
    training.train(small_options(data, str(tmp_path / 'run')))
  assert not os.path.exists(tmp_path / 'run')


def test_the_per_class_counts_are_printed_before_training(
    images, tmp_path, capsys):
  training.train(small_options(images, str(tmp_path / 'run'), max_steps=1,
                               validation_split=0.25))
  out = capsys.readouterr().out
  table = out[out.index('images per class:'):out.index('training resnet_v2')]
  rows = [line.split() for line in table.splitlines()[3:]]
  assert rows == [['class_0', '3', '1'], ['class_1', '3', '1'],
                  ['class_2', '3', '1'], ['total', '9', '3']]


def test_count_table_lists_training_and_validation(images):
  folder = image_folder.scan(images)
  training_part, validation = image_folder.split(folder, 0.25, seed=7)
  lines = image_folder.count_table(training_part, validation).splitlines()
  assert lines[0].split() == ['class', 'training', 'validation']
  assert lines[-1].split() == ['total', '9', '3']


def test_resuming_with_settings_that_change_the_run_is_refused_with_a_table(
    images, finished, tmp_path):
  copy = str(tmp_path / 'copy')
  shutil.copytree(finished, copy)
  before = snapshot(copy)
  with pytest.raises(ValueError) as error:
    training.train(small_options(images, copy, max_steps=6, image_size=64,
                                 seed=8))
  message = str(error.value)
  assert 'image_size, seed would change what it means' in message
  rows = [line.split() for line in message.splitlines()]
  assert ['image_size', '32', '64'] in rows and ['seed', '7', '8'] in rows
  assert 'Pass a new --train_dir' in message
  assert snapshot(copy) == before
  # The way out works: a new train_dir with the new settings.
  fresh = training.train(small_options(images, str(tmp_path / 'new'),
                                       max_steps=1, image_size=64, seed=8))
  assert fresh.global_step == 1


def test_resumable_settings_may_change_and_are_noted_with_their_step(
    images, finished, tmp_path):
  copy = str(tmp_path / 'copy')
  shutil.copytree(finished, copy)
  training.train(small_options(images, copy, max_steps=5, save_every=2,
                               learning_rate=0.02))
  record = run_dir.read_run(copy)
  assert record['settings']['max_steps'] == 5
  assert record['changes'] == [{'step': 4, 'settings': {
      'max_steps': [4, 5], 'learning_rate': [0.01, 0.02]}}]
  training.train(small_options(images, copy, max_steps=6, save_every=2,
                               learning_rate=0.02, batch_size=2,
                               momentum=0.8))
  record = run_dir.read_run(copy)
  assert record['changes'][1:] == [{'step': 5, 'settings': {
      'max_steps': [5, 6], 'batch_size': [4, 2], 'momentum': [0.9, 0.8]}}]
  assert record['settings']['batch_size'] == 2


@pytest.mark.parametrize('field, value, message', [
    ('batch_norm_decay', 1.0, r'batch_norm_decay must be a finite number in '
     r'\(0, 1\)'),
    ('batch_norm_decay', 0.0, 'batch_norm_decay'),
    ('momentum', 1.0, r'momentum must be a finite number in \[0, 1\)'),
    ('learning_rate', float('nan'), 'learning_rate must be a finite number'),
    ('weight_decay', -1e-4, 'weight_decay must be a finite number >= 0'),
    ('warmup_steps', -1, 'warmup_steps must be an int >= 0'),
    ('validation_split', 1.0, r'validation_split must be a finite number in '
     r'\[0, 1\)'),
    ('min_crop_area', 0.0, r'min_crop_area must be a finite number in '
     r'\(0, 1\]'),
    ('batch_size', 0, 'batch_size must be an int >= 1'),
])
def test_every_numeric_setting_is_checked_before_anything_runs(
    images, tmp_path, field, value, message):
  with pytest.raises(ValueError, match=message):
    training.train(small_options(images, str(tmp_path / 'run'),
                                 **{field: value}))
  assert not os.path.exists(tmp_path / 'run')


def test_a_batch_larger_than_the_training_set_suggests_one_that_fits(
    images, tmp_path):
  with pytest.raises(ValueError, match='batch_size=13 is larger than the 12 '
                     'training images: use --batch_size=12 or less'):
    training.train(small_options(images, str(tmp_path / 'run'),
                                 batch_size=13))
  assert not os.path.exists(tmp_path / 'run')
  assert training.train(small_options(images, str(tmp_path / 'run'),
                                      batch_size=12, max_steps=1)
                        ).global_step == 1


def test_a_train_dir_that_is_a_file_or_read_only_is_one_line(
    images, tmp_path, monkeypatch):
  path = tmp_path / 'file'
  path.write_text('mine')
  with pytest.raises(ValueError, match="is a file, not a folder"):
    training.train(small_options(images, str(path)))
  assert path.read_text() == 'mine'
  # Root may write anywhere, so a read-only folder is simulated.
  read_only = str(tmp_path / 'read_only')
  os.makedirs(read_only)
  real_access = os.access
  monkeypatch.setattr(os, 'access', lambda p, mode: (
      False if p == read_only else real_access(p, mode)))
  with pytest.raises(ValueError, match="train_dir '.*run' cannot be written "
                     r"\('.*read_only' is not writable\)"):
    training.train(small_options(images, os.path.join(read_only, 'run')))
  assert os.listdir(read_only) == []


def test_a_failed_checkpoint_write_stops_the_run_and_keeps_the_last_one(
    images, tmp_path, monkeypatch):
  train_dir = str(tmp_path / 'run')
  save = tf.raw_ops.SaveV2
  calls = []

  def disk_full_on_the_second_save(**kwargs):
    calls.append(kwargs['prefix'])
    if len(calls) == 2:
      raise tf.errors.ResourceExhaustedError(None, None,
                                             'No space left on device')
    return save(**kwargs)

  monkeypatch.setattr(tf.raw_ops, 'SaveV2', disk_full_on_the_second_save)
  with pytest.raises(ValueError, match='could not write the checkpoint of '
                     'step 4 .*No space left on device.*resumes from '
                     '.*model.ckpt-2'):
    training.train(small_options(images, train_dir, max_steps=6,
                                 save_every=2))
  assert run_dir.latest_checkpoint(train_dir) == os.path.join(
      train_dir, 'model.ckpt-2')
  assert not any(name.startswith('model.ckpt-4')
                 for name in os.listdir(train_dir))
  monkeypatch.setattr(tf.raw_ops, 'SaveV2', save)
  resumed = training.train(small_options(images, train_dir, max_steps=6,
                                         save_every=2))
  assert [step for step, _, _ in resumed.history] == [3, 4, 5, 6]


def test_a_train_dir_inside_the_data_dir_is_refused_and_moving_it_out_works(
    tmp_path):
  data_dir = write_grey_classes(str(tmp_path / 'photos'), [30, 230])
  inside = os.path.join(data_dir, 'run')
  with pytest.raises(ValueError, match="train_dir '.*photos/run' is inside "
                     "data_dir '.*photos', where it would be read as a class "
                     'of images: pass a train_dir outside the image folder'):
    training.train(small_options(data_dir, inside, max_steps=1))
  assert sorted(os.listdir(data_dir)) == ['class_0', 'class_1']
  # A run that got there (copied in by hand) is refused too, untouched, and
  # resumes once moved out, as the message says.
  outside = str(tmp_path / 'run')
  training.train(small_options(data_dir, outside, max_steps=1))
  shutil.move(outside, inside)
  before = snapshot(inside)
  with pytest.raises(ValueError, match='is inside data_dir'):
    training.train(small_options(data_dir, inside, max_steps=2))
  assert snapshot(inside) == before
  shutil.move(inside, outside)
  result = training.train(small_options(data_dir, outside, max_steps=2))
  assert [step for step, _, _ in result.history] == [2]
