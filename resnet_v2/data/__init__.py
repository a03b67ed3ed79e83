"""Images in: folders of labelled images, decoding, preprocessing, tf.data.

  folder, skipped = data.load_image_folder('photos')      # scan + decode check
  print(data.describe_skipped(folder))                    # what was left out
  training, validation = data.split(folder, 0.2, seed=0)
  recorded = data.split_record(training, validation)      # kept with the run
  dataset = data.training_dataset(training, 224, 32, seed=0)

Nothing here knows about training or benchmarks; the nets' input settings
(value range, crop) come from ``resnet_v2.nets``. ``write_digits`` is
imported on first use, so that ``python -m resnet_v2.data.digits`` runs
its module once, as the command.
"""

import importlib as _importlib

from resnet_v2.data.image_folder import ImageFolder
from resnet_v2.data.image_folder import apply_split
from resnet_v2.data.image_folder import describe_skipped
from resnet_v2.data.image_folder import load as load_image_folder
from resnet_v2.data.image_folder import scan
from resnet_v2.data.image_folder import select
from resnet_v2.data.image_folder import split
from resnet_v2.data.image_folder import split_changes
from resnet_v2.data.image_folder import split_record
from resnet_v2.data.images import decode as decode_image
from resnet_v2.data.images import find_unreadable
from resnet_v2.data.images import read_image
from resnet_v2.data.pipeline import evaluation_dataset
from resnet_v2.data.pipeline import training_dataset
from resnet_v2.data.preprocessing import eval_image
from resnet_v2.data.preprocessing import multi_crop
from resnet_v2.data.preprocessing import train_image

__all__ = [
    'ImageFolder', 'apply_split', 'decode_image', 'describe_skipped',
    'eval_image', 'evaluation_dataset', 'find_unreadable', 'load_image_folder',
    'multi_crop', 'read_image', 'scan', 'select', 'split', 'split_changes',
    'split_record', 'train_image', 'training_dataset', 'write_digits',
]


def __getattr__(name):
  """``write_digits``, from ``resnet_v2.data.digits`` on first use."""
  if name == 'write_digits':
    return _importlib.import_module('resnet_v2.data.digits').write_digits
  raise AttributeError('module %r has no attribute %r' % (__name__, name))
