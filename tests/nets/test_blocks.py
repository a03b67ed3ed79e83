"""The Block spec, padding, subsampling and the stacking loop."""

import numpy as np
import pytest
import tensorflow as tf
import tf_slim as slim
from tf_slim.nets import resnet_utils as reference_utils

import resnet_v2
from conftest import random_images
from resnet_v2.nets import blocks


def identity_unit(inputs, stride, rate=1, scope=None):
  """A unit with no variables: subsample by ``stride``, ignore ``rate``."""
  del rate
  with tf.compat.v1.variable_scope(scope, 'identity_unit', [inputs]):
    return resnet_v2.subsample(inputs, stride)


def run(tensors, feed_dict=None):
  """Initialize the default graph's variables and evaluate ``tensors``."""
  with tf.compat.v1.Session() as session:
    session.run(tf.compat.v1.global_variables_initializer())
    return session.run(tensors, feed_dict)


def test_block_counts_units_and_stride():
  block = resnet_v2.resnet_v2_block('block1', base_depth=64, num_units=3,
                                    stride=2)
  assert block.scope == 'block1'
  assert block.unit_fn is resnet_v2.bottleneck
  assert [unit['stride'] for unit in block.args] == [1, 1, 2]
  assert block.args[0] == {'depth': 256, 'depth_bottleneck': 64, 'stride': 1}
  assert block.stride == 2


def test_block_without_units_is_rejected():
  with pytest.raises(ValueError, match='no units'):
    resnet_v2.Block('block1', resnet_v2.bottleneck, [])


def test_block_needs_a_callable_unit_fn():
  with pytest.raises(TypeError, match='unit_fn must be callable'):
    resnet_v2.Block('block1', 'bottleneck', [{'depth': 4}])


@pytest.mark.parametrize('kernel_size, rate, expected', [
    (1, 1, (0, 0)), (3, 1, (1, 1)), (7, 1, (3, 3)), (4, 1, (1, 2)),
    (3, 2, (2, 2)), (3, 4, (4, 4))])
def test_fixed_padding_centres_the_dilated_kernel(kernel_size, rate, expected):
  assert blocks.fixed_padding(kernel_size, rate) == expected


def test_subsample_by_one_returns_the_input(graph):
  inputs = tf.zeros([1, 4, 4, 1])
  assert resnet_v2.subsample(inputs, 1) is inputs


def test_subsample_keeps_every_other_pixel(graph):
  values = np.arange(25, dtype=np.float32).reshape(1, 5, 5, 1)
  result = run(resnet_v2.subsample(tf.constant(values), 2))
  np.testing.assert_array_equal(result, values[:, ::2, ::2, :])


@pytest.mark.parametrize('size', [8, 9])
@pytest.mark.parametrize('stride, rate', [(1, 1), (2, 1), (1, 2), (1, 3)])
def test_conv2d_same_matches_the_reference(graph, size, stride, rate):
  images = tf.constant(random_images(1, size, size, channels=2, seed=size))
  with slim.arg_scope([slim.conv2d], activation_fn=None,
                      weights_initializer=tf.compat.v1.ones_initializer()):
    ours = resnet_v2.conv2d_same(images, 3, 3, stride, rate=rate, scope='ours')
    expected = reference_utils.conv2d_same(images, 3, 3, stride, rate=rate,
                                           scope='reference')
  ours, expected = run([ours, expected])
  assert ours.shape == (1, -(-size // stride), -(-size // stride), 3)
  np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-5)


def test_conv2d_same_output_grid_starts_at_the_first_pixel(graph):
  values = np.zeros((1, 7, 7, 1), np.float32)
  values[0, 0, 0, 0] = 1.0
  with slim.arg_scope([slim.conv2d], activation_fn=None, biases_initializer=None,
                      weights_initializer=tf.compat.v1.ones_initializer()):
    output = resnet_v2.conv2d_same(tf.constant(values), 1, 3, stride=2)
  result = run(output)[0, :, :, 0]
  expected = np.zeros((4, 4), np.float32)
  expected[0, 0] = 1.0
  np.testing.assert_array_equal(result, expected)


def test_reachable_output_strides_are_running_products():
  stack = resnet_v2.blocks_for_depth(50)
  assert blocks.reachable_output_strides(stack) == [1, 2, 4, 8]


def test_stack_collects_every_block_output(graph):
  stack = [resnet_v2.Block('b1', identity_unit, [{'stride': 2}]),
           resnet_v2.Block('b2', identity_unit, [{'stride': 1}, {'stride': 2}])]
  net = resnet_v2.stack_blocks_dense(tf.zeros([1, 8, 8, 1]), stack,
                                     outputs_collections='stack_outputs')
  collected = tf.compat.v1.get_collection('stack_outputs')
  assert [t.aliases[-1] for t in collected] == ['b1', 'b2']
  assert net.shape.as_list() == [1, 2, 2, 1]


def test_stack_holds_the_requested_output_stride(graph):
  seen = []

  def recording_unit(inputs, stride, rate=1):
    seen.append((stride, rate))
    return resnet_v2.subsample(inputs, stride)

  stack = [resnet_v2.Block('b%d' % i, recording_unit, [{'stride': 2}])
           for i in range(1, 4)]
  net = resnet_v2.stack_blocks_dense(tf.zeros([1, 16, 16, 1]), stack,
                                     output_stride=2)
  assert net.shape.as_list() == [1, 8, 8, 1]
  assert seen == [(2, 1), (1, 1), (1, 2)]


def test_stack_rejects_an_unreachable_output_stride(graph):
  stack = [resnet_v2.Block('b1', identity_unit, [{'stride': 2}])]
  with pytest.raises(ValueError, match='output_stride=4 is not reachable.*1, 2'):
    resnet_v2.stack_blocks_dense(tf.zeros([1, 8, 8, 1]), stack,
                                 output_stride=4)


def test_stack_blocks_dense_accepts_arg_scope(graph):
  stack = [resnet_v2.Block('b1', identity_unit, [{'stride': 1}])]
  with slim.arg_scope([resnet_v2.stack_blocks_dense],
                      outputs_collections='scoped'):
    resnet_v2.stack_blocks_dense(tf.zeros([1, 4, 4, 1]), stack)
  assert len(tf.compat.v1.get_collection('scoped')) == 1
