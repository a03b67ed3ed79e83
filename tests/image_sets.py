"""Tiny labelled image folders and training settings shared by the tests."""

import os

import numpy as np

from resnet_v2.data import digits
from resnet_v2 import training

MODEL = 'resnet_v2_18'


def write_grey_classes(root, levels, per_class=4, size=8, seed=0):
  """Class ``i`` holds noisy flat images of grey level ``levels[i]``.

  Returns:
    ``root``, now a class-per-folder image set with folders class_0, ...
  """
  rng = np.random.RandomState(seed)
  for label, level in enumerate(levels):
    class_dir = os.path.join(root, 'class_%d' % label)
    os.makedirs(class_dir)
    for j in range(per_class):
      image = np.clip(level + rng.randint(-20, 21, (size, size)), 0, 255)
      with open(os.path.join(class_dir, '%d.png' % j), 'wb') as f:
        f.write(digits.encode_grey_png(image.astype(np.uint8)))
  return root


def small_options(data_dir, train_dir, **overrides):
  """TrainOptions for a few fast steps of resnet_v2_18 at 32x32."""
  settings = dict(model=MODEL, image_size=32, batch_size=4, max_steps=6,
                  learning_rate=0.01, log_every=1, save_every=100, seed=7)
  settings.update(overrides)
  return training.TrainOptions(data_dir=data_dir, train_dir=train_dir,
                               **settings)


def snapshot(folder):
  """``{name: (size, mtime)}`` of every file below ``folder``: what a test
  compares to show that nothing there changed."""
  return {os.path.relpath(os.path.join(root, name), folder):
          (os.path.getsize(os.path.join(root, name)),
           os.stat(os.path.join(root, name)).st_mtime_ns)
          for root, _, names in os.walk(folder) for name in names}
