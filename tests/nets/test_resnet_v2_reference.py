"""Compatibility with TF-Slim's reference nets, ``tf_slim.nets.resnet_v2``.

The reference is the oracle: same variables, same end_points, and a
checkpoint it writes restores into our graph and gives the same outputs.
That is what makes TF-Slim's released ImageNet checkpoints load unchanged.
"""

import functools

import numpy as np
import pytest
import tensorflow as tf
import tf_slim as slim
from tf_slim.nets import resnet_v2 as reference

import resnet_v2
from conftest import max_relative_difference
from conftest import random_images
from conftest import randomize_variables
from conftest import variable_signature

DEPTHS = (50, 101, 152, 200)

# All global variables (BN moving statistics included) at 1000 classes; the
# first three equal Keras' ResNet50V2, ResNet101V2 and ResNet152V2.
PARAMETER_COUNTS = {
    50: 25_613_800,
    101: 44_675_560,
    152: 60_380_648,
    200: 64_894_440,
}

def build(module, depth, num_classes, images):
  """Build ``module.resnet_v2_<depth>`` under its own arg_scope, inference mode."""
  with slim.arg_scope(module.resnet_arg_scope()):
    constructor = getattr(module, 'resnet_v2_%d' % depth)
    return constructor(images, num_classes, is_training=False)


BLOCK_NAMES = tuple('/block%d' % i for i in range(1, 5))


def outputs_to_check(net, end_points):
  """The net's output and the output of every block."""
  fetches = {name: tensor for name, tensor in end_points.items()
             if name.endswith(BLOCK_NAMES)}
  fetches['net'] = net
  return fetches


@functools.lru_cache(maxsize=None)
def reference_run(depth, num_classes, checkpoint_dir):
  """Build the reference net with random weights, save it, run it.

  Returns the variable signature, end_point shapes and output values. The
  reference's pooled features ('<scope>/pool5') are what it returns for
  num_classes=None, so one build also gives the oracle for that case.
  """
  images = random_images(2, 33, 33, seed=depth)
  with tf.Graph().as_default() as graph:
    inputs = tf.compat.v1.placeholder(tf.float32, images.shape)
    net, end_points = build(reference, depth, num_classes, inputs)
    fetches = outputs_to_check(net, end_points)
    fetches['pool5'] = graph.get_tensor_by_name(
        'resnet_v2_%d/pool5:0' % depth)
    checkpoint = '%s/reference_%d_%d.ckpt' % (checkpoint_dir, depth,
                                              num_classes)
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      randomize_variables(session, seed=depth)
      tf.compat.v1.train.Saver().save(session, checkpoint)
      values = session.run(fetches, {inputs: images})
    return {'variables': variable_signature(), 'checkpoint': checkpoint,
            'images': images, 'values': values,
            'end_points': {k: v.shape.as_list() for k, v in end_points.items()}}


@functools.lru_cache(maxsize=None)
def restored_run(depth, num_classes, checkpoint, images_key):
  """Build our net, restore ``checkpoint`` with a plain Saver, run it."""
  images = random_images(2, 33, 33, seed=images_key)
  with tf.Graph().as_default():
    inputs = tf.compat.v1.placeholder(tf.float32, images.shape)
    net, end_points = build(resnet_v2, depth, num_classes, inputs)
    with tf.compat.v1.Session() as session:
      tf.compat.v1.train.Saver().restore(session, checkpoint)
      values = session.run(outputs_to_check(net, end_points), {inputs: images})
    return {'variables': variable_signature(), 'values': values,
            'end_points': {k: v.shape.as_list() for k, v in end_points.items()}}


@pytest.fixture(scope='module')
def checkpoint_dir(tmp_path_factory):
  return str(tmp_path_factory.mktemp('reference_checkpoints'))


@pytest.mark.parametrize('num_classes', [1000, 1001])
@pytest.mark.parametrize('depth', DEPTHS)
def test_variables_match_the_reference(depth, num_classes, checkpoint_dir):
  expected = reference_run(depth, num_classes, checkpoint_dir)
  actual = restored_run(depth, num_classes, expected['checkpoint'], depth)
  assert actual['variables'] == expected['variables']


@pytest.mark.parametrize('depth', DEPTHS)
def test_parameter_count(depth, checkpoint_dir):
  expected = reference_run(depth, 1000, checkpoint_dir)
  variables = restored_run(depth, 1000, expected['checkpoint'], depth)[
      'variables']
  total = sum(int(np.prod(shape)) for _, shape in variables)
  assert total == PARAMETER_COUNTS[depth]


@pytest.mark.parametrize('depth', DEPTHS)
def test_end_points_match_the_reference(depth, checkpoint_dir):
  expected = reference_run(depth, 1000, checkpoint_dir)
  actual = restored_run(depth, 1000, expected['checkpoint'], depth)
  scope = 'resnet_v2_%d' % depth
  assert set(actual['end_points']) == set(expected['end_points']) | {
      'global_pool', scope + '/spatial_squeeze'}
  for name, shape in expected['end_points'].items():
    if name != 'predictions':  # ours is squeezed to [batch, classes]
      assert actual['end_points'][name] == shape, name
  assert actual['end_points']['global_pool'] == [2, 1, 1, 2048]
  assert actual['end_points'][scope + '/spatial_squeeze'] == [2, 1000]
  assert actual['end_points']['predictions'] == [2, 1000]


@pytest.mark.parametrize('num_classes', [1000, 1001])
@pytest.mark.parametrize('depth', DEPTHS)
def test_reference_checkpoint_gives_same_logits_and_blocks(depth, num_classes,
                                                           checkpoint_dir):
  expected = reference_run(depth, num_classes, checkpoint_dir)
  actual = restored_run(depth, num_classes, expected['checkpoint'], depth)
  names = [name for name in expected['values'] if name != 'pool5']
  assert len(names) == 5
  for name in names:
    value = expected['values'][name]
    if name == 'net':
      value = value.reshape(2, num_classes)  # the reference keeps 1x1
    assert actual['values'][name].shape == value.shape, name
    assert max_relative_difference(actual['values'][name], value) <= 1e-4, name


@pytest.mark.parametrize('depth', DEPTHS)
def test_reference_checkpoint_gives_same_features_without_logits(
    depth, checkpoint_dir):
  expected = reference_run(depth, 1001, checkpoint_dir)
  actual = restored_run(depth, None, expected['checkpoint'], depth)
  pooled = expected['values']['pool5']
  assert actual['values']['net'].shape == pooled.shape == (2, 1, 1, 2048)
  assert max_relative_difference(actual['values']['net'], pooled) <= 1e-4
