"""The pre-activation basic unit, checked against a hand-wired oracle.

No reference implementation of a TF-Slim-style pre-activation basic unit
exists, so the oracle is the unit's definition written out with plain
``tf.nn`` ops on the unit's own variable values: BN-ReLU shared by both
paths, 3x3 conv with BN-ReLU, 3x3 conv with the stride and a bias, and a
shortcut that subsamples or projects the pre-activation.
"""

import numpy as np
import pytest
import tensorflow as tf
import tf_slim as slim

import resnet_v2
from conftest import random_images
from conftest import max_relative_difference
from conftest import randomize_variables

EPSILON = 1e-5  # resnet_arg_scope's batch_norm_epsilon


def build_unit(inputs, depth, stride, rate=1):
  """One basic unit under the package arg_scope, in inference mode."""
  with slim.arg_scope(resnet_v2.resnet_arg_scope()), \
       slim.arg_scope([slim.batch_norm], is_training=False):
    return resnet_v2.basic(inputs, depth, stride, rate=rate, scope='unit')


def batch_norm(x, values, prefix):
  """Inference-mode batch norm written out from the variable values."""
  scale = values[prefix + '/gamma'] / np.sqrt(
      values[prefix + '/moving_variance'] + EPSILON)
  shift = values[prefix + '/beta']
  return (x - values[prefix + '/moving_mean']) * scale + shift


def conv(x, weights, stride, padding, rate=1):
  """A plain 2-D convolution."""
  return tf.nn.conv2d(x, weights, strides=stride, padding=padding,
                      dilations=rate)


def oracle(images, values, stride, projects, rate=1):
  """The basic unit's definition, on numpy values."""
  preact = tf.nn.relu(batch_norm(images, values, 'unit/preact'))
  if projects:
    shortcut = conv(preact, values['unit/shortcut/weights'], stride, 'SAME')
    shortcut += values['unit/shortcut/biases']
  else:
    shortcut = images[:, ::stride, ::stride, :]
  residual = conv(preact, values['unit/conv1/weights'], 1, 'SAME', rate)
  residual = tf.nn.relu(batch_norm(residual, values, 'unit/conv1/BatchNorm'))
  if stride > 1:
    residual = tf.pad(residual, [[0, 0], [1, 1], [1, 1], [0, 0]])
  residual = conv(residual, values['unit/conv2/weights'], stride,
                  'VALID' if stride > 1 else 'SAME', rate)
  return shortcut + residual + values['unit/conv2/biases']


def run_unit(images, depth, stride, rate=1):
  """The unit's output and its variables' values, with random BN stats."""
  with tf.Graph().as_default():
    output = build_unit(tf.constant(images), depth, stride, rate)
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      randomize_variables(session, seed=depth + stride)
      values = session.run({v.op.name: v
                            for v in tf.compat.v1.global_variables()})
      return session.run(output), values


def test_basic_unit_variables():
  with tf.Graph().as_default():
    output = build_unit(tf.zeros([2, 9, 9, 4]), depth=8, stride=2)
    variables = [(v.op.name, v.shape.as_list())
                 for v in tf.compat.v1.global_variables()]
  statistics = ['gamma', 'beta', 'moving_mean', 'moving_variance']
  assert variables == (
      [('unit/preact/' + name, [4]) for name in statistics] +
      [('unit/shortcut/weights', [1, 1, 4, 8]), ('unit/shortcut/biases', [8]),
       ('unit/conv1/weights', [3, 3, 4, 8])] +
      [('unit/conv1/BatchNorm/' + name, [8]) for name in statistics] +
      [('unit/conv2/weights', [3, 3, 8, 8]), ('unit/conv2/biases', [8])])
  assert output.shape.as_list() == [2, 5, 5, 8]
  assert output.op.name == 'unit/add'


@pytest.mark.parametrize('depth_in, depth, stride', [
    (4, 8, 2),   # projection shortcut, strided, odd input
    (8, 8, 2),   # identity shortcut, subsampled
    (8, 8, 1),   # identity shortcut
    (4, 6, 1),   # projection shortcut, unstrided
])
def test_basic_unit_matches_its_definition(depth_in, depth, stride):
  images = random_images(2, 9, 9, channels=depth_in, seed=depth_in)
  actual, values = run_unit(images, depth, stride)
  expected = oracle(images, values, stride, projects=depth != depth_in)
  assert actual.shape == tuple(expected.shape)
  assert max_relative_difference(actual, expected.numpy()) <= 1e-5


def test_basic_unit_with_rate_dilates_both_convs():
  images = random_images(1, 11, 11, channels=8, seed=5)
  actual, values = run_unit(images, 8, 1, rate=2)
  expected = oracle(images, values, 1, projects=False, rate=2)
  assert max_relative_difference(actual, expected.numpy()) <= 1e-5
