"""A net's architecture as data: the Block, the stem and the head's classes.

  block = Block('block1', units.bottleneck, [dict(depth=256,
                                                  depth_bottleneck=64,
                                                  stride=1)] * 3)
  ROOT_STRIDE                                  # 4: where the blocks start
  check_num_classes(1000)

Nothing here needs TensorFlow: ``describe()`` and the model table do their
arithmetic on these facts alone, and the graph builders read the same ones.
"""

import collections

from resnet_v2.common import checks

# The stem: a 7x7 conv to 64 channels with stride 2, then a 3x3 max-pool
# with stride 2, so the blocks start at stride 4.
ROOT_DEPTH = 64
ROOT_KERNEL_SIZE = 7
ROOT_CONV_STRIDE = 2
ROOT_POOL_STRIDE = 2
ROOT_STRIDE = ROOT_CONV_STRIDE * ROOT_POOL_STRIDE


class Block(collections.namedtuple('Block', ['scope', 'unit_fn', 'args'])):
  """One ResNet block: a variable scope, a unit function and its units.

  Attributes:
    scope: the block's variable scope name, e.g. ``'block1'``.
    unit_fn: the function that builds one unit, called as
      ``unit_fn(net, rate=..., **unit_args)``.
    args: a list with one kwargs dict per unit, e.g.
      ``[{'depth': 256, 'depth_bottleneck': 64, 'stride': 1}, ...]``.
      Its length is the number of units.
  """

  __slots__ = ()

  def __new__(cls, scope, unit_fn, args):
    args = list(args)
    if not args:
      raise ValueError(
          'Block %r has no units: args must hold one kwargs dict per unit, '
          'e.g. [{"depth": 256, "depth_bottleneck": 64, "stride": 1}].'
          % (scope,))
    if not callable(unit_fn):
      raise TypeError('Block %r: unit_fn must be callable (a unit function '
                      'such as resnet_v2.bottleneck), got %r.' % (scope, unit_fn))
    return super(Block, cls).__new__(cls, scope, unit_fn, args)

  @property
  def stride(self):
    """The product of the unit strides: how much this block downsamples."""
    total = 1
    for unit in self.args:
      total *= unit.get('stride', 1)
    return total


def check_num_classes(num_classes) -> None:
  """Raise unless num_classes is None, 0, or a positive integer."""
  if num_classes is None or (checks.is_int(num_classes) and num_classes >= 0):
    return
  raise ValueError(
      'num_classes must be a positive int (the number of logits), or '
      'None/0 to return features without a logits layer; got %r.'
      % (num_classes,))
