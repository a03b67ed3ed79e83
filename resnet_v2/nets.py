"""ResNet v2 networks generated from one table of unit counts.

``resnet_v2`` turns any list of Blocks into a classifier or a dense feature
extractor; ``blocks_for_depth`` turns a depth into that list; and the
familiar ``resnet_v2_50`` ... ``resnet_v2_200`` constructors are generated
from ``BOTTLENECK_UNITS``, so the depth table is written down exactly once.
"""

import numbers

import tensorflow.compat.v1 as tf
import tf_slim as slim

from resnet_v2 import blocks as blocks_lib
from resnet_v2 import units

ROOT_STRIDE = 4
DEFAULT_IMAGE_SIZE = 224

# Units per block for each depth (He et al. 2016, Table 1 of the v1 paper):
# depth = 3 * sum(units) + 2 (the root conv and the logits layer).
BOTTLENECK_UNITS = {
    50: (3, 4, 6, 3),
    101: (3, 4, 23, 3),
    152: (3, 8, 36, 3),
    200: (3, 24, 36, 3),
}

# Base (bottleneck) depth and stride of the four blocks. The stride sits in
# the *last* unit of a block, so block4 keeps the 1/32 grid block3 makes.
BLOCK_BASE_DEPTHS = (64, 128, 256, 512)
BLOCK_STRIDES = (2, 2, 2, 1)


def resnet_v2_block(scope, base_depth, num_units, stride):
  """A Block of ``num_units`` pre-activation bottleneck units.

  Every unit outputs ``4 * base_depth`` channels through a ``base_depth``
  bottleneck. Only the last unit strides: the block's earlier units then
  work at the finer resolution, and a block's output is already at the
  stride of the next block.
  """
  unit = {'depth': base_depth * 4, 'depth_bottleneck': base_depth,
          'stride': 1}
  last = dict(unit, stride=stride)
  return blocks_lib.Block(scope, units.bottleneck,
                          [dict(unit) for _ in range(num_units - 1)] + [last])


def blocks_for_depth(depth, unit='bottleneck', width_multiplier=1.0):
  """The list of Blocks of a ResNet v2 of the given depth.

  Args:
    depth: one of the depths in ``BOTTLENECK_UNITS``.
    unit: the unit kind; ``'bottleneck'``.
    width_multiplier: scales every block's base depth (wide variants).

  Returns:
    A list of four ``Block``.

  Raises:
    ValueError: for an unknown depth or unit, or a non-positive width.
  """
  if unit != 'bottleneck':
    raise ValueError("unit=%r is not supported: use 'bottleneck'." % (unit,))
  if depth not in BOTTLENECK_UNITS:
    raise ValueError('depth=%r has no bottleneck layout: choose one of %s.'
                     % (depth, ', '.join(map(str, sorted(BOTTLENECK_UNITS)))))
  if not width_multiplier > 0:
    raise ValueError('width_multiplier must be > 0, got %r.'
                     % (width_multiplier,))
  return [
      resnet_v2_block('block%d' % (index + 1),
                      int(round(base * width_multiplier)), count, stride)
      for index, (base, count, stride) in enumerate(
          zip(BLOCK_BASE_DEPTHS, BOTTLENECK_UNITS[depth], BLOCK_STRIDES))
  ]


def _check_inputs(inputs):
  """Return ``inputs`` as a tensor, or raise if it is not a 4-D image batch."""
  if tf.executing_eagerly():
    raise RuntimeError(
        'resnet_v2 builds TF1-style graphs: call it inside '
        '`with tf.Graph().as_default():` (or a tf.function).')
  inputs = tf.convert_to_tensor(inputs)
  shape = inputs.get_shape()
  if shape.rank != 4:
    raise ValueError(
        'inputs must be a rank-4 [batch, height, width, channels] tensor; got '
        'shape %s. Add a batch axis with tf.expand_dims(image, 0).' % (shape,))
  if shape[3] is None:
    raise ValueError(
        'inputs must have a known channel count (the last axis); got shape %s. '
        'Set it with inputs.set_shape([None, None, None, 3]).' % (shape,))
  return inputs


def _check_num_classes(num_classes):
  """Raise unless num_classes is None, 0, or a positive integer."""
  if num_classes is None:
    return
  if (isinstance(num_classes, bool) or
      not isinstance(num_classes, numbers.Integral) or num_classes < 0):
    raise ValueError(
        'num_classes must be a positive int (the number of logits), or '
        'None/0 to return features without a logits layer; got %r.'
        % (num_classes,))


def _check_root_output_stride(output_stride):
  """The root already strides by 4, so a requested stride must divide by 4."""
  if output_stride is not None and output_stride % ROOT_STRIDE != 0:
    raise ValueError(
        'output_stride=%r must be a multiple of 4 with the root block (its '
        'conv and max-pool already stride by 4): use 8, 16 or 32, or None.'
        % (output_stride,))


def _check_squeezable(net, scope_name):
  """Raise if the logits would be a spatial map that cannot be squeezed."""
  height, width = net.get_shape()[1], net.get_shape()[2]
  if (height is not None and height != 1) or (width is not None and width != 1):
    raise ValueError(
        '%s: spatial_squeeze=True needs a 1x1 output but the logits are %sx%s. '
        'Set global_pool=True for one prediction per image, or '
        'spatial_squeeze=False for a dense prediction map.'
        % (scope_name, height, width))


def _batch_norm_is_training(is_training):
  """The ``is_training`` batch norm should use inside the net.

  A caller who wrapped the net in ``slim.arg_scope([slim.batch_norm],
  is_training=...)`` said explicitly how every batch norm should behave, so
  that setting wins; otherwise the net's own ``is_training`` argument does.
  """
  enclosing = slim.current_arg_scope().get(
      slim.arg_scope_func_key(slim.batch_norm), {})
  return enclosing.get('is_training', is_training)


def _root_block(net):
  """The stem: a 7x7/2 conv to 64 channels, then a 3x3/2 max-pool.

  The conv has neither batch norm nor activation: in a pre-activation net
  the first unit's own BN-ReLU normalizes its input.
  """
  with slim.arg_scope([slim.conv2d], activation_fn=None, normalizer_fn=None):
    net = blocks_lib.conv2d_same(net, 64, 7, stride=2, scope='conv1')
  return slim.max_pool2d(net, [3, 3], stride=2, scope='pool1')


def _arg_scoped_unit_fns(blocks):
  """The distinct unit functions of ``blocks`` that accept arg_scope."""
  found = []
  for block in blocks:
    if block.unit_fn not in found and slim.has_arg_scope(block.unit_fn):
      found.append(block.unit_fn)
  return found


def resnet_v2(inputs,
              blocks,
              num_classes=None,
              is_training=True,
              global_pool=True,
              output_stride=None,
              include_root_block=True,
              spatial_squeeze=True,
              reuse=None,
              scope=None):
  """Build a pre-activation ResNet from a list of Blocks.

  The net is root -> blocks -> batch norm + ReLU ('postnorm') -> optional
  global average pool -> optional 1x1 logits conv. The final BN-ReLU is
  needed because pre-activation units leave their sums un-normalized.

  Args:
    inputs: ``[batch, height, width, channels]`` images; batch, height and
      width may be unknown.
    blocks: a list of ``Block``, e.g. ``blocks_for_depth(50)``.
    num_classes: logits per position; None or 0 returns the features.
    is_training: batch-norm mode (batch statistics and moving-average
      updates when True). An enclosing ``slim.arg_scope([slim.batch_norm],
      is_training=...)`` takes precedence.
    global_pool: average the final features over height and width.
    output_stride: None for the nominal stride (32), or 8/16 etc. for a
      denser output computed with atrous convolution.
    include_root_block: build the 7x7 conv and max-pool stem; without it
      ``inputs`` should be the output of an activation-free convolution.
    spatial_squeeze: drop the 1x1 height and width from the logits.
    reuse: reuse the variables of an earlier call with the same ``scope``.
    scope: variable scope; 'resnet_v2' when None.

  Returns:
    ``(net, end_points)``: the logits (or features) and a dict from full
    scope names (every conv, unit and block, plus 'global_pool',
    '<scope>/logits', '<scope>/spatial_squeeze' and 'predictions') to
    tensors.

  Raises:
    ValueError: on a bad input shape, num_classes, output_stride,
      spatial_squeeze on a spatial output, or reuse=True without a scope.
  """
  inputs = _check_inputs(inputs)
  _check_num_classes(num_classes)
  if reuse is True and not scope:
    raise ValueError('reuse=True needs the scope of the net to reuse: pass '
                     'scope=<the name used when it was first built>.')
  if include_root_block:
    _check_root_output_stride(output_stride)
    blocks_lib.check_output_stride(blocks, output_stride, ROOT_STRIDE)
    block_output_stride = (None if output_stride is None
                           else output_stride // ROOT_STRIDE)
  else:
    blocks_lib.check_output_stride(blocks, output_stride)
    block_output_stride = output_stride

  bn_is_training = _batch_norm_is_training(is_training)
  with tf.variable_scope(scope, 'resnet_v2', [inputs], reuse=reuse) as sc:
    collection = sc.original_name_scope + '_end_points'
    collected = [slim.conv2d, blocks_lib.stack_blocks_dense]
    collected += _arg_scoped_unit_fns(blocks)
    with slim.arg_scope(collected, outputs_collections=collection), \
         slim.arg_scope([slim.batch_norm], is_training=bn_is_training):
      net = _root_block(inputs) if include_root_block else inputs
      net = blocks_lib.stack_blocks_dense(net, blocks, block_output_stride)
      net = slim.batch_norm(net, activation_fn=tf.nn.relu, scope='postnorm')
      end_points = slim.utils.convert_collection_to_dict(collection)
      if global_pool:
        net = tf.reduce_mean(net, [1, 2], name='pool5', keepdims=True)
        end_points['global_pool'] = net
      if num_classes:
        if spatial_squeeze:
          _check_squeezable(net, sc.name)
        net = slim.conv2d(net, num_classes, [1, 1], activation_fn=None,
                          normalizer_fn=None, scope='logits')
        end_points[sc.name + '/logits'] = net
        if spatial_squeeze:
          net = tf.squeeze(net, [1, 2], name='SpatialSqueeze')
          end_points[sc.name + '/spatial_squeeze'] = net
        end_points['predictions'] = slim.softmax(net, scope='predictions')
  return net, end_points


resnet_v2.default_image_size = DEFAULT_IMAGE_SIZE


def _make_constructor(depth):
  """Create ``resnet_v2_<depth>`` with TF-Slim's signature and defaults."""
  name = 'resnet_v2_%d' % depth

  def constructor(inputs, num_classes=None, is_training=True, global_pool=True,
                  output_stride=None, spatial_squeeze=True, reuse=None,
                  scope=name):
    return resnet_v2(inputs, blocks_for_depth(depth), num_classes=num_classes,
                     is_training=is_training, global_pool=global_pool,
                     output_stride=output_stride, include_root_block=True,
                     spatial_squeeze=spatial_squeeze, reuse=reuse, scope=scope)

  constructor.__name__ = constructor.__qualname__ = name
  constructor.__doc__ = (
      'ResNet v2 with %d layers (bottleneck units per block: %s).\n\n'
      'Same arguments and returns as ``resnet_v2`` with the blocks fixed and '
      "``scope='%s'``, so TF-Slim checkpoints of this net load unchanged."
      % (depth, '-'.join(map(str, BOTTLENECK_UNITS[depth])), name))
  constructor.default_image_size = DEFAULT_IMAGE_SIZE
  return constructor


resnet_v2_50 = _make_constructor(50)
resnet_v2_101 = _make_constructor(101)
resnet_v2_152 = _make_constructor(152)
resnet_v2_200 = _make_constructor(200)
