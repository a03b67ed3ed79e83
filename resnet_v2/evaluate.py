"""Score a trained model on an image folder: ``python -m resnet_v2.evaluate``.

  python -m resnet_v2.evaluate --train_dir=runs/photos --data_dir=photos

prints top-1 and top-5 accuracy and a per-class confusion table. By
default it scores the validation split training held out (or every image
when training used none); ``--tta`` averages ten crops and flips per image.
"""

import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

from absl import flags  # noqa: E402

from resnet_v2.common import cli  # noqa: E402
from resnet_v2.training import evaluation  # noqa: E402
from resnet_v2.data import image_folder  # noqa: E402

FLAGS = flags.FlagValues()

flags.DEFINE_string('data_dir', None,
                    'Image folder with the same class subfolders.',
                    flag_values=FLAGS)
flags.DEFINE_enum('subset', 'auto', ('auto',) + image_folder.SUBSETS,
                  'auto: the validation split if training made one, else all.',
                  flag_values=FLAGS)
flags.DEFINE_boolean('tta', False,
                     'Average over centre/corner crops and their flips.',
                     flag_values=FLAGS)
flags.DEFINE_integer('batch_size', 32, 'Images per batch.', flag_values=FLAGS)
cli.define_trained_run_flags(FLAGS)
cli.define_data_flags(FLAGS)
flags.mark_flag_as_required('data_dir', flag_values=FLAGS)


def main():
  """Evaluate and print the report."""
  result = evaluation.evaluate(
      FLAGS.train_dir, FLAGS.data_dir, subset=FLAGS.subset,
      checkpoint_path=FLAGS.checkpoint_path, tta=FLAGS.tta,
      batch_size=FLAGS.batch_size, strict=FLAGS.strict,
      precision=FLAGS.precision)
  print('subset: %s%s' % (result.subset, ' (10-crop TTA)' if FLAGS.tta else ''))
  print(evaluation.report(result))
  return 0


if __name__ == '__main__':
  cli.run(main, FLAGS, __doc__)
