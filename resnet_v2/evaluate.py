r"""Score a trained model on an image folder: ``python -m resnet_v2.evaluate``.

  python -m resnet_v2.evaluate --train_dir=runs/photos --data_dir=photos

prints top-1 and top-5 accuracy and a per-class confusion table. By
default it scores the validation split training held out (or every image
when training used none); ``--tta`` averages ten crops and flips per image.

  python -m resnet_v2.evaluate --checkpoint_path=resnet_v2_50 \
      --data_dir=imagenet_val

scores TF-Slim's released weights on folders of ImageNet classes (named
as the release names them, or by WordNet id as in ILSVRC-2012).

  python -m resnet_v2.evaluate --model_path=models/photos_int8 \
      --data_dir=photos

scores an export (any format and precision) on the same images as the
float32 checkpoint it came from (named in its ``model.json``;
``--train_dir`` overrides) and prints both side by side, with the top-1
agreement between them and their largest probability difference.
"""


from absl import flags

from resnet_v2.common import cli  # first: the log settings precede TensorFlow
from resnet_v2.data import image_folder
from resnet_v2.deploy import accuracy
from resnet_v2.training import evaluation

FLAGS = flags.FlagValues()

flags.DEFINE_string('data_dir', None,
                    'Image folder with the same class subfolders.',
                    flag_values=FLAGS)
flags.DEFINE_string('train_dir', None,
                    'Folder a training run wrote; with --model_path, the '
                    'run its model.json names if not given.',
                    flag_values=FLAGS)
flags.DEFINE_string('checkpoint_path', None,
                    'Checkpoint (file, prefix or folder); default: the newest '
                    "in train_dir (with --model_path: the export's own); "
                    + cli.RELEASE_HELP + '.', flag_values=FLAGS)
flags.DEFINE_string('model_path', None,
                    'An export folder (python -m resnet_v2.export) to score '
                    'next to its float32 checkpoint.', flag_values=FLAGS)
flags.DEFINE_enum('subset', 'auto', ('auto',) + image_folder.SUBSETS,
                  'auto: the validation split if training made one, else all.',
                  flag_values=FLAGS)
flags.DEFINE_boolean('tta', False,
                     'Average over centre/corner crops and their flips.',
                     flag_values=FLAGS)
flags.DEFINE_integer('batch_size', 32, 'Images per batch.', flag_values=FLAGS)
cli.define_data_flags(FLAGS)
flags.mark_flag_as_required('data_dir', flag_values=FLAGS)


def _compare_export():
  """Score ``--model_path`` and its checkpoint; print them side by side."""
  if FLAGS.tta or FLAGS.precision != 'fp32':
    raise ValueError('--model_path scores the export as it was exported: '
                     'leave out --tta and --precision (export with '
                     '--precision instead).')
  comparison = accuracy.compare(
      FLAGS.model_path, FLAGS.data_dir, subset=FLAGS.subset,
      train_dir=FLAGS.train_dir, checkpoint_path=FLAGS.checkpoint_path,
      batch_size=FLAGS.batch_size, strict=FLAGS.strict)
  print(accuracy.report(comparison))
  return 0


def main():
  """Evaluate and print the report."""
  if FLAGS.model_path:
    return _compare_export()
  if not FLAGS.train_dir and not FLAGS.checkpoint_path:
    raise ValueError('pass --train_dir (a training run), --model_path (an '
                     'export) or --checkpoint_path=resnet_v2_50 (a release) '
                     'to say what to evaluate.')
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
