"""Checkpoint files and run.json removed or replaced between runs or while a
run is going: the next run or save says what happened in one line, and
nothing else of the user's is deleted.

Each test damages a copy of one finished run (or a running one, from a
wrapped save) itself. Oracles: the files on disk before and after, the step
a run resumes from, the uninterrupted run's losses, and the advice of each
message followed to success.
"""

import json
import logging
import os
import re
import shutil

import numpy as np
import pytest
import tensorflow as tf

from resnet_v2 import training
from resnet_v2.training import run_dir
from resnet_v2.training import saver as saver_lib

from image_sets import snapshot
from image_sets import small_options

STEPS = 6


@pytest.fixture(scope='module')
def finished(images, tmp_path_factory):
  """``(train_dir, {step: loss})`` of a run of ``STEPS`` steps saved every
  two; copies of it stand for a run stopped at step 2 or 4."""
  train_dir = str(tmp_path_factory.mktemp('finished'))
  result = training.train(small_options(images, train_dir, max_steps=STEPS,
                                        save_every=2))
  return train_dir, {step: loss for step, loss, _ in result.history}


def _prefix(train_dir, step):
  return os.path.join(train_dir, 'model.ckpt-%d' % step)


def _files(train_dir, step):
  """The files of the checkpoint of ``step``."""
  return sorted(name for name in os.listdir(train_dir)
                if name.startswith('model.ckpt-%d.' % step))


def _stopped_at(finished, step, tmp_path):
  """A copy of the finished run as it was when it had saved ``step``."""
  source, _ = finished
  train_dir = str(tmp_path / 'run')
  shutil.copytree(source, train_dir, ignore=lambda _, names: [
      name for name in names if name.startswith('model.ckpt-') and
      int(name.split('-')[1].split('.')[0]) > step])
  tf.compat.v1.train.update_checkpoint_state(
      train_dir, 'model.ckpt-%d' % step, all_model_checkpoint_paths=[
          'model.ckpt-%d' % s for s in range(2, step + 1, 2)])
  return train_dir


def _resume(images, train_dir, **overrides):
  return training.train(small_options(images, train_dir, max_steps=STEPS,
                                      save_every=2, **overrides))


def _assert_losses(result, finished, first_step):
  """The run trained steps ``first_step``.. with the finished run's losses."""
  _, losses = finished
  assert [step for step, _, _ in result.history] == list(
      range(first_step, STEPS + 1))
  np.testing.assert_allclose([loss for _, loss, _ in result.history],
                             [losses[step] for step, _, _ in result.history],
                             rtol=1e-4)


def _move_out(train_dir, step, where):
  """Move the files of checkpoint ``step`` to the folder ``where``."""
  os.makedirs(where, exist_ok=True)
  for name in _files(train_dir, step):
    shutil.move(os.path.join(train_dir, name), where)


def test_a_named_checkpoint_whose_files_are_gone_is_named_and_the_one_before_used(
    images, finished, tmp_path, caplog):
  train_dir = _stopped_at(finished, 4, tmp_path)
  _move_out(train_dir, 4, str(tmp_path / 'elsewhere'))
  with caplog.at_level(logging.WARNING):
    result = _resume(images, train_dir)
  gone = [record.getMessage() for record in caplog.records
          if 'is gone' in record.getMessage()]
  assert gone == ['checkpoint %s, named by %s, is gone (its files were '
                  'removed or moved); trying an older one.'
                  % (_prefix(train_dir, 4),
                     os.path.join(train_dir, 'checkpoint'))]
  _assert_losses(result, finished, 3)
  assert os.listdir(str(tmp_path / 'elsewhere'))


def test_when_every_named_checkpoint_is_gone_nothing_is_written_until_they_are_back(
    images, finished, tmp_path):
  train_dir = _stopped_at(finished, 4, tmp_path)
  kept = str(tmp_path / 'kept')
  for step in (2, 4):
    _move_out(train_dir, step, kept)
  before = snapshot(train_dir)
  with pytest.raises(ValueError) as raised:
    _resume(images, train_dir)
  assert str(raised.value) == (
      '%s names model.ckpt-2, model.ckpt-4, and none of them can be used '
      '(their files are gone or damaged): put them back to resume, or pass '
      'a new --train_dir; nothing was written.'
      % os.path.join(train_dir, 'checkpoint'))
  assert snapshot(train_dir) == before
  # The advice, followed: with the files back, the run resumes at step 4.
  for name in os.listdir(kept):
    shutil.move(os.path.join(kept, name), train_dir)
  _assert_losses(_resume(images, train_dir), finished, 5)


def test_a_removed_state_file_resumes_from_the_newest_complete_checkpoint(
    images, finished, tmp_path, capsys):
  train_dir = _stopped_at(finished, 4, tmp_path)
  os.remove(os.path.join(train_dir, 'checkpoint'))
  result = _resume(images, train_dir)
  assert ('%s is missing (removed?): resuming from %s, the newest complete '
          'checkpoint in the folder.\n' % (
              os.path.join(train_dir, 'checkpoint'), _prefix(train_dir, 4))
          in capsys.readouterr().out)
  _assert_losses(result, finished, 5)
  assert run_dir.latest_checkpoint(train_dir) == _prefix(train_dir, STEPS)


def test_a_checkpoint_replaced_by_another_models_is_refused_and_moving_it_out_resumes(
    images, finished, tmp_path):
  train_dir = _stopped_at(finished, 4, tmp_path)
  _write_five_class_copy(_prefix(train_dir, 4))
  before = snapshot(train_dir)
  with pytest.raises(ValueError) as raised:
    _resume(images, train_dir)
  message = str(raised.value)
  assert message.startswith(
      "checkpoint %s does not hold this run's variables (" %
      _prefix(train_dir, 4))
  assert message.endswith(
      "it was replaced by another model's or another run's. Move its files "
      'out of %s and run the same command again; it resumes from the '
      'checkpoint before it.' % train_dir)
  assert '\n' not in message
  assert snapshot(train_dir) == before
  _move_out(train_dir, 4, str(tmp_path / 'moved'))
  _assert_losses(_resume(images, train_dir), finished, 3)


def _write_five_class_copy(prefix):
  """Replace the checkpoint at ``prefix`` by one of the same net with five
  classes (another run's head), under the same name."""
  reader = tf.train.load_checkpoint(prefix)
  names = sorted(reader.get_variable_to_shape_map())
  tensors = []
  for name in names:
    value = reader.get_tensor(name)
    if name.startswith('resnet_v2_18/logits/'):
      value = np.zeros(value.shape[:-1] + (5,), value.dtype)
    tensors.append(tf.constant(value))
  for path in tf.io.gfile.glob(prefix + '.*'):
    os.remove(path)
  tf.raw_ops.SaveV2(prefix=prefix, tensor_names=names,
                    shape_and_slices=[''] * len(names), tensors=tensors)


def _damage_after_first_save(monkeypatch, damage):
  """Make ``damage()`` happen right after the running run's first save."""
  save = saver_lib.Saver.save
  saves = []

  def save_then_damage(self, step):
    prefix = save(self, step)
    saves.append(step)
    if len(saves) == 1:
      damage()
    return prefix

  monkeypatch.setattr(saver_lib.Saver, 'save', save_then_damage)


def test_a_run_json_removed_while_training_is_written_again_at_the_next_save(
    images, finished, tmp_path, monkeypatch, capsys):
  train_dir = str(tmp_path / 'run')
  record = run_dir.run_file(train_dir)
  _damage_after_first_save(monkeypatch, lambda: os.remove(record))
  result = _resume(images, train_dir)
  assert ('%s was removed while this run trained: written again at step 4.\n'
          % record) in capsys.readouterr().out
  _assert_losses(result, finished, 1)
  with open(run_dir.run_file(finished[0])) as expected, open(record) as f:
    assert json.load(f) == json.load(expected)


def test_a_run_json_replaced_while_training_stops_the_run_before_it_saves(
    images, finished, tmp_path, monkeypatch):
  train_dir = str(tmp_path / 'run')
  record = run_dir.run_file(train_dir)
  ours = str(tmp_path / 'ours.json')

  def replace():
    shutil.copy(record, ours)
    with open(record) as f:
      other = json.load(f)
    other.update(model='resnet_v2_34', class_names=['cat', 'dog'])
    with open(record, 'w') as f:
      json.dump(other, f)

  _damage_after_first_save(monkeypatch, replace)
  with pytest.raises(ValueError) as raised:
    _resume(images, train_dir)
  assert str(raised.value) == (
      "%s was replaced while this run trained: it records model resnet_v2_34 "
      "with 2 classes (cat, dog), not this run's model resnet_v2_18 with 3 "
      'classes (class_0, class_1, class_2). Stopped at step 4 without saving, '
      "so that file and the checkpoints are left as they are: put this run's "
      "run.json back, or move the other run's files to a folder of their "
      'own, then run the same command again to resume from %s.'
      % (record, _prefix(train_dir, 2)))
  assert not _files(train_dir, 4)
  with open(record) as f:
    assert json.load(f)['model'] == 'resnet_v2_34'
  # The advice, followed: with this run's record back, it resumes at step 2.
  monkeypatch.undo()
  shutil.copy(ours, record)
  _assert_losses(_resume(images, train_dir), finished, 3)


def test_rotation_keeps_a_replaced_checkpoint_and_names_every_change(
    tmp_path):
  train_dir = str(tmp_path)
  notes = []
  weights = tf.Variable(tf.zeros([2, 3]))
  saver = saver_lib.Saver({'weights': weights}, train_dir, max_to_keep=2,
                          notify=notes.append)
  saver.save(1)
  foreign = saver_lib.Saver({'other': tf.Variable(tf.ones([4]))},
                            str(tmp_path / 'foreign'))
  foreign_prefix = foreign.save(1)
  for name in _files(train_dir, 1):
    os.remove(os.path.join(train_dir, name))
  for name in _files(str(tmp_path / 'foreign'), 1):
    shutil.copy(os.path.join(tmp_path, 'foreign', name), train_dir)
  state = os.path.join(train_dir, 'checkpoint')
  os.remove(state)
  saver.save(2)
  saver.save(3)
  for name in _files(train_dir, 3):
    os.remove(os.path.join(train_dir, name))
  saver.save(4)
  assert notes == [
      '%s was removed while this run trained: it is written again, naming '
      'the checkpoints of this run.' % state,
      "%s no longer holds this run's variables (replaced?): left in place, "
      'and no longer named by the state file.' % _prefix(train_dir, 1),
      '%s is gone (its files were removed or moved): the state file no '
      'longer names it.' % _prefix(train_dir, 3)]
  assert _files(train_dir, 1) == _files(os.path.dirname(foreign_prefix), 1)
  assert [os.path.basename(path) for path in tf.train.get_checkpoint_state(
      train_dir).all_model_checkpoint_paths] == ['model.ckpt-2', 'model.ckpt-4']


def test_a_train_dir_removed_while_training_stops_the_next_save(tmp_path):
  record = {'model': 'resnet_v2_18', 'class_names': ['cat', 'dog']}
  with pytest.raises(ValueError, match=(
      r"^train_dir '%s' was removed while this run trained: stopped at step "
      r'7 without saving; run the same command again to start it anew\.$'
      % re.escape(str(tmp_path / 'gone')))):
    run_dir.check_unchanged(str(tmp_path / 'gone'), record, 7)
  assert not os.path.exists(tmp_path / 'gone')
