"""Dense prediction: atrous output strides and inputs of unknown size."""

import numpy as np
import pytest
import tensorflow as tf
import tf_slim as slim

import resnet_v2
from conftest import random_images

NOMINAL_STRIDE = 32


@pytest.fixture(scope='module')
def dense_outputs():
  """resnet_v2_50 features at output strides 8, 16 and 32, shared weights.

  The graph takes images of any batch, height and width.
  """
  graph = tf.Graph()
  with graph.as_default():
    images = tf.compat.v1.placeholder(tf.float32, [None, None, None, 3])
    outputs = {}
    with slim.arg_scope(resnet_v2.resnet_arg_scope()):
      for output_stride in (None, 8, 16):
        outputs[output_stride or NOMINAL_STRIDE], _ = resnet_v2.resnet_v2_50(
            images, None, is_training=False, global_pool=False,
            output_stride=output_stride, reuse=output_stride is not None)
    session = tf.compat.v1.Session(graph=graph)
    session.run(tf.compat.v1.global_variables_initializer())
  yield lambda values: session.run(outputs, {images: values})
  session.close()


@pytest.mark.parametrize('size', [64, 65, 81])
@pytest.mark.parametrize('output_stride', [8, 16])
def test_atrous_features_equal_subsampled_nominal_features(
    dense_outputs, size, output_stride):
  features = dense_outputs(random_images(2, size, size, seed=size))
  nominal = features[NOMINAL_STRIDE]
  factor = NOMINAL_STRIDE // output_stride
  dense = features[output_stride]
  assert dense.shape[1] == -(-size // output_stride)
  subsampled = dense[:, ::factor, ::factor, :]
  assert subsampled.shape == nominal.shape
  difference = np.max(np.abs(subsampled - nominal)) / np.max(np.abs(nominal))
  assert difference <= 1e-4


@pytest.mark.parametrize('batch, height, width', [(1, 40, 72), (3, 97, 33)])
def test_unknown_batch_height_and_width(dense_outputs, batch, height, width):
  features = dense_outputs(random_images(batch, height, width))
  for stride, value in features.items():
    assert value.shape == (batch, -(-height // stride), -(-width // stride),
                           2048)


def test_classifier_on_unknown_sizes_gives_one_row_per_image(graph):
  images = tf.compat.v1.placeholder(tf.float32, [None, None, None, 3])
  with slim.arg_scope(resnet_v2.resnet_arg_scope()):
    logits, end_points = resnet_v2.resnet_v2_50(images, 7, is_training=False)
  assert logits.shape.as_list() == [None, 7]
  with tf.compat.v1.Session() as session:
    session.run(tf.compat.v1.global_variables_initializer())
    values, probabilities = session.run(
        [logits, end_points['predictions']], {images: random_images(3, 50, 61)})
  assert values.shape == (3, 7)
  np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_dense_logits_keep_their_spatial_map(graph):
  with slim.arg_scope(resnet_v2.resnet_arg_scope()):
    logits, end_points = resnet_v2.resnet_v2_50(
        tf.zeros([2, 65, 65, 3]), 21, is_training=False, global_pool=False,
        output_stride=16, spatial_squeeze=False)
  assert logits.shape.as_list() == [2, 5, 5, 21]
  assert 'global_pool' not in end_points
  assert end_points['resnet_v2_50/logits'] is logits
