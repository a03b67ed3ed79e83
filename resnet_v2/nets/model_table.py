"""One row per registered model: units, size, cost and strides, as text.

  print(summary_table(image_size=224, num_classes=1000))

Every number comes from ``analysis.describe`` on the model's Block spec,
so the table needs no graph and stays in step with what the nets build.
"""

from typing import List, Tuple

from resnet_v2.common import tables
from resnet_v2.nets import analysis
from resnet_v2.nets import layouts
from resnet_v2.nets import registry

HEADERS = ('model', 'units per block', 'params (M)', 'trainable (M)',
           'mult-adds (G)', 'block strides', 'output')


def _units_text(model):
  """E.g. ``'3-4-6-3 bottleneck'``: units per block, then the unit kind."""
  counts = layouts.units_per_block(model.depth, model.unit)
  return '%s %s' % ('-'.join(map(str, counts)), model.unit)


def summary_rows(image_size: int = 224,
                 num_classes: int = 1000) -> List[Tuple[str, ...]]:
  """One row of ``HEADERS`` per registered model, in registration order.

  Raises:
    ValueError: for an image size below a model's output stride (the
      size its builder refuses), or a bad class count.
  """
  rows = []
  for name in registry.list_models():
    analysis.check_image_size(name, image_size)
    description = analysis.describe(name, image_size, num_classes)
    last = description.blocks[-1]
    rows.append((
        name,
        _units_text(registry.get_spec(name)),
        '%.2f' % (description.total_params / 1e6),
        '%.2f' % (description.trainable_params / 1e6),
        '%.2f' % (description.multiply_adds / 1e9),
        '/'.join(str(block.stride) for block in description.blocks),
        'x'.join(str(side) for side in last.output_shape),
    ))
  return rows


def summary_table(image_size: int = 224, num_classes: int = 1000) -> str:
  """``summary_rows`` as an aligned text table with a header line."""
  return tables.format_table(HEADERS, summary_rows(image_size, num_classes))
