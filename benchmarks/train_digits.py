"""Train a small ResNet v2 on scikit-learn's handwritten digits, on the CPU.

The proof that the zoo is a working classifier on real data, offline:

  python benchmarks/train_digits.py [--export_dir=/tmp/digits_model]

writes the 1,797 digits (8x8, ten classes) as PNG files in a class-per-
folder layout with a held-out fifth of every class, trains ``resnet_v2_18``
on the rest with ``options.DIGITS_RECIPE`` through the same library
calls as ``python -m resnet_v2.train``, scores the held-out images as
``python -m resnet_v2.evaluate`` does, and ends with the line
``test_accuracy: <fraction>``. Needs scikit-learn (``pip install
"resnet_v2[digits]"``).
"""

import contextlib
import os
import tempfile
import time

from absl import flags

from resnet_v2.common import cli  # first: the log settings precede TensorFlow
from resnet_v2.common import checks
from resnet_v2.data import digits
from resnet_v2.training import evaluation
from resnet_v2.training import loop
from resnet_v2.training import options
from resnet_v2.training import saved_model

RECIPE = options.DIGITS_RECIPE

FLAGS = flags.FlagValues()

flags.DEFINE_string('work_dir', None,
                    'New (or empty) folder to keep the images and '
                    'checkpoints in; default: a temporary folder, removed at '
                    'the end.', flag_values=FLAGS)
flags.DEFINE_string('model', RECIPE['model'], 'Registered model to train.',
                    flag_values=FLAGS)
flags.DEFINE_integer('batch_size', RECIPE['batch_size'], 'Images per step.',
                     flag_values=FLAGS)
flags.DEFINE_integer('max_steps', RECIPE['max_steps'], 'Training steps.',
                     flag_values=FLAGS)
flags.DEFINE_float('learning_rate', RECIPE['learning_rate'],
                   'Initial (cosine-decayed) learning rate.', flag_values=FLAGS)
flags.DEFINE_float('test_fraction', 0.2, 'Held-out fraction of each class.',
                   flag_values=FLAGS)
flags.DEFINE_integer('seed', 0, 'Fixes the split, data order and crops.',
                     flag_values=FLAGS)
flags.DEFINE_string('export_dir', None,
                    'Also export the trained model as a SavedModel here.',
                    flag_values=FLAGS)


def _check_flags():
  """Every flag and output path checked before any data is written."""
  options.check_options(options.digits_train_options(
      'data', 'train', model=FLAGS.model, batch_size=FLAGS.batch_size,
      max_steps=FLAGS.max_steps, learning_rate=FLAGS.learning_rate,
      seed=FLAGS.seed))
  checks.check_number('test_fraction', FLAGS.test_fraction, above=0.0,
                      below=1.0)
  if FLAGS.work_dir:
    saved_model.check_export_dir(FLAGS.work_dir, 'work_dir')
  if FLAGS.export_dir:
    saved_model.check_export_dir(FLAGS.export_dir)


@contextlib.contextmanager
def _work_dir():
  """``--work_dir``, or a temporary folder removed on every way out."""
  if FLAGS.work_dir:
    yield FLAGS.work_dir
    return
  with tempfile.TemporaryDirectory(prefix='digits_') as temporary:
    yield temporary


def main():
  """Write, train, evaluate (and export); the last line is the accuracy."""
  start = time.time()
  _check_flags()
  with _work_dir() as work_dir:
    train_images, test_images = digits.write_digits(
        os.path.join(work_dir, 'digits'), FLAGS.test_fraction, FLAGS.seed)
    train_dir = os.path.join(work_dir, 'train')
    loop.train(options.digits_train_options(
        train_images, train_dir, model=FLAGS.model,
        batch_size=FLAGS.batch_size, max_steps=FLAGS.max_steps,
        learning_rate=FLAGS.learning_rate, seed=FLAGS.seed))
    result = evaluation.evaluate(train_dir, test_images)
    print(evaluation.report(result))
    if FLAGS.export_dir:
      saved_model.export_saved_model(train_dir, FLAGS.export_dir)
      print('exported SavedModel to %s' % FLAGS.export_dir)
  print('work_dir: %s  wall time: %.1f s'
        % (FLAGS.work_dir or 'a temporary folder, removed',
           time.time() - start))
  print('test_accuracy: %.4f' % result.top1)
  return 0


if __name__ == '__main__':
  cli.run(main, FLAGS, __doc__)
