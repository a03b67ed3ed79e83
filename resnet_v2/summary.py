"""One table of every registered model: ``python -m resnet_v2.summary``.

  python -m resnet_v2.summary                    # 224x224, 1000 classes
  python -m resnet_v2.summary --image_size=320 --num_classes=21

prints, per model, its units per block, parameters, multiply-adds (the
paper's "FLOPs") and the output stride of each block, all computed by
``resnet_v2.describe`` from the Block spec, without building a graph.
"""

import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

from absl import flags  # noqa: E402

from resnet_v2 import analysis  # noqa: E402
from resnet_v2 import command_line  # noqa: E402
from resnet_v2 import registry  # noqa: E402
from resnet_v2 import tables  # noqa: E402

FLAGS = flags.FlagValues()

flags.DEFINE_integer('image_size', 224, 'Input height and width in pixels.',
                     flag_values=FLAGS)
flags.DEFINE_integer('num_classes', 1000,
                     'Logits of the classifier; 0 for none.',
                     flag_values=FLAGS)

HEADERS = ('model', 'units per block', 'params (M)', 'trainable (M)',
           'mult-adds (G)', 'block strides', 'output')


def _units_text(blocks):
  """E.g. ``'3-4-6-3 bottleneck'``: units per block, then the unit kind."""
  unit_names = sorted({block.unit_fn.__name__ for block in blocks})
  return '%s %s' % ('-'.join(str(len(block.args)) for block in blocks),
                    '+'.join(unit_names))


def summary_rows(image_size=224, num_classes=1000):
  """One row of ``HEADERS`` per registered model, in registration order."""
  rows = []
  for name in registry.list_models():
    description = analysis.describe(name, image_size, num_classes)
    last = description.blocks[-1]
    rows.append((
        name,
        _units_text(registry.get_blocks(name)),
        '%.2f' % (description.total_params / 1e6),
        '%.2f' % (description.trainable_params / 1e6),
        '%.2f' % (description.multiply_adds / 1e9),
        '/'.join(str(block.stride) for block in description.blocks),
        'x'.join(str(side) for side in last.output_shape),
    ))
  return rows


def summary_table(image_size=224, num_classes=1000):
  """``summary_rows`` as an aligned text table with a header line."""
  return tables.format_table(HEADERS, summary_rows(image_size, num_classes))


def main():
  """Print the table for the flags' image size and class count."""
  table = summary_table(FLAGS.image_size, FLAGS.num_classes)
  head = ('%d classes' % FLAGS.num_classes if FLAGS.num_classes
          else 'no logits layer')
  print('All registered models at %dx%d, %s (parameters include batch-norm '
        'moving statistics; mult-adds count convolutions and logits for one '
        'image):\n' % (FLAGS.image_size, FLAGS.image_size, head))
  print(table)
  return 0


if __name__ == '__main__':
  command_line.run(main, FLAGS, __doc__)
