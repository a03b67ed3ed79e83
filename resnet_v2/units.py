"""Residual unit functions: the ``unit_fn`` of a Block.

Every unit is ``output = shortcut(x) + residual(x)``. In the pre-activation
units of He et al. 2016 ("Identity Mappings in Deep Residual Networks"),
batch norm and ReLU come *before* each convolution, and the sum is passed
on untouched, so the shortcut path is a pure identity from the input of
the first unit to the output of the last. That is what lets very deep nets
(200 layers and more) train as easily as shallow ones.
"""

import tensorflow.compat.v1 as tf
import tf_slim as slim

from resnet_v2 import blocks


def preact_shortcut(inputs, preact, depth, stride):
  """The shortcut of a pre-activation unit.

  When the unit keeps the channel count, the shortcut is the raw input,
  subsampled to the unit's stride. When it changes the channel count, a
  1x1 projection is needed; it reads the shared pre-activation (not the raw
  input) so that the projection also sees normalized inputs, as in the
  paper's full pre-activation design. No norm or activation follows it.
  """
  depth_in = slim.utils.last_dimension(inputs.get_shape(), min_rank=4)
  if depth == depth_in:
    return blocks.subsample(inputs, stride, 'shortcut')
  return slim.conv2d(preact, depth, [1, 1], stride=stride,
                     normalizer_fn=None, activation_fn=None, scope='shortcut')


@slim.add_arg_scope
def bottleneck(inputs, depth, depth_bottleneck, stride, rate=1,
               outputs_collections=None, scope=None):
  """Pre-activation bottleneck unit: BN-ReLU, then 1x1, 3x3, 1x1 convs.

  The first 1x1 conv shrinks the channels to ``depth_bottleneck``, the 3x3
  conv carries the stride (and the dilation ``rate`` in atrous mode), and
  the last 1x1 conv expands to ``depth`` with neither norm nor activation:
  the next unit's pre-activation normalizes the sum. Putting the stride on
  the 3x3 rather than the first 1x1 avoids discarding three quarters of the
  input before any 3x3 filter has seen it.

  Args:
    inputs: a ``[batch, height, width, channels]`` tensor.
    depth: output channels of the unit.
    depth_bottleneck: channels of the inner 1x1 and 3x3 convolutions.
    stride: the unit's stride (on the 3x3 conv and the shortcut).
    rate: dilation rate of the 3x3 conv.
    outputs_collections: collection to add the unit's output to.
    scope: variable scope, ``bottleneck_v2`` by default.

  Returns:
    The unit's output, ``[batch, height / stride, width / stride, depth]``.
  """
  with tf.variable_scope(scope, 'bottleneck_v2', [inputs]) as unit_scope:
    preact = slim.batch_norm(inputs, activation_fn=tf.nn.relu, scope='preact')
    shortcut = preact_shortcut(inputs, preact, depth, stride)
    residual = slim.conv2d(preact, depth_bottleneck, [1, 1], stride=1,
                           scope='conv1')
    residual = blocks.conv2d_same(residual, depth_bottleneck, 3, stride,
                                  rate=rate, scope='conv2')
    residual = slim.conv2d(residual, depth, [1, 1], stride=1,
                           normalizer_fn=None, activation_fn=None,
                           scope='conv3')
    output = shortcut + residual
    return slim.utils.collect_named_outputs(outputs_collections,
                                            unit_scope.name, output)
