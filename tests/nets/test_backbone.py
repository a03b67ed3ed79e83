"""``resnet_v2.backbone``: C2..C5 at strides 4, 8, 16, 32, capped by atrous.

Oracles: the shapes the strides promise (ceil(size / stride)), the
end_points each level must be, and, for atrous mode, the nominal features
themselves: a dense level subsampled must equal the nominal level.
"""

import re

import numpy as np
import pytest
import tensorflow as tf
import tf_slim as slim

import resnet_v2
from conftest import random_images
from conftest import max_relative_difference
from conftest import randomize_variables


def level_shapes(features):
  """Static ``[height, width, channels]`` of every level."""
  return {level: value.shape.as_list()[1:] for level, value in features.items()}


@pytest.fixture(scope='module')
def resnet_v2_50_features():
  with tf.Graph().as_default():
    yield resnet_v2.backbone(tf.zeros([1, 224, 224, 3]), 'resnet_v2_50')


def test_levels_are_at_strides_4_8_16_32(resnet_v2_50_features):
  features, _ = resnet_v2_50_features
  assert list(features) == ['C2', 'C3', 'C4', 'C5']
  assert level_shapes(features) == {
      'C2': [56, 56, 256], 'C3': [28, 28, 512],
      'C4': [14, 14, 1024], 'C5': [7, 7, 2048]}


def test_levels_are_the_documented_end_points(resnet_v2_50_features):
  features, end_points = resnet_v2_50_features
  unit = 'resnet_v2_50/%s/bottleneck_v2'
  assert features['C2'] is end_points[unit % 'block1/unit_2']
  assert features['C3'] is end_points[unit % 'block2/unit_3']
  assert features['C4'] is end_points[unit % 'block3/unit_5']
  assert features['C5'].op.name == 'resnet_v2_50/postnorm/Relu'
  # The block outputs are one stride further than their names suggest.
  assert end_points['resnet_v2_50/block1'].shape.as_list() == [1, 28, 28, 256]


def test_v1_levels_end_with_block4():
  with tf.Graph().as_default():
    features, end_points = resnet_v2.backbone(tf.zeros([1, 64, 64, 3]),
                                              'resnet_v1_50')
  assert features['C2'] is end_points[
      'resnet_v1_50/block1/unit_2/bottleneck_v1']
  assert features['C5'] is end_points['resnet_v1_50/block4']


@pytest.mark.parametrize('name, units', [
    ('resnet_v2_101', ['block1/unit_2', 'block2/unit_3', 'block3/unit_22']),
    ('resnet_v2_200', ['block1/unit_2', 'block2/unit_23', 'block3/unit_35']),
    ('resnet_v2_18', ['block1/unit_1', 'block2/unit_1', 'block3/unit_1']),
])
def test_feature_units_are_the_last_units_at_each_stride(name, units):
  assert resnet_v2.feature_units(name) == dict(zip(['C2', 'C3', 'C4'], units))


@pytest.mark.parametrize('output_stride, expected', [
    (16, {'C2': 57, 'C3': 29, 'C4': 15, 'C5': 15}),
    (8, {'C2': 57, 'C3': 29, 'C4': 29, 'C5': 29}),
])
def test_output_stride_caps_every_level(output_stride, expected):
  with tf.Graph().as_default():
    features, _ = resnet_v2.backbone(tf.zeros([1, 225, 225, 3]),
                                     'resnet_v2_50',
                                     output_stride=output_stride)
  assert {level: shape[0] for level, shape in
          level_shapes(features).items()} == expected


@pytest.mark.parametrize('size', [65, 64])
def test_dense_levels_equal_the_nominal_levels_subsampled(size):
  # resnet_v2_18 strides its basic units on the second 3x3 conv so that
  # exactly this holds.
  images = random_images(1, size, size, seed=size)
  with tf.Graph().as_default():
    inputs = tf.constant(images)
    nominal, _ = resnet_v2.backbone(inputs, 'resnet_v2_18')
    dense, _ = resnet_v2.backbone(inputs, 'resnet_v2_18', output_stride=8,
                                  reuse=True)
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      randomize_variables(session, seed=size)
      nominal, dense = session.run([nominal, dense])
  assert max_relative_difference(dense['C2'], nominal['C2']) == 0
  assert max_relative_difference(dense['C3'], nominal['C3']) <= 1e-5
  assert max_relative_difference(dense['C4'][:, ::2, ::2],
                                 nominal['C4']) <= 1e-4
  assert max_relative_difference(dense['C5'][:, ::4, ::4],
                                 nominal['C5']) <= 1e-4


@pytest.mark.parametrize('name', ['resnet_v3_50', 50, ['resnet_v2_50']])
def test_unknown_name_lists_the_registered_ones(name):
  with tf.Graph().as_default():
    with pytest.raises(ValueError, match=r"name %s.*resnet_v2_18, "
                       % re.escape(repr(name))):
      resnet_v2.backbone(tf.zeros([1, 64, 64, 3]), name)


@pytest.mark.parametrize('output_stride', [12, 64, 2])
def test_unreachable_output_stride_lists_the_reachable_ones(output_stride):
  with tf.Graph().as_default():
    with pytest.raises(ValueError, match='output_stride=%d.*8, 16'
                       % output_stride):
      resnet_v2.backbone(tf.zeros([1, 64, 64, 3]), 'resnet_v2_50',
                         output_stride=output_stride)


def test_one_unit_per_block_has_no_c2():
  with pytest.raises(ValueError, match='stride 4 for C2.*two units'):
    resnet_v2.feature_units(resnet_v2.blocks_for_depth(14))


def test_segmentation_head_on_output_stride_16():
  with tf.Graph().as_default():
    images = tf.compat.v1.placeholder(tf.float32, [None, 65, 65, 3])
    features, _ = resnet_v2.backbone(images, 'resnet_v2_50', output_stride=16)
    with slim.arg_scope(resnet_v2.resnet_arg_scope()):
      net = slim.conv2d(features['C5'], 64, [3, 3], rate=2, scope='context')
      logits = slim.conv2d(net, 21, [1, 1], activation_fn=None,
                           normalizer_fn=None, scope='seg_logits')
    masks = tf.compat.v1.image.resize_bilinear(logits, tf.shape(images)[1:3],
                                               align_corners=True)
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      result = session.run(masks, {images: np.zeros([2, 65, 65, 3])})
  assert features['C5'].shape.as_list() == [None, 5, 5, 2048]
  assert result.shape == (2, 65, 65, 21)


def test_feature_pyramid_for_a_detector():
  with tf.Graph().as_default():
    images = tf.compat.v1.placeholder(tf.float32, [None, 64, 64, 3])
    features, _ = resnet_v2.backbone(images, 'resnet_v2_50')
    pyramid, top_down = {}, None
    with slim.arg_scope([slim.conv2d], activation_fn=None,
                        normalizer_fn=None):
      for level in ('C5', 'C4', 'C3', 'C2'):
        lateral = slim.conv2d(features[level], 32, [1, 1],
                              scope='lateral_' + level)
        if top_down is not None:
          lateral += tf.compat.v1.image.resize_nearest_neighbor(
              top_down, tf.shape(lateral)[1:3])
        top_down = lateral
        pyramid['P' + level[1]] = slim.conv2d(lateral, 32, [3, 3],
                                              scope='output_' + level)
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      shapes = session.run({k: tf.shape(v) for k, v in pyramid.items()},
                           {images: np.zeros([1, 64, 64, 3])})
  assert {k: list(v) for k, v in shapes.items()} == {
      'P2': [1, 16, 16, 32], 'P3': [1, 8, 8, 32],
      'P4': [1, 4, 4, 32], 'P5': [1, 2, 2, 32]}
