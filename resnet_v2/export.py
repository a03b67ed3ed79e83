"""Export a trained model as a SavedModel: ``python -m resnet_v2.export``.

  python -m resnet_v2.export --train_dir=runs/photos --export_dir=models/photos

The result runs anywhere TensorFlow 2 does, without this package::

  model = tf.saved_model.load('models/photos')
  out = model.signatures['serving_default'](images=uint8_batch)
  out['probabilities'], out['classes'], out['class_names']
"""

import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

from absl import flags  # noqa: E402

from resnet_v2.common import cli  # noqa: E402
from resnet_v2.training import saved_model  # noqa: E402

FLAGS = flags.FlagValues()

flags.DEFINE_string('export_dir', None,
                    'New (or empty) folder for the SavedModel.',
                    flag_values=FLAGS)
cli.define_trained_run_flags(FLAGS)
flags.mark_flag_as_required('export_dir', flag_values=FLAGS)


def main():
  """Export and say what was written."""
  checkpoint = saved_model.export_saved_model(
      FLAGS.train_dir, FLAGS.export_dir, FLAGS.checkpoint_path)
  print('exported %s to %s (signatures: %s, %s)'
        % (checkpoint, FLAGS.export_dir, saved_model.DEFAULT_SIGNATURE,
           saved_model.FLOAT_SIGNATURE))
  return 0


if __name__ == '__main__':
  cli.run(main, FLAGS, __doc__)
