"""The machinery that turns a list of Blocks into a net.

  block = Block('block1', bottleneck, [dict(depth=256, depth_bottleneck=64,
                                            stride=1)] * 3)
  net = stack_blocks_dense(net, [block], output_stride=None)

A ResNet is a root (a strided conv and a max-pool) followed by a list of
Blocks; each Block is a run of units of the same kind. Everything in this
module is independent of which unit is used, so the same stacking loop
builds pre-activation (v2) and post-activation (v1) nets, bottleneck or
basic units.
"""

import tensorflow.compat.v1 as tf
import tf_slim as slim


def subsample(inputs, factor, scope=None):
  """Keep every ``factor``-th row and column of ``inputs``.

  A 1x1 max-pool with stride ``factor`` does this without arithmetic; the
  identity shortcut of a strided unit uses it to match the residual's grid.
  Returns ``inputs`` itself when ``factor`` is 1.
  """
  if factor == 1:
    return inputs
  return slim.max_pool2d(inputs, [1, 1], stride=factor, scope=scope)


def fixed_padding(kernel_size, rate=1):
  """(before, after) padding that centres a strided ``kernel_size`` window.

  A dilated kernel spans ``kernel_size + (kernel_size - 1) * (rate - 1)``
  pixels; padding that span minus one, split as evenly as possible, makes
  the output grid independent of whether the input size is even or odd.
  """
  effective = kernel_size + (kernel_size - 1) * (rate - 1)
  total = effective - 1
  return total // 2, total - total // 2


def conv2d_same(inputs, num_outputs, kernel_size, stride, rate=1, scope=None):
  """A 2-D convolution whose output grid does not depend on input parity.

  With stride 1 this is ``slim.conv2d`` with SAME padding. With a larger
  stride, TensorFlow's SAME padding would pad differently for even and odd
  inputs (it pads more at the end), shifting the sampling grid; explicit
  symmetric padding followed by a VALID convolution keeps pixel (0, 0) of
  the output centred on pixel (0, 0) of the input for every input size.
  That alignment is what lets a 321x321 input give a 41x41 feature map
  whose corners line up with the image corners at output stride 8.
  """
  if stride == 1:
    return slim.conv2d(inputs, num_outputs, kernel_size, stride=1, rate=rate,
                       padding='SAME', scope=scope)
  before, after = fixed_padding(kernel_size, rate)
  padded = tf.pad(inputs, [[0, 0], [before, after], [before, after], [0, 0]])
  return slim.conv2d(padded, num_outputs, kernel_size, stride=stride,
                     rate=rate, padding='VALID', scope=scope)


def reachable_output_strides(blocks):
  """Every output stride ``stack_blocks_dense`` can hold for ``blocks``.

  These are the running products of the unit strides, starting at 1: the
  stack can stop striding at any unit boundary and continue with atrous
  convolution instead.
  """
  strides = [1]
  for block in blocks:
    for unit in block.args:
      step = unit.get('stride', 1)
      if step != 1:
        strides.append(strides[-1] * step)
  return strides


def check_output_stride(blocks, output_stride, root_stride=1):
  """Raise a ValueError naming the valid choices if output_stride is unreachable.

  ``root_stride`` is the stride applied before the blocks (4 for the
  standard root), so the message can speak in whole-network strides.
  """
  if output_stride is None:
    return
  valid = [root_stride * s for s in reachable_output_strides(blocks)]
  if output_stride not in valid:
    raise ValueError(
        'output_stride=%r is not reachable for these blocks: choose one of %s, '
        'or None for the nominal stride %d.'
        % (output_stride, ', '.join(str(v) for v in valid), valid[-1]))


@slim.add_arg_scope
def stack_blocks_dense(net, blocks, output_stride=None,
                       outputs_collections=None):
  """Run ``net`` through every unit of every Block, in order.

  Each block gets the variable scope ``block.scope`` and each unit the scope
  ``unit_<i>`` (from 1), matching TF-Slim's checkpoints. When
  ``output_stride`` is given, striding stops once the running stride reaches
  it; later units run with stride 1 and a dilation rate that grows by the
  stride they skipped (atrous convolution), so the receptive field and the
  weights stay those of the nominal network while the feature map stays
  dense. The output of every block is added to ``outputs_collections``.

  Args:
    net: a ``[batch, height, width, channels]`` tensor.
    blocks: a list of ``Block``.
    output_stride: None for the nominal stride, or a stride this stack can
      reach (see ``reachable_output_strides``), measured from ``net``.
    outputs_collections: collection to add each block's output to.

  Returns:
    The output tensor of the last block.

  Raises:
    ValueError: if ``output_stride`` is not reachable.
  """
  check_output_stride(blocks, output_stride)
  current_stride = 1
  rate = 1
  for block in blocks:
    with tf.variable_scope(block.scope, 'block', [net]) as block_scope:
      for index, unit in enumerate(block.args):
        unit_stride = unit.get('stride', 1)
        with tf.variable_scope('unit_%d' % (index + 1), values=[net]):
          if output_stride is not None and current_stride == output_stride:
            net = block.unit_fn(net, rate=rate, **dict(unit, stride=1))
            rate *= unit_stride
          else:
            net = block.unit_fn(net, rate=1, **unit)
            current_stride *= unit_stride
      net = slim.utils.collect_named_outputs(outputs_collections,
                                             block_scope.name, net)
  return net
