"""One table of every registered model: ``python -m resnet_v2.summary``.

  python -m resnet_v2.summary                    # 224x224, 1000 classes
  python -m resnet_v2.summary --image_size=320 --num_classes=21

prints, per model, its units per block, parameters, multiply-adds (the
paper's "FLOPs") and the output stride of each block, all computed by
``resnet_v2.describe`` from the Block spec, without building a graph.
"""


from absl import flags

from resnet_v2.common import cli  # first: the log settings precede TensorFlow
from resnet_v2.nets import model_table

FLAGS = flags.FlagValues()

flags.DEFINE_integer('image_size', 224, 'Input height and width in pixels.',
                     flag_values=FLAGS)
flags.DEFINE_integer('num_classes', 1000,
                     'Logits of the classifier; 0 for none.',
                     flag_values=FLAGS)


def main():
  """Print the table for the flags' image size and class count."""
  table = model_table.summary_table(FLAGS.image_size, FLAGS.num_classes)
  head = ('%d classes' % FLAGS.num_classes if FLAGS.num_classes
          else 'no logits layer')
  print('All registered models at %dx%d, %s (parameters include batch-norm '
        'moving statistics; mult-adds count convolutions and logits for one '
        'image):\n' % (FLAGS.image_size, FLAGS.image_size, head))
  print(table)
  return 0


if __name__ == '__main__':
  cli.run(main, FLAGS, __doc__)
