"""Bad input gets one clear error that names the argument and the fix."""

import pytest
import tensorflow as tf
import tf_slim as slim

import resnet_v2


def build(images=None, **kwargs):
  """Build resnet_v2_50 (with 10 classes unless overridden) on ``images``."""
  if images is None:
    images = tf.zeros([1, 64, 64, 3])
  kwargs.setdefault('num_classes', 10)
  with tf.compat.v1.variable_scope('', reuse=tf.compat.v1.AUTO_REUSE):
    return resnet_v2.resnet_v2_50(images, **kwargs)


@pytest.mark.parametrize('shape', [[64, 64, 3], [1, 2, 64, 64, 3]])
def test_inputs_must_be_rank_4(graph, shape):
  with pytest.raises(ValueError, match=r'inputs must be a rank-4 \[batch'):
    build(tf.zeros(shape))


def test_inputs_need_known_channels(graph):
  images = tf.compat.v1.placeholder(tf.float32, [None, 64, 64, None])
  with pytest.raises(ValueError, match='known channel count.*set_shape'):
    build(images)


@pytest.mark.parametrize('output_stride', [6, 10, 2])
def test_output_stride_must_be_a_multiple_of_4(graph, output_stride):
  with pytest.raises(ValueError, match='output_stride=%d must be a multiple '
                     'of 4.*8, 16 or 32' % output_stride):
    build(output_stride=output_stride)


@pytest.mark.parametrize('output_stride', [12, 64, 128])
def test_output_stride_must_be_reachable(graph, output_stride):
  with pytest.raises(ValueError, match='output_stride=%d is not reachable.*'
                     '4, 8, 16, 32' % output_stride):
    build(output_stride=output_stride)


def test_output_stride_without_root_counts_from_the_input(graph):
  with pytest.raises(ValueError,
                     match='output_stride=16 is not reachable.*1, 2, 4, 8'):
    resnet_v2.resnet_v2(tf.zeros([1, 32, 32, 64]), resnet_v2.blocks_for_depth(50),
                        include_root_block=False, output_stride=16)


@pytest.mark.parametrize('num_classes', [-1, 2.5, '10', True])
def test_num_classes_must_be_a_positive_int_or_none(graph, num_classes):
  with pytest.raises(ValueError, match='num_classes must be a positive int.*'
                     'None/0'):
    build(num_classes=num_classes)


@pytest.mark.parametrize('num_classes', [None, 0])
def test_num_classes_none_or_zero_returns_features(graph, num_classes):
  net, end_points = build(num_classes=num_classes)
  assert net.shape.as_list() == [1, 1, 1, 2048]
  assert 'predictions' not in end_points


def test_spatial_squeeze_needs_a_1x1_output(graph):
  with pytest.raises(ValueError, match='spatial_squeeze=True needs a 1x1 '
                     'output.*2x2.*global_pool=True.*spatial_squeeze=False'):
    build(global_pool=False)


def test_reuse_needs_a_scope(graph):
  with pytest.raises(ValueError, match='reuse=True needs the scope'):
    resnet_v2.resnet_v2(tf.zeros([1, 64, 64, 3]),
                        resnet_v2.blocks_for_depth(50), reuse=True)


def test_eager_mode_is_refused_with_the_fix():
  with pytest.raises(RuntimeError, match=r'tf.Graph\(\).as_default\(\)'):
    resnet_v2.resnet_v2_50(tf.zeros([1, 64, 64, 3]), 10)


@pytest.mark.parametrize('dtype', [tf.uint8, tf.int32])
def test_integer_images_are_refused_with_the_cast_that_works(graph, dtype):
  images = tf.zeros([1, 64, 64, 3], dtype)
  with slim.arg_scope(resnet_v2.resnet_arg_scope()):
    with pytest.raises(ValueError, match='inputs have dtype %s.*'
                       r'tf.cast\(images, tf.float32\) / 127.5 - 1.0'
                       % dtype.name):
      resnet_v2.resnet_v2_18(images, 10)
    # The advice, followed, builds the net.
    logits, _ = resnet_v2.resnet_v2_18(
        tf.cast(images, tf.float32) / 127.5 - 1.0, 10)
  assert logits.shape.as_list() == [1, 10]


def test_an_input_below_the_output_stride_names_the_minimum(graph):
  images = tf.zeros([1, 16, 24, 3])
  with slim.arg_scope(resnet_v2.resnet_arg_scope()):
    with pytest.raises(ValueError, match=r'inputs are 16x24 pixels, smaller '
                       r"than the net's output stride 32: use images of at "
                       r'least 32x32, e.g. tf.image.resize\(images, \[32, '
                       r'32\]\)'):
      resnet_v2.resnet_v2_18(images, 10)
    # The advice, followed, builds the net.
    logits, _ = resnet_v2.resnet_v2_18(tf.image.resize(images, [32, 32]), 10)
  assert logits.shape.as_list() == [1, 10]
