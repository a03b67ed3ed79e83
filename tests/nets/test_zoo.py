"""Models by name and by depth: the registry and ``blocks_for_depth``.

Oracles: the published unit counts (He et al. 2015, Table 1; He et al.
2016), the depth rule (depth = convs per unit * units + 2) worked out by
hand, and the variables of the built graphs.
"""

import collections
import math

import pytest
import tensorflow as tf
import tf_slim as slim

import resnet_v2
from resnet_v2.nets import model_table

REGISTERED = [
    'resnet_v2_18', 'resnet_v2_34', 'resnet_v2_50', 'resnet_v2_101',
    'resnet_v2_152', 'resnet_v2_200', 'resnet_v2_50_w2',
    'resnet_v1_50', 'resnet_v1_101', 'resnet_v1_152', 'resnet_v1_200',
]


def layout(blocks):
  """(scope, unit function name, unit args) of every Block."""
  return [(block.scope, block.unit_fn.__name__, block.args)
          for block in blocks]


def test_list_models():
  assert resnet_v2.list_models() == REGISTERED


@pytest.mark.parametrize('depth, unit, counts', [
    (18, 'basic', (2, 2, 2, 2)),
    (34, 'basic', (3, 4, 6, 3)),
    (50, 'bottleneck', (3, 4, 6, 3)),
    (101, 'bottleneck', (3, 4, 23, 3)),
    (152, 'bottleneck', (3, 8, 36, 3)),
    (200, 'bottleneck', (3, 24, 36, 3)),
    (50, 'bottleneck_v1', (3, 4, 6, 3)),
    # The rule for other depths: n units in every block.
    (14, 'bottleneck', (1, 1, 1, 1)),
    (26, 'bottleneck', (2, 2, 2, 2)),
    (38, 'bottleneck', (3, 3, 3, 3)),
    (10, 'basic', (1, 1, 1, 1)),
    (26, 'basic', (3, 3, 3, 3)),
])
def test_units_per_block(depth, unit, counts):
  assert resnet_v2.units_per_block(depth, unit) == counts
  blocks = resnet_v2.blocks_for_depth(depth, unit)
  assert tuple(len(block.args) for block in blocks) == counts
  convs_per_unit = 2 if unit == 'basic' else 3
  assert convs_per_unit * sum(counts) + 2 == depth


def test_bottleneck_blocks_stride_in_their_last_unit():
  blocks = resnet_v2.blocks_for_depth(50)
  assert [block.stride for block in blocks] == [2, 2, 2, 1]
  assert layout(blocks)[0] == ('block1', 'bottleneck', [
      {'depth': 256, 'depth_bottleneck': 64, 'stride': 1},
      {'depth': 256, 'depth_bottleneck': 64, 'stride': 1},
      {'depth': 256, 'depth_bottleneck': 64, 'stride': 2},
  ])
  assert layout(blocks)[3][2][-1] == {
      'depth': 2048, 'depth_bottleneck': 512, 'stride': 1}


def test_blocks_equal_the_block_helpers():
  assert layout(resnet_v2.blocks_for_depth(101)) == layout([
      resnet_v2.resnet_v2_block('block1', 64, 3, 2),
      resnet_v2.resnet_v2_block('block2', 128, 4, 2),
      resnet_v2.resnet_v2_block('block3', 256, 23, 2),
      resnet_v2.resnet_v2_block('block4', 512, 3, 1),
  ])
  assert layout(resnet_v2.blocks_for_depth(50, 'bottleneck_v1')) == layout([
      resnet_v2.resnet_v1_block('block1', 64, 3, 2),
      resnet_v2.resnet_v1_block('block2', 128, 4, 2),
      resnet_v2.resnet_v1_block('block3', 256, 6, 2),
      resnet_v2.resnet_v1_block('block4', 512, 3, 1),
  ])


@pytest.mark.parametrize('num_units', [0, -1, 2.0])
def test_block_helpers_need_a_positive_unit_count(num_units):
  with pytest.raises(ValueError, match='num_units must be a positive int'):
    resnet_v2.resnet_v2_block('block1', 64, num_units, 2)


def test_basic_blocks():
  blocks = resnet_v2.blocks_for_depth(18, 'basic')
  assert [(block.scope, block.unit_fn) for block in blocks] == [
      ('block%d' % i, resnet_v2.basic) for i in range(1, 5)]
  assert [block.args for block in blocks] == [
      [{'depth': depth, 'stride': 1}, {'depth': depth, 'stride': stride}]
      for depth, stride in ((64, 2), (128, 2), (256, 2), (512, 1))]


@pytest.mark.parametrize('width_multiplier, bottlenecks', [
    (2.0, [128, 256, 512, 1024]),
    (0.5, [32, 64, 128, 256]),
    (0.001, [1, 1, 1, 1]),
])
def test_width_multiplier_scales_every_block(width_multiplier, bottlenecks):
  blocks = resnet_v2.blocks_for_depth(50, width_multiplier=width_multiplier)
  assert [block.args[0]['depth_bottleneck'] for block in blocks] == bottlenecks
  assert [block.args[0]['depth'] for block in blocks] == [
      4 * depth for depth in bottlenecks]


def test_wide_model_is_resnet_v2_50_twice_as_wide():
  assert layout(resnet_v2.nets.registry.get_blocks('resnet_v2_50_w2')) == layout(
      resnet_v2.blocks_for_depth(50, width_multiplier=2.0))
  # Conv weights grow four times; the 7x7 root (64 channels) does not.
  ratio = (resnet_v2.describe('resnet_v2_50_w2').total_params /
           resnet_v2.describe('resnet_v2_50').total_params)
  assert 3.5 < ratio < 4.0


@pytest.mark.parametrize('unit', ['wide', 'Bottleneck', None, ['basic']])
def test_unknown_unit_lists_the_units(unit):
  with pytest.raises(ValueError, match="unit=.*'bottleneck', 'basic', "
                     "'bottleneck_v1'"):
    resnet_v2.blocks_for_depth(50, unit)


@pytest.mark.parametrize('depth',
                         [51, 34, 2, 0, -10, 50.0, '50', True, None, [50]])
def test_unknown_bottleneck_depth_lists_the_valid_ones(depth):
  with pytest.raises(ValueError) as error:
    resnet_v2.blocks_for_depth(depth)
  message = str(error.value)
  assert message.startswith('depth=%r' % (depth,))
  assert '50, 101, 152, 200' in message
  assert '12*n + 2' in message and '(14, 26, 38, 62, ...)' in message


def test_unknown_basic_depth_lists_the_valid_ones():
  with pytest.raises(ValueError,
                     match=r'18, 34 .*8\*n \+ 2.*\(10, 26, 42, 50, \.\.\.\)'):
    resnet_v2.blocks_for_depth(36, 'basic')


@pytest.mark.parametrize('width_multiplier',
                         [0, -1.0, math.nan, math.inf, '2', True, None])
def test_bad_width_multiplier(width_multiplier):
  with pytest.raises(ValueError, match='width_multiplier'):
    resnet_v2.blocks_for_depth(50, width_multiplier=width_multiplier)


def test_unknown_name_lists_the_registered_ones():
  with pytest.raises(ValueError) as error:
    resnet_v2.get_network_fn('resnet_v2_51')
  assert "'resnet_v2_51'" in str(error.value)
  assert ', '.join(REGISTERED) in str(error.value)


@pytest.mark.parametrize('name, unit_scope', [
    ('resnet_v2_18', 'basic_v2'),
    ('resnet_v1_50', 'bottleneck_v1'),
])
def test_network_fn_builds_the_named_model_with_batch_norm(name, unit_scope):
  network_fn = resnet_v2.get_network_fn(name, num_classes=10)
  assert network_fn.default_image_size == 224
  with tf.Graph().as_default():
    logits, end_points = network_fn(tf.zeros([2, 64, 64, 3]))
    names = [v.op.name for v in tf.compat.v1.global_variables()]
  assert logits.shape.as_list() == [2, 10]
  assert '%s/block1/unit_1/%s/conv1/BatchNorm/gamma' % (name, unit_scope) in (
      names)
  assert '%s/block4/unit_2/%s' % (name, unit_scope) in end_points
  # Only convs without a normalizer have biases: never conv1 inside a unit.
  assert not [n for n in names if '/unit_' in n and n.endswith('conv1/biases')]


@pytest.fixture
def temporary_model():
  """resnet_v2_26 (bottleneck, half width) added to the table for one test."""
  spec = resnet_v2.ModelSpec('resnet_v2_26_half', 26, 'bottleneck',
                             width_multiplier=0.5)
  resnet_v2.register(spec)
  yield spec
  resnet_v2.unregister(spec.name)


def test_one_table_entry_gives_every_view_of_a_model(temporary_model):
  name = temporary_model.name
  assert resnet_v2.list_models()[-1] == name
  expected = resnet_v2.describe(resnet_v2.blocks_for_depth(26, 'bottleneck',
                                                           0.5))
  assert resnet_v2.describe(name).total_params == expected.total_params
  rows = {row[0]: row for row in model_table.summary_rows()}
  assert rows[name][1] == '2-2-2-2 bottleneck'
  assert resnet_v2.feature_units(name) == collections.OrderedDict(
      [('C2', 'block1/unit_1'), ('C3', 'block2/unit_1'),
       ('C4', 'block3/unit_1')])
  constructor = getattr(resnet_v2, name)
  assert constructor.__name__ == name
  with tf.Graph().as_default():
    with slim.arg_scope(resnet_v2.resnet_arg_scope()):
      logits, end_points = constructor(tf.zeros([1, 64, 64, 3]), 5)
    assert logits.shape.as_list() == [1, 5]
    assert '%s/block4' % name in end_points
    sizes = [v.shape.num_elements() for v in tf.compat.v1.global_variables()]
    assert sum(sizes) == expected.total_params - (1000 - 5) * (1 + 1024)
  with tf.Graph().as_default():
    _, end_points = resnet_v2.get_network_fn(name, 3)(tf.zeros([1, 32, 32, 3]))
    assert '%s/logits' % name in end_points


def test_a_removed_model_leaves_no_constructor(temporary_model):
  resnet_v2.unregister(temporary_model.name)
  with pytest.raises(AttributeError):
    getattr(resnet_v2, temporary_model.name)
  assert temporary_model.name not in resnet_v2.list_models()
  resnet_v2.register(temporary_model)


def test_every_model_has_a_constructor_and_input_settings():
  for name in resnet_v2.list_models():
    assert getattr(resnet_v2, name).__name__ == name
    spec = resnet_v2.nets.registry.get_spec(name)
    assert spec.inputs.value_range == (-1.0, 1.0)
    assert getattr(resnet_v2, name).default_image_size == (
        spec.inputs.image_size)
