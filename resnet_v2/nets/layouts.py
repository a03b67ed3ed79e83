"""Block lists by depth: the unit-count tables and the rule behind them.

  units_per_block(101)                     # (3, 4, 23, 3)
  blocks = blocks_for_depth(26, unit='bottleneck', width_multiplier=0.5)

A ResNet's depth counts its weighted layers on the longest path: the root
conv, the convs of every unit and the logits layer. So a net of
bottleneck units (3 convs each) has depth ``3 * units + 2`` and a net of
basic units (2 convs each) ``2 * units + 2``. Which units go in which of
the four blocks is the published table (He et al. 2015, Table 1; He et al.
2016 for 200); every net here is generated from it.

The tables and the unit kinds are plain data: sizing a model
(``describe``, the summary) reads them without TensorFlow, which loads only
when a Block list with real unit functions is asked for.
"""

import collections
import itertools
import math
import numbers

from resnet_v2.common import checks
from resnet_v2.nets import spec

# Units per block of the published nets.
BOTTLENECK_UNITS = {
    50: (3, 4, 6, 3),
    101: (3, 4, 23, 3),
    152: (3, 8, 36, 3),
    200: (3, 24, 36, 3),
}
BASIC_UNITS = {
    18: (2, 2, 2, 2),
    34: (3, 4, 6, 3),
}

# Base depth and stride of the four blocks. The stride sits in the *last*
# unit of a block, so block4 keeps the 1/32 grid block3 makes.
BLOCK_BASE_DEPTHS = (64, 128, 256, 512)
BLOCK_STRIDES = (2, 2, 2, 1)
NUM_BLOCKS = len(BLOCK_BASE_DEPTHS)

_UnitKind = collections.namedtuple(
    'UnitKind', ['pre_activation', 'convs_per_unit', 'published',
                 'unit_args'])
_UnitKind.__doc__ = """What the layouts and the analysis know of a unit.

The kind's name is also the name of its function in ``units``.

Attributes:
  pre_activation: True for the units of ``resnet_v2`` (batch norm and ReLU
    before each conv), False for those of ``resnet_v1``; the model table
    picks the generator by it, and ``describe`` counts the stem's and the
    final batch norm by it.
  convs_per_unit: weighted layers per unit, for the depth rule.
  published: ``{depth: units per block}`` of the published nets.
  unit_args: ``unit_args(base_depth)``, the kwargs of one unit (without
    the stride) in a block of that base depth.
"""


def _bottleneck_args(base_depth):
  """A bottleneck unit outputs four times its ``base_depth`` bottleneck."""
  return {'depth': 4 * base_depth, 'depth_bottleneck': base_depth}


def _basic_args(base_depth):
  """A basic unit outputs ``base_depth`` channels."""
  return {'depth': base_depth}


_UNIT_KINDS = collections.OrderedDict([
    ('bottleneck', _UnitKind(True, 3, BOTTLENECK_UNITS, _bottleneck_args)),
    ('basic', _UnitKind(True, 2, BASIC_UNITS, _basic_args)),
    ('bottleneck_v1', _UnitKind(False, 3, BOTTLENECK_UNITS,
                                _bottleneck_args)),
])


def uniform_block(scope, unit_fn, unit_args, num_units, stride):
  """A Block of ``num_units`` identical units, only the last one strided.

  Striding in the last unit lets a block's earlier units work at the finer
  resolution (TF-Slim's layout; the paper strides the first unit), so a
  block's output is already at the stride of the next block.

  Raises:
    ValueError: if num_units is not a positive int.
  """
  return spec.Block(scope, unit_fn,
                    _uniform_args(scope, unit_args, num_units, stride))


def _uniform_args(scope, unit_args, num_units, stride):
  """The kwargs of ``num_units`` units like ``unit_args``, the last strided."""
  if not (checks.is_int(num_units) and num_units > 0):
    raise ValueError('Block %r: num_units must be a positive int, got %r.'
                     % (scope, num_units))
  first = [dict(unit_args, stride=1) for _ in range(num_units - 1)]
  return first + [dict(unit_args, stride=stride)]


def resnet_v2_block(scope, base_depth, num_units, stride):
  """A Block of ``num_units`` pre-activation bottleneck units.

  Every unit outputs ``4 * base_depth`` channels through a ``base_depth``
  bottleneck; only the last unit strides (see ``uniform_block``).
  """
  return uniform_block(scope, unit_function('bottleneck'),
                       _bottleneck_args(base_depth), num_units, stride)


def resnet_v1_block(scope, base_depth, num_units, stride):
  """A Block of ``num_units`` post-activation (v1) bottleneck units.

  The same layout as ``resnet_v2_block`` with ``units.bottleneck_v1``, as
  TF-Slim's ``resnet_v1_block`` builds it.
  """
  return uniform_block(scope, unit_function('bottleneck_v1'),
                       _bottleneck_args(base_depth), num_units, stride)


def _valid_depths_text(kind):
  """The valid depths of a unit kind, in words, for error messages."""
  per_block_step = NUM_BLOCKS * kind.convs_per_unit
  rule_depths = (per_block_step * n + 2 for n in itertools.count(1))
  examples = itertools.islice(
      (depth for depth in rule_depths if depth not in kind.published), 4)
  return ('%s (published), or %d*n + 2 for n units in every block (%s, ...)'
          % (', '.join(map(str, sorted(kind.published))), per_block_step,
             ', '.join(map(str, examples))))


def units_per_block(depth, unit='bottleneck'):
  """The number of units in each of the four blocks of a net of ``depth``.

  The published layout when there is one (bottleneck: 50, 101, 152, 200;
  basic: 18, 34). Otherwise every block gets the same number ``n`` of
  units, which the depth fixes: ``depth = 4 * n * convs_per_unit + 2``,
  i.e. 12n + 2 for bottleneck units (14, 26, 38, 62, ...) and 8n + 2 for
  basic units (10, 26, 42, ...). The published ResNet-18 is itself that
  rule with n = 2. No other spread is guessed: a depth neither the table
  nor the rule gives is an error.

  Raises:
    ValueError: for an unknown unit or a depth neither rule produces; the
      message lists the valid choices.
  """
  kind = _unit_kind(unit)
  if checks.is_int(depth) and depth in kind.published:
    return kind.published[depth]
  per_block_step = NUM_BLOCKS * kind.convs_per_unit
  if checks.is_int(depth) and depth > 2 and (depth - 2) % per_block_step == 0:
    return ((depth - 2) // per_block_step,) * NUM_BLOCKS
  raise ValueError('depth=%r has no %s layout: choose %s.'
                   % (depth, unit, _valid_depths_text(kind)))


def unit_function(unit: str):
  """The unit function named ``unit`` ('bottleneck', 'basic', ...).

  The units module, and with it TensorFlow, is imported here on first use
  rather than with this module, so that the tables stay free of it.
  """
  _unit_kind(unit)
  from resnet_v2.nets import units  # pylint: disable=g-import-not-at-top
  return getattr(units, unit)


def is_pre_activation(unit: str) -> bool:
  """Whether the unit kind ``unit`` belongs to ``resnet_v2`` (else v1)."""
  return _unit_kind(unit).pre_activation


def _unit_kind(unit):
  """The ``_UnitKind`` named ``unit``; ValueError lists the known names."""
  if not isinstance(unit, str) or unit not in _UNIT_KINDS:
    raise ValueError('unit=%r is not a known unit: choose one of %s.'
                     % (unit, ', '.join(repr(name) for name in _UNIT_KINDS)))
  return _UNIT_KINDS[unit]


def _check_width_multiplier(width_multiplier):
  """Raise unless width_multiplier is a finite number > 0."""
  if (isinstance(width_multiplier, bool) or
      not isinstance(width_multiplier, numbers.Real) or
      not math.isfinite(width_multiplier) or not width_multiplier > 0):
    raise ValueError(
        'width_multiplier must be a finite number > 0 (1.0 for the standard '
        'widths, 2.0 for twice as many channels); got %r.'
        % (width_multiplier,))


def blocks_for_depth(depth, unit='bottleneck', width_multiplier=1.0):
  """The four Blocks of a ResNet of the given depth.

  Args:
    depth: the number of weighted layers; see ``units_per_block`` for the
      depths each unit supports and how the units are spread.
    unit: ``'bottleneck'`` (pre-activation, ResNet v2), ``'basic'``
      (pre-activation basic unit) or ``'bottleneck_v1'`` (the original
      post-activation unit, for ``resnet_v1``).
    width_multiplier: scales every block's channels (bottleneck and output
      depths alike, rounded, at least 1); 2.0 gives a wide variant with
      about four times the parameters. The root conv keeps 64 channels.

  Returns:
    A list of four ``Block`` named ``block1`` ... ``block4``, with base
    depths 64, 128, 256, 512 (times the multiplier) and strides 2, 2, 2, 1
    in their last units.

  Raises:
    ValueError: for an unknown unit or depth (the message lists the valid
      choices), or a width_multiplier that is not a number > 0.
  """
  return [spec.Block(scope, unit_function(unit), args)
          for scope, args in block_unit_args(depth, unit, width_multiplier)]


def block_unit_args(depth, unit='bottleneck', width_multiplier=1.0):
  """``[(scope, unit kwargs list), ...]``: ``blocks_for_depth`` as data.

  The same four blocks without their unit function, so that they can be
  sized without TensorFlow. Raises as ``blocks_for_depth`` does.
  """
  counts = units_per_block(depth, unit)
  _check_width_multiplier(width_multiplier)
  unit_args = _UNIT_KINDS[unit].unit_args
  layout = []
  for index, (base, count, stride) in enumerate(
      zip(BLOCK_BASE_DEPTHS, counts, BLOCK_STRIDES)):
    scope = 'block%d' % (index + 1)
    width = max(1, int(round(base * width_multiplier)))
    layout.append((scope, _uniform_args(scope, unit_args(width), count,
                                        stride)))
  return layout
