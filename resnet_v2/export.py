r"""Export a trained model for serving: ``python -m resnet_v2.export``.

  python -m resnet_v2.export --train_dir=runs/photos --export_dir=models/photos

writes a SavedModel that runs anywhere TensorFlow 2 does, without this
package::

  model = tf.saved_model.load('models/photos')
  out = model.signatures['serving_default'](images=uint8_batch)
  out['probabilities'], out['classes'], out['class_names']

``--checkpoint_path=resnet_v2_50`` (no ``--train_dir``) exports TF-Slim's
released ImageNet weights with ImageNet's class names.

Other runtimes and precisions (each an optional extra, see ``--help``)::

  python -m resnet_v2.export --train_dir=runs/photos --data_dir=photos \
      --export_dir=models/photos_int8 --format=openvino --precision=int8

and ``resnet_v2.deploy.load(export_dir).predict(uint8_images)`` serves any
of them. int8 calibrates on ``--calibration_images`` images of the run's
training split of ``--data_dir``. Every export folder also holds
``labels.txt`` and ``model.json``.
"""


from absl import flags

from resnet_v2.common import cli  # first: the log settings precede TensorFlow
from resnet_v2 import deploy
from resnet_v2.common import checks
from resnet_v2.deploy import calibration
from resnet_v2.deploy import formats

FLAGS = flags.FlagValues()

flags.DEFINE_string('export_dir', None,
                    'New (or empty) folder for the export.',
                    flag_values=FLAGS)
flags.DEFINE_enum('format', 'saved_model', list(formats.FORMATS),
                  'saved_model (TensorFlow), tflite (LiteRT, pip install '
                  '"resnet_v2[litert]"), onnx (ONNX Runtime, "[onnx]") or '
                  'openvino ("[openvino]").', flag_values=FLAGS)
flags.DEFINE_enum('precision', 'fp32', list(formats.PRECISIONS),
                  'Supported: ' + formats.supported_text() + '.',
                  flag_values=FLAGS)
flags.DEFINE_string('data_dir', None,
                    'The image folder the run trained on (int8 calibrates '
                    'on its training split).', flag_values=FLAGS)
flags.DEFINE_integer('calibration_images', calibration.DEFAULT_COUNT,
                     'Training images int8 calibrates on.', flag_values=FLAGS)
cli.define_trained_run_flags(FLAGS)
flags.mark_flag_as_required('export_dir', flag_values=FLAGS)


def main():
  """Export and say what was written."""
  checks.check_count('calibration_images', FLAGS.calibration_images, 1)
  manifest = deploy.export_model(
      FLAGS.train_dir, FLAGS.export_dir, format=FLAGS.format,
      precision=FLAGS.precision, data_dir=FLAGS.data_dir,
      calibration_images=FLAGS.calibration_images,
      checkpoint_path=FLAGS.checkpoint_path)
  print('exported %s to %s (%s, %s)'
        % (manifest['checkpoint'], FLAGS.export_dir, manifest['format'],
           manifest['precision']))
  return 0


if __name__ == '__main__':
  cli.run(main, FLAGS, __doc__)
