"""The v1 nets match TF-Slim's reference, ``tf_slim.nets.resnet_v1``.

Same variables and end_points, and a checkpoint the reference writes
restores with a plain Saver into our graph and gives the same outputs: the
contract that lets TF-Slim's released v1 checkpoints load unchanged.
"""

import functools
import math

import pytest
import tensorflow as tf
import tf_slim as slim
from tf_slim.nets import resnet_v1 as reference

import resnet_v2
from conftest import random_images
from conftest import max_relative_difference
from conftest import randomize_variables
from conftest import variable_signature

DEPTHS = (50, 101, 152, 200)
IMAGES = random_images(2, 64, 64, seed=1)

# (depth, num_classes) pairs checked against the reference: every depth at
# 1000 classes, and 1001 classes at depth 50 (the logits layer does not
# depend on the depth, and every extra deep graph costs seconds to build).
# The pooled features of each run are checked too: they are what the net
# returns for num_classes=None, which is also built for real at depth 50.
CASES = [(depth, 1000) for depth in DEPTHS] + [(50, 1001)]


def build(module, depth, num_classes, images):
  """Build ``module.resnet_v1_<depth>`` under its arg_scope, inference mode."""
  with slim.arg_scope(module.resnet_arg_scope()):
    constructor = getattr(module, 'resnet_v1_%d' % depth)
    return constructor(images, num_classes, is_training=False)


def outputs_to_check(net, end_points):
  """The net's output, the four block outputs and the pooled features."""
  fetches = {name: value for name, value in end_points.items()
             if name.endswith(tuple('/block%d' % i for i in range(1, 5)))}
  fetches['net'] = net
  if 'global_pool' in end_points:
    fetches['global_pool'] = end_points['global_pool']
  return fetches


def shapes(end_points):
  """The static shape of every end_point."""
  return {name: value.shape.as_list() for name, value in end_points.items()}


@functools.lru_cache(maxsize=None)
def reference_run(depth, num_classes, checkpoint_dir):
  """Run the reference with random weights and save it.

  The reference's pooled features ('<scope>/pool5') are the oracle of our
  'global_pool' end_point and of our net with num_classes=None.
  """
  with tf.Graph().as_default() as graph:
    inputs = tf.compat.v1.placeholder(tf.float32, IMAGES.shape)
    net, end_points = build(reference, depth, num_classes, inputs)
    fetches = outputs_to_check(net, end_points)
    fetches['global_pool'] = graph.get_tensor_by_name(
        'resnet_v1_%d/pool5:0' % depth)
    checkpoint = '%s/v1_%d_%d.ckpt' % (checkpoint_dir, depth, num_classes)
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      randomize_variables(session, seed=depth)
      tf.compat.v1.train.Saver().save(session, checkpoint)
      values = session.run(fetches, {inputs: IMAGES})
    return {'checkpoint': checkpoint, 'values': values,
            'variables': variable_signature(), 'end_points': shapes(end_points)}


@functools.lru_cache(maxsize=None)
def restored_run(depth, num_classes, checkpoint):
  """Build our net, restore ``checkpoint`` with a plain Saver, run it."""
  with tf.Graph().as_default():
    inputs = tf.compat.v1.placeholder(tf.float32, IMAGES.shape)
    net, end_points = build(resnet_v2, depth, num_classes, inputs)
    with tf.compat.v1.Session() as session:
      tf.compat.v1.train.Saver().restore(session, checkpoint)
      values = session.run(outputs_to_check(net, end_points),
                           {inputs: IMAGES})
    return {'values': values, 'variables': variable_signature(),
            'end_points': shapes(end_points)}


@pytest.fixture(scope='module')
def checkpoint_dir(tmp_path_factory):
  return str(tmp_path_factory.mktemp('reference_v1_checkpoints'))


def assert_same_outputs(actual, expected):
  """Every fetched output has the same shape and values within 1e-4."""
  assert set(actual) == set(expected)
  for name, value in expected.items():
    assert actual[name].shape == value.shape, name
    assert max_relative_difference(actual[name], value) <= 1e-4, name


@pytest.mark.parametrize('depth, num_classes', CASES)
def test_variables_match_the_reference(depth, num_classes, checkpoint_dir):
  expected = reference_run(depth, num_classes, checkpoint_dir)
  actual = restored_run(depth, num_classes, expected['checkpoint'])
  assert actual['variables'] == expected['variables']


@pytest.mark.parametrize('depth, num_classes', CASES)
def test_end_points_match_the_reference(depth, num_classes, checkpoint_dir):
  expected = reference_run(depth, num_classes, checkpoint_dir)
  actual = restored_run(depth, num_classes, expected['checkpoint'])
  scope = 'resnet_v1_%d' % depth
  # The newer TF-Slim API adds these, and squeezes the predictions.
  extra = {'global_pool': [2, 1, 1, 2048],
           scope + '/spatial_squeeze': [2, num_classes],
           'predictions': [2, num_classes]}
  assert actual['end_points'] == dict(expected['end_points'], **extra)


@pytest.mark.parametrize('depth, num_classes', CASES)
def test_reference_checkpoint_gives_same_logits_and_blocks(
    depth, num_classes, checkpoint_dir):
  expected = reference_run(depth, num_classes, checkpoint_dir)
  actual = restored_run(depth, num_classes, expected['checkpoint'])
  values = dict(expected['values'])
  values['net'] = values['net'].reshape(2, num_classes)  # reference keeps 1x1
  assert len(values) == 6
  assert_same_outputs(actual['values'], values)


def test_reference_checkpoint_without_logits_gives_same_features(
    checkpoint_dir):
  expected = reference_run(50, 1000, checkpoint_dir)
  actual = restored_run(50, None, expected['checkpoint'])
  values = dict(expected['values'])
  values['net'] = values['global_pool']
  assert actual['values']['net'].shape == (2, 1, 1, 2048)
  assert_same_outputs(actual['values'], values)


@pytest.mark.parametrize('depth', DEPTHS)
def test_describe_counts_the_reference_parameters(depth, checkpoint_dir):
  variables = reference_run(depth, 1000, checkpoint_dir)['variables']
  total = sum(math.prod(shape) for _, shape in variables)
  assert resnet_v2.describe('resnet_v1_%d' % depth).total_params == total
  if depth == 50:
    assert total == 25_610_152


def test_dense_features_equal_the_subsampled_nominal_features():
  images = random_images(1, 65, 65, seed=3)
  outputs = {}
  with tf.Graph().as_default():
    inputs = tf.constant(images)
    with slim.arg_scope(resnet_v2.resnet_arg_scope()):
      for output_stride in (None, 16):
        outputs[output_stride], _ = resnet_v2.resnet_v1_50(
            inputs, None, is_training=False, global_pool=False,
            output_stride=output_stride, reuse=output_stride is not None,
            scope='resnet_v1_50')
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      randomize_variables(session, seed=3)
      nominal, dense = session.run([outputs[None], outputs[16]])
  assert nominal.shape == (1, 3, 3, 2048)
  assert dense.shape == (1, 5, 5, 2048)
  assert max_relative_difference(dense[:, ::2, ::2], nominal) <= 1e-4
