"""A run's validation split is fixed when it starts and recorded in run.json:
images added to or removed from the folder later never move a training
image into the validation subset, of a resume or of ``evaluate``, and
evaluation says what changed.

Oracles: the relative paths run.json records, and the files the test adds
and removes itself.
"""

import json
import os
import shutil

import pytest

from resnet_v2 import training
from resnet_v2.data import image_folder
from resnet_v2.training import evaluation
from resnet_v2.training import run_dir

from image_sets import small_options
from image_sets import write_grey_classes


def recorded_split(train_dir):
  """The split run.json of ``train_dir`` records."""
  with open(run_dir.run_file(train_dir)) as f:
    return json.load(f)[run_dir.SPLIT_KEY]


def change_folder(data_dir, recorded):
  """Copy every recorded training image under a new name (the worst case:
  the same pixels, a name the split never saw) and remove the first
  recorded validation image. Returns ``(added, removed)`` relative paths."""
  added = []
  for relative in recorded['training']:
    copy = relative.replace('.png', '_copy.png')
    shutil.copy(os.path.join(data_dir, relative),
                os.path.join(data_dir, copy))
    added.append(copy)
  removed = recorded['validation'][0]
  os.remove(os.path.join(data_dir, removed))
  return sorted(added), [removed]


@pytest.fixture(scope='module')
def run(tmp_path_factory):
  """One step on three classes of five images, 40% held out."""
  data_dir = write_grey_classes(str(tmp_path_factory.mktemp('data')),
                                [30, 130, 230], per_class=5)
  train_dir = str(tmp_path_factory.mktemp('run'))
  training.train(small_options(data_dir, train_dir, max_steps=1,
                               validation_split=0.4))
  return data_dir, train_dir


def test_evaluate_scores_only_recorded_validation_images_and_says_what_changed(
    run, tmp_path):
  data_dir, train_dir = run
  changed = str(tmp_path / 'changed')
  shutil.copytree(data_dir, changed)
  recorded = recorded_split(train_dir)
  added, removed = change_folder(changed, recorded)
  record = run_dir.require_run(train_dir)
  folder, _ = evaluation.load_subset(changed, record, 'validation')
  assert sorted(map(folder.relative, folder.paths)) == sorted(
      set(recorded['validation']) - set(removed))
  result = evaluation.evaluate(train_dir, changed, subset='validation')
  assert result.num_images == len(recorded['validation']) - 1
  assert (result.changes.added, result.changes.removed) == (added, removed)
  assert ('data_dir changed since the run recorded its split: 9 image(s) '
          'added (class_0/' in evaluation.report(result))
  assert 'image(s) of it gone or unreadable (%s)' % removed[0] in (
      evaluation.report(result))


def test_a_run_recorded_before_splits_were_is_split_again_by_its_seed(
    tmp_path):
  data_dir = write_grey_classes(str(tmp_path / 'data'), [30, 130],
                                per_class=5)
  record = {'model': 'resnet_v2_18', 'class_names': ['class_0', 'class_1'],
            'validation_split': 0.4, 'seed': 7}
  folder, _ = evaluation.load_subset(data_dir, record, 'validation')
  _, validation = image_folder.split(image_folder.scan(data_dir), 0.4, seed=7)
  assert folder.paths == validation.paths


def test_a_folder_outside_the_recorded_split_says_to_evaluate_all(
    run, tmp_path):
  _, train_dir = run
  other = write_grey_classes(str(tmp_path / 'other'), [30, 130, 230],
                             per_class=2)
  for name in os.listdir(other):
    for image in os.listdir(os.path.join(other, name)):
      os.rename(os.path.join(other, name, image),
                os.path.join(other, name, 'test_' + image))
  with pytest.raises(ValueError, match="none of the images of '.*other' are "
                     'in the validation subset the run recorded .*pass '
                     '--subset=all to score every image'):
    evaluation.evaluate(train_dir, other, subset='validation')
  assert evaluation.evaluate(train_dir, other, subset='all').num_images == 6


def test_a_run_records_its_split_and_a_resume_keeps_it_in_a_changed_folder(
    tmp_path, capsys):
  data_dir = write_grey_classes(str(tmp_path / 'data'), [30, 130, 230],
                                per_class=5)
  train_dir = str(tmp_path / 'run')
  training.train(small_options(data_dir, train_dir, max_steps=1,
                               validation_split=0.4))
  recorded = recorded_split(train_dir)
  training_part, validation = image_folder.split(
      image_folder.scan(data_dir), 0.4, seed=7)
  assert recorded == image_folder.split_record(training_part, validation)
  assert len(recorded['validation']) == 6 and len(recorded['training']) == 9
  _, removed = change_folder(data_dir, recorded)
  capsys.readouterr()
  result = training.train(small_options(data_dir, train_dir, max_steps=2,
                                        validation_split=0.4))
  assert result.global_step == 2
  assert sorted(map(result.validation.relative, result.validation.paths)) == (
      sorted(set(recorded['validation']) - set(removed)))
  assert recorded_split(train_dir) == recorded
  assert 'This run keeps its split; pass a new --train_dir' in (
      capsys.readouterr().out)


def test_a_split_too_large_for_a_class_names_the_flag_and_a_value_that_trains(
    tmp_path):
  data_dir = write_grey_classes(str(tmp_path / 'data'), [30, 130],
                                per_class=3)
  with pytest.raises(ValueError, match=r'--validation_split=0.9 holds out all '
                     r"3 images of class 'class_0'.*pass --validation_split="
                     r'(0\.\d+) or less') as refusal:
    training.train(small_options(data_dir, str(tmp_path / 'run'),
                                 validation_split=0.9))
  assert not os.path.exists(tmp_path / 'run')
  largest = float(str(refusal.value).split('--validation_split=')[2].split()[0])
  result = training.train(small_options(data_dir, str(tmp_path / 'run'),
                                        validation_split=largest,
                                        max_steps=1, batch_size=2))
  assert result.global_step == 1
  assert image_folder.class_counts(result.validation) == [2, 2]
