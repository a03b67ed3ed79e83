"""A recorded split keeps every image on its side as the folder changes."""

import json
import os
import shutil

from resnet_v2.data import image_folder
from resnet_v2.data import digits

import numpy as np


def make_folder(root, counts):
  """``counts[name]`` grey PNGs per class folder ``name``."""
  for label, (name, count) in enumerate(sorted(counts.items())):
    os.makedirs(os.path.join(root, name))
    for index in range(count):
      with open(os.path.join(root, name, '%02d.png' % index), 'wb') as f:
        f.write(digits.encode_grey_png(
            np.full((4, 4), 10 * label + index, np.uint8)))
  return root


def test_a_recorded_split_applied_again_is_the_same_split(tmp_path):
  folder = image_folder.scan(make_folder(str(tmp_path), {'a': 7, 'b': 5}))
  training, validation = image_folder.split(folder, 0.3, seed=4)
  recorded = json.loads(json.dumps(
      image_folder.split_record(training, validation)))
  assert image_folder.apply_split(folder, recorded) == (training, validation)
  assert recorded['validation'] == sorted(
      os.path.relpath(path, str(tmp_path)) for path in validation.paths)
  assert image_folder.split_changes(folder, recorded).describe() == ''


def test_added_images_join_neither_part_and_removed_ones_are_named(tmp_path):
  root = make_folder(str(tmp_path), {'a': 6, 'b': 6})
  training, validation = image_folder.split(image_folder.scan(root), 0.5,
                                            seed=1)
  recorded = image_folder.split_record(training, validation)
  for index, path in enumerate(training.paths):
    shutil.copy(path, os.path.join(os.path.dirname(path),
                                   'copy_%d.png' % index))
  os.remove(validation.paths[0])
  changed = image_folder.scan(root)
  new_training, new_validation = image_folder.apply_split(changed, recorded)
  assert new_training.paths == training.paths
  assert new_validation.paths == validation.paths[1:]
  changes = image_folder.split_changes(changed, recorded)
  assert len(changes.added) == len(training.paths)
  assert changes.removed == [validation.relative(validation.paths[0])]
  assert changes.describe().startswith(
      'data_dir changed since the run recorded its split: 6 image(s) added '
      '(a/copy_0.png, a/copy_1.png, a/copy_2.png and 3 more), in neither its '
      'training nor its validation subset; 1 image(s) of it gone or '
      'unreadable (%s)' % changes.removed[0])


def test_select_takes_the_recorded_parts_over_the_seed(tmp_path):
  root = make_folder(str(tmp_path), {'a': 5, 'b': 5})
  folder = image_folder.scan(root)
  training, validation = image_folder.split(folder, 0.4, seed=0)
  recorded = image_folder.split_record(training, validation)
  for seed in (0, 99):
    assert image_folder.select(folder, 'validation', 0.4, seed,
                               recorded) == validation
    assert image_folder.select(folder, 'training', 0.4, seed,
                               recorded) == training
  assert image_folder.select(folder, 'all', 0.4, 99, recorded) == folder
