"""Residual unit functions: the ``unit_fn`` of a Block.

  net = bottleneck(net, depth=256, depth_bottleneck=64, stride=2)
  net = basic(net, depth=64, stride=1)

Every unit is ``output = shortcut(x) + residual(x)``. In the pre-activation
units of He et al. 2016 ("Identity Mappings in Deep Residual Networks"),
batch norm and ReLU come *before* each convolution, and the sum is passed
on untouched, so the shortcut path is a pure identity from the input of
the first unit to the output of the last. That is what lets very deep nets
(200 layers and more) train as easily as shallow ones.

The post-activation unit of the original ResNet (He et al. 2015, "Deep
Residual Learning for Image Recognition") normalizes after each convolution
and applies a ReLU to the sum; ``bottleneck_v1`` builds it with TF-Slim's
variable names so its released v1 checkpoints load.

Whatever the unit, its stride sits on the last 3x3 convolution of the
residual path: in atrous mode ``stack_blocks_dense`` removes that stride and
dilates the following units instead, which reproduces the strided net
exactly only if no 3x3 conv of the unit runs after the stride.
"""

import tensorflow.compat.v1 as tf
import tf_slim as slim

from resnet_v2.nets import blocks
from resnet_v2.nets import normalization


def _unit(unit_fn):
  """Let arg_scope reach a unit function, and tag it with its unit kind.

  The tag is the function's name, the key of its row in the unit-kind table
  of ``layouts`` (pre- or post-activation, convs per unit, published
  layouts): ``describe`` reads a Block's unit from it without building
  anything.
  """
  unit_fn = slim.add_arg_scope(unit_fn)
  unit_fn.unit_kind = unit_fn.__name__
  return unit_fn


def _keeps_depth(inputs, depth):
  """Whether a unit with ``depth`` output channels keeps the input's count."""
  return depth == slim.utils.last_dimension(inputs.get_shape(), min_rank=4)


def preact_shortcut(inputs, preact, depth, stride):
  """The shortcut of a pre-activation unit.

  When the unit keeps the channel count, the shortcut is the raw input,
  subsampled to the unit's stride. When it changes the channel count, a
  1x1 projection is needed; it reads the shared pre-activation (not the raw
  input) so that the projection also sees normalized inputs, as in the
  paper's full pre-activation design. No norm or activation follows it.
  """
  if _keeps_depth(inputs, depth):
    return blocks.subsample(inputs, stride, 'shortcut')
  return slim.conv2d(preact, depth, [1, 1], stride=stride,
                     normalizer_fn=None, activation_fn=None, scope='shortcut')


def _preactivate(inputs, depth, stride):
  """The shared BN-ReLU of a pre-activation unit, and the unit's shortcut."""
  preact = normalization.batch_norm(inputs, activation_fn=tf.nn.relu,
                                    scope='preact')
  return preact, preact_shortcut(inputs, preact, depth, stride)


@_unit
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
    preact, shortcut = _preactivate(inputs, depth, stride)
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


@_unit
def basic(inputs, depth, stride, rate=1, outputs_collections=None,
          scope=None):
  """Pre-activation basic unit: BN-ReLU, then two 3x3 convs.

  The unit of the shallow nets (ResNet-18 and -34): the first 3x3 conv
  runs after the shared pre-activation with batch norm and ReLU, the second
  has neither (the next unit normalizes the sum). The shortcut follows the
  bottleneck's rules. The stride sits on the *second* 3x3 conv, so that
  atrous mode (which drops the stride and dilates what follows) stays
  exact, as in TF-Slim's bottleneck where it sits on the only 3x3.

  Args:
    inputs: a ``[batch, height, width, channels]`` tensor.
    depth: output channels of both convs and of the unit.
    stride: the unit's stride (on the second conv and the shortcut).
    rate: dilation rate of both 3x3 convs.
    outputs_collections: collection to add the unit's output to.
    scope: variable scope, ``basic_v2`` by default.

  Returns:
    The unit's output, ``[batch, height / stride, width / stride, depth]``.
  """
  with tf.variable_scope(scope, 'basic_v2', [inputs]) as unit_scope:
    preact, shortcut = _preactivate(inputs, depth, stride)
    residual = blocks.conv2d_same(preact, depth, 3, 1, rate=rate,
                                  scope='conv1')
    with slim.arg_scope([slim.conv2d], normalizer_fn=None, activation_fn=None):
      residual = blocks.conv2d_same(residual, depth, 3, stride, rate=rate,
                                    scope='conv2')
    output = shortcut + residual
    return slim.utils.collect_named_outputs(outputs_collections,
                                            unit_scope.name, output)


def postact_shortcut(inputs, depth, stride):
  """The shortcut of a post-activation unit.

  The raw input, subsampled, when the unit keeps the channel count; else
  a 1x1 projection of the input with batch norm and no activation (the
  ReLU comes after the sum).
  """
  if _keeps_depth(inputs, depth):
    return blocks.subsample(inputs, stride, 'shortcut')
  return slim.conv2d(inputs, depth, [1, 1], stride=stride, activation_fn=None,
                     scope='shortcut')


@_unit
def bottleneck_v1(inputs, depth, depth_bottleneck, stride, rate=1,
                  outputs_collections=None, scope=None):
  """Post-activation bottleneck unit: 1x1, 3x3, 1x1 convs, each then BN.

  The unit of the original ResNet-50/101/152 (He et al. 2015, Fig. 5):
  every conv is followed by batch norm, the first two by ReLU, and a ReLU
  follows the sum. The stride sits on the 3x3 conv, as in TF-Slim's
  ``resnet_v1`` (whose variable names this unit reproduces), rather than on
  the first 1x1 as in the paper's Caffe models.

  Takes the arguments of ``bottleneck`` and returns the unit's output,
  ``[batch, height / stride, width / stride, depth]``; the default scope
  is ``bottleneck_v1``.
  """
  with tf.variable_scope(scope, 'bottleneck_v1', [inputs]) as unit_scope:
    shortcut = postact_shortcut(inputs, depth, stride)
    residual = slim.conv2d(inputs, depth_bottleneck, [1, 1], stride=1,
                           scope='conv1')
    residual = blocks.conv2d_same(residual, depth_bottleneck, 3, stride,
                                  rate=rate, scope='conv2')
    residual = slim.conv2d(residual, depth, [1, 1], stride=1,
                           activation_fn=None, scope='conv3')
    output = tf.nn.relu(shortcut + residual)
    return slim.utils.collect_named_outputs(outputs_collections,
                                            unit_scope.name, output)
