"""``describe`` computes from the Block spec what the built graph holds.

Oracles: the variables of the built graph (parameter counts, exactly), the
static shapes of its block end_points, and TensorFlow's profiler, whose
FLOPs for the graph's Conv2D ops are twice the multiply-adds.
"""

import re

import pytest
import tensorflow as tf
from tensorflow.compat.v1.profiler import ProfileOptionBuilder

import resnet_v2


def conv_flops(graph):
  """FLOPs TensorFlow's profiler counts for the Conv2D ops of ``graph``."""
  options = (ProfileOptionBuilder(ProfileOptionBuilder.float_operation())
             .with_accounted_types(['Conv2D'])
             .with_empty_output()
             .build())
  return tf.compat.v1.profiler.profile(graph, options=options).total_float_ops


def built_facts(name, image_size, num_classes):
  """Parameter counts, conv FLOPs and block output shapes of the built net."""
  height, width = image_size
  with tf.Graph().as_default() as graph:
    network_fn = resnet_v2.get_network_fn(name, num_classes=num_classes)
    _, end_points = network_fn(tf.zeros([1, height, width, 3]))
    return {
        'total': sum(v.shape.num_elements()
                     for v in tf.compat.v1.global_variables()),
        'trainable': sum(v.shape.num_elements()
                         for v in tf.compat.v1.trainable_variables()),
        'conv_flops': conv_flops(graph),
        'blocks': {key.split('/')[1]: tuple(value.shape.as_list()[1:])
                   for key, value in end_points.items()
                   if re.fullmatch(name + r'/block\d+', key)},
    }


CASES = [
    ('resnet_v2_50', (224, 224), 1000),
    ('resnet_v2_50', (97, 130), None),
    ('resnet_v2_101', (65, 64), 1001),
    ('resnet_v2_18', (224, 224), 1000),
    ('resnet_v2_34', (65, 33), None),
    ('resnet_v2_50_w2', (64, 64), 1000),
    ('resnet_v1_50', (224, 224), 1000),
    ('resnet_v1_101', (47, 33), None),
]


@pytest.fixture(scope='module', params=CASES, ids=lambda case: '%s-%dx%d-%s' % (
    case[0], case[1][0], case[1][1], case[2]))
def case(request):
  name, image_size, num_classes = request.param
  description = resnet_v2.describe(name, image_size, num_classes)
  return description, built_facts(name, image_size, num_classes)


def test_total_params_equal_the_graph_variables(case):
  description, built = case
  assert description.total_params == built['total']


def test_trainable_params_equal_the_trainable_variables(case):
  description, built = case
  assert description.trainable_params == built['trainable']


def test_multiply_adds_are_half_the_profiler_conv_flops(case):
  description, built = case
  assert description.flops == 2 * description.multiply_adds
  assert abs(description.flops - built['conv_flops']) <= (
      0.01 * built['conv_flops'])
  assert description.flops == built['conv_flops']


def test_block_shapes_equal_the_end_point_shapes(case):
  description, built = case
  assert {block.scope: block.output_shape
          for block in description.blocks} == built['blocks']


def test_resnet_v2_50_at_224_by_hand():
  description = resnet_v2.describe('resnet_v2_50')
  assert description.name == 'resnet_v2_50'
  assert description.image_size == (224, 224)
  assert description.num_classes == 1000
  assert description.total_params == 25_613_800
  assert [(b.scope, b.output_shape, b.stride) for b in description.blocks] == [
      ('block1', (28, 28, 256), 8),
      ('block2', (14, 14, 512), 16),
      ('block3', (7, 7, 1024), 32),
      ('block4', (7, 7, 2048), 32),
  ]


def test_total_params_equal_keras_and_the_core_counts():
  # Keras' ResNet50V2/101V2/152V2 hold the first three; the core tests pin
  # all four against the built graphs.
  assert [resnet_v2.describe('resnet_v2_%d' % depth).total_params
          for depth in (50, 101, 152, 200)] == [
              25_613_800, 44_675_560, 60_380_648, 64_894_440]


def test_logits_layer_adds_weights_bias_and_one_mac_per_weight():
  with_logits = resnet_v2.describe('resnet_v2_50', 224, 1000)
  without = resnet_v2.describe('resnet_v2_50', 224, None)
  assert with_logits.total_params - without.total_params == 2048 * 1000 + 1000
  assert with_logits.multiply_adds - without.multiply_adds == 2048 * 1000
  assert resnet_v2.describe('resnet_v2_50', 224, 0) == without._replace(
      num_classes=0)


def test_describe_accepts_blocks_and_matches_the_name():
  by_name = resnet_v2.describe('resnet_v2_101', 128)
  by_blocks = resnet_v2.describe(resnet_v2.blocks_for_depth(101), 128)
  assert by_blocks.name is None
  assert by_blocks == by_name._replace(name=None)


def test_unit_output_strides_put_the_stride_in_the_last_unit():
  strides = dict(resnet_v2.unit_output_strides('resnet_v2_50'))
  assert strides['block1/unit_2'] == 4
  assert strides['block1/unit_3'] == 8
  assert strides['block3/unit_5'] == 16
  assert strides['block3/unit_6'] == 32
  assert strides['block4/unit_3'] == 32
  assert len(strides) == 3 + 4 + 6 + 3


def test_unknown_name_lists_the_registered_models():
  with pytest.raises(ValueError, match='resnet_v2_50') as error:
    resnet_v2.describe('resnet_v2_51')
  assert "'resnet_v2_51'" in str(error.value)


def test_not_a_name_nor_blocks_is_a_type_error():
  with pytest.raises(TypeError, match='name_or_blocks'):
    resnet_v2.describe(50)


@pytest.mark.parametrize('image_size', [0, -3, 22.5, (224,), (224, 0), True])
def test_bad_image_size(image_size):
  with pytest.raises(ValueError, match='image_size'):
    resnet_v2.describe('resnet_v2_50', image_size)


@pytest.mark.parametrize('num_classes', [-1, 2.0, True])
def test_bad_num_classes(num_classes):
  with pytest.raises(ValueError, match='num_classes'):
    resnet_v2.describe('resnet_v2_50', 224, num_classes)


def test_unknown_unit_function_names_the_known_ones():
  def my_unit(inputs, depth, stride, rate=1):
    return inputs
  blocks = [resnet_v2.Block('block1', my_unit, [{'depth': 8, 'stride': 1}])]
  with pytest.raises(ValueError, match='my_unit.*bottleneck'):
    resnet_v2.describe(blocks)
