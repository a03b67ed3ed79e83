"""The residual units as Keras 3 layers, and the builder that names them.

  builder = Builder(weight_decay=1e-4)
  net = bottleneck(builder, net, 'resnet_v2_50/block1/unit_1', depth=256,
                   depth_bottleneck=64, stride=1)
  builder.end_points['resnet_v2_50/block1/unit_1/bottleneck_v2']   # net

Each unit is the Keras 3 twin of its graph-builder namesake in
``resnet_v2.nets.units`` (see there for why each conv, norm and stride
sits where it does): the same layers in the same scopes, so the same
TF-Slim variable names and the same end_points. A unit function is the
``unit_fn`` of a ``Block``, called as ``unit_fn(builder, net, scope, rate=...,
**unit_args)`` on Keras tensors of a functional model under construction.
"""

import keras

from resnet_v2.nets import arg_scope
from resnet_v2.keras import layers


class Builder:
  """Makes the layers of one net and collects its end_points.

  ``end_points`` maps TF-Slim's end_point names (every conv, unit and
  block, as the graph builder collects them) to the Keras tensors.

  Args:
    weight_decay: L2 penalty on every conv's weights.
    batch_norm_decay: moving-average decay of every batch norm.
    batch_norm_epsilon: every batch norm's epsilon.
  """

  def __init__(self, weight_decay: float = arg_scope.WEIGHT_DECAY,
               batch_norm_decay: float = arg_scope.BATCH_NORM_DECAY,
               batch_norm_epsilon: float = arg_scope.BATCH_NORM_EPSILON):
    self.weight_decay = weight_decay
    self.batch_norm_decay = batch_norm_decay
    self.batch_norm_epsilon = batch_norm_epsilon
    self.end_points = {}

  def conv(self, net, scope: str, depth: int, kernel_size: int,
           stride: int = 1, rate: int = 1, normalized: bool = True,
           relu: bool = True):
    """``net`` through a ``layers.Conv`` in ``scope``, an end_point."""
    net = layers.Conv(depth, kernel_size, stride=stride, rate=rate,
                      normalized=normalized, relu=relu,
                      weight_decay=self.weight_decay,
                      batch_norm_decay=self.batch_norm_decay,
                      batch_norm_epsilon=self.batch_norm_epsilon,
                      name=layers.layer_name(scope))(net)
    self.end_points[scope] = net
    return net

  def batch_norm(self, net, scope: str, relu: bool = True):
    """``net`` through a ``layers.BatchNorm`` in ``scope``."""
    return layers.BatchNorm(relu, batch_norm_decay=self.batch_norm_decay,
                            batch_norm_epsilon=self.batch_norm_epsilon,
                            name=layers.layer_name(scope))(net)

  def subsample(self, net, factor: int, scope: str):
    """Every ``factor``-th row and column of ``net`` (a 1x1 max-pool)."""
    if factor == 1:
      return net
    return keras.layers.MaxPooling2D(1, strides=factor,
                                     name=layers.layer_name(scope))(net)

  def add(self, scope: str, shortcut, residual, relu: bool = False):
    """``shortcut + residual`` (then a ReLU), the unit ``scope``'s output."""
    if relu:
      net = keras.layers.Add(name=layers.layer_name(scope + '/add'))(
          [shortcut, residual])
      net = keras.layers.ReLU(name=layers.layer_name(scope))(net)
    else:
      net = keras.layers.Add(name=layers.layer_name(scope))(
          [shortcut, residual])
    self.end_points[scope] = net
    return net


def _keeps_depth(net, depth):
  """Whether a unit with ``depth`` output channels keeps ``net``'s count."""
  return net.shape[-1] == depth


def _preactivate(builder, net, scope, depth, stride):
  """The shared BN-ReLU of a pre-activation unit, and the unit's shortcut."""
  preact = builder.batch_norm(net, scope + '/preact')
  if _keeps_depth(net, depth):
    shortcut = builder.subsample(net, stride, scope + '/shortcut')
  else:
    shortcut = builder.conv(preact, scope + '/shortcut', depth, 1, stride,
                            normalized=False, relu=False)
  return preact, shortcut


def bottleneck(builder: Builder, net, scope: str, depth: int,
               depth_bottleneck: int, stride: int, rate: int = 1):
  """Pre-activation bottleneck unit (``bottleneck_v2``); the unit's output."""
  scope += '/bottleneck_v2'
  preact, shortcut = _preactivate(builder, net, scope, depth, stride)
  residual = builder.conv(preact, scope + '/conv1', depth_bottleneck, 1)
  residual = builder.conv(residual, scope + '/conv2', depth_bottleneck, 3,
                          stride, rate)
  residual = builder.conv(residual, scope + '/conv3', depth, 1,
                          normalized=False, relu=False)
  return builder.add(scope, shortcut, residual)


def basic(builder: Builder, net, scope: str, depth: int, stride: int,
          rate: int = 1):
  """Pre-activation basic unit (``basic_v2``); the unit's output."""
  scope += '/basic_v2'
  preact, shortcut = _preactivate(builder, net, scope, depth, stride)
  residual = builder.conv(preact, scope + '/conv1', depth, 3, 1, rate)
  residual = builder.conv(residual, scope + '/conv2', depth, 3, stride, rate,
                          normalized=False, relu=False)
  return builder.add(scope, shortcut, residual)


def bottleneck_v1(builder: Builder, net, scope: str, depth: int,
                  depth_bottleneck: int, stride: int, rate: int = 1):
  """Post-activation bottleneck unit (``bottleneck_v1``); the unit's output."""
  scope += '/bottleneck_v1'
  if _keeps_depth(net, depth):
    shortcut = builder.subsample(net, stride, scope + '/shortcut')
  else:
    shortcut = builder.conv(net, scope + '/shortcut', depth, 1, stride,
                            relu=False)
  residual = builder.conv(net, scope + '/conv1', depth_bottleneck, 1)
  residual = builder.conv(residual, scope + '/conv2', depth_bottleneck, 3,
                          stride, rate)
  residual = builder.conv(residual, scope + '/conv3', depth, 1, relu=False)
  return builder.add(scope, shortcut, residual, relu=True)


# The unit function of each unit kind of ``resnet_v2.nets.layouts``.
UNIT_FUNCTIONS = {'bottleneck': bottleneck, 'basic': basic,
                  'bottleneck_v1': bottleneck_v1}
