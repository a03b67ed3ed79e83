"""Size, cost and feature strides of a ResNet, computed from its Blocks alone.

  describe('resnet_v2_50').total_params          # 25613800
  unit_output_strides('resnet_v2_50')[:2]      # [('block1/unit_1', 4), ...]

Everything here is arithmetic on the Block spec: no graph is built and
TensorFlow is not even imported, so any registered model (or any list of
Blocks) can be sized instantly, and the numbers come from the same spec
that builds the net. The tests check them
against the built graph (parameters, exactly) and TensorFlow's profiler
(multiply-adds).

The counts assume the layers ``resnet_arg_scope()`` builds, as every
registered model does: a conv followed by batch norm has no bias; batch
norm learns a beta and a gamma and keeps a moving mean and variance; a conv
without a normalizer (the last conv of a pre-activation unit, a projection
shortcut, the logits) has a bias.
"""

import collections
import math

from resnet_v2.common import checks
from resnet_v2.nets import layouts
from resnet_v2.nets import registry
from resnet_v2.nets import spec

_IMAGE_CHANNELS = 3


class ModelDescription(collections.namedtuple('ModelDescription', [
    'name', 'image_size', 'num_classes', 'trainable_params', 'total_params',
    'multiply_adds', 'blocks'])):
  """What ``describe`` reports about one model at one input size.

  Attributes:
    name: the registered name, or None when described from Blocks.
    image_size: ``(height, width)`` of the input image.
    num_classes: logits of the classifier; None or 0 means no logits layer.
    trainable_params: conv weights and biases, batch-norm beta and gamma.
    total_params: every global variable, batch-norm moving statistics
      included (what a checkpoint holds).
    multiply_adds: multiply-accumulates of every convolution and of the
      logits layer for one image (batch norm, ReLU, sums and pooling are
      not counted: they are a rounding error next to the convolutions).
    blocks: one ``BlockDescription`` per Block, in order.
  """

  __slots__ = ()

  @property
  def flops(self):
    """Floating-point operations per image: a multiply-add counts as two."""
    return 2 * self.multiply_adds


BlockDescription = collections.namedtuple(
    'BlockDescription', ['scope', 'output_shape', 'stride'])
BlockDescription.__doc__ = """One Block's output at the described input size.

Attributes:
  scope: the Block's scope, e.g. ``'block1'``.
  output_shape: ``(height, width, channels)`` of the Block's output.
  stride: how much smaller than the image that output is (nominal, no
    atrous convolution): a Block's stride sits in its last unit, so
    ``block1`` of the standard nets already outputs at stride 8.
"""

_Conv = collections.namedtuple(
    'Conv', ['kernel_size', 'channels_in', 'channels_out', 'stride',
             'normalized'])
_Conv.__doc__ = """A square convolution inside a unit.

``stride`` is the stride of the conv's *output* relative to the unit's
input (the product of the strides on its path), so its output grid is
``ceil(height / stride)`` by ``ceil(width / stride)`` for a unit input of
``height`` by ``width``: TF-Slim's explicit padding and SAME padding both
round up. ``normalized`` is True when batch norm replaces the bias.
"""

_BatchNorm = collections.namedtuple('BatchNorm', ['channels'])
_BatchNorm.__doc__ = """A stand-alone batch norm over ``channels`` channels."""


_Cost = collections.namedtuple(
    'Cost', ['trainable_params', 'total_params', 'multiply_adds'])


def _shortcut_layers(depth_in, depth, stride, normalized):
  """The projection a unit adds when it changes the channel count."""
  if depth == depth_in:
    return []
  return [_Conv(1, depth_in, depth, stride, normalized)]


def _preact_bottleneck_layers(depth_in, depth, depth_bottleneck, stride):
  """The layers of ``units.bottleneck``: shared BN, 1x1, 3x3/stride, 1x1."""
  return [
      _BatchNorm(depth_in),
      _Conv(1, depth_in, depth_bottleneck, 1, True),
      _Conv(3, depth_bottleneck, depth_bottleneck, stride, True),
      _Conv(1, depth_bottleneck, depth, stride, False),
  ] + _shortcut_layers(depth_in, depth, stride, normalized=False)


def _preact_basic_layers(depth_in, depth, stride):
  """The layers of ``units.basic``: shared BN, 3x3, 3x3/stride."""
  return [
      _BatchNorm(depth_in),
      _Conv(3, depth_in, depth, 1, True),
      _Conv(3, depth, depth, stride, False),
  ] + _shortcut_layers(depth_in, depth, stride, normalized=False)


def _postact_bottleneck_layers(depth_in, depth, depth_bottleneck, stride):
  """The layers of ``units.bottleneck_v1``: 1x1, 3x3/stride, 1x1, all BN."""
  return [
      _Conv(1, depth_in, depth_bottleneck, 1, True),
      _Conv(3, depth_bottleneck, depth_bottleneck, stride, True),
      _Conv(1, depth_bottleneck, depth, stride, True),
  ] + _shortcut_layers(depth_in, depth, stride, normalized=True)


# ``layers(depth_in, **unit_args)`` of each unit kind: its ``_Conv`` and
# ``_BatchNorm`` layers.
_UNIT_LAYERS = {
    'bottleneck': _preact_bottleneck_layers,
    'basic': _preact_basic_layers,
    'bottleneck_v1': _postact_bottleneck_layers,
}

_BlockLayout = collections.namedtuple('BlockLayout',
                                      ['scope', 'unit', 'args'])
_BlockLayout.__doc__ = """A Block as data: its scope, unit kind and unit kwargs."""


def _layer_cost(layer, height, width):
  """The ``_Cost`` of one layer applied to a unit input of height x width."""
  if isinstance(layer, _BatchNorm):
    # beta and gamma are trained; the moving mean and variance are not.
    return _Cost(2 * layer.channels, 4 * layer.channels, 0)
  weights = (layer.kernel_size ** 2 * layer.channels_in *
             layer.channels_out)
  positions = (math.ceil(height / layer.stride) *
               math.ceil(width / layer.stride))
  if layer.normalized:
    norm = _layer_cost(_BatchNorm(layer.channels_out), height, width)
    return _Cost(weights + norm.trainable_params, weights + norm.total_params,
                 weights * positions)
  bias = layer.channels_out
  return _Cost(weights + bias, weights + bias, weights * positions)


def _sum_costs(costs):
  """The field-by-field sum of some ``_Cost`` values."""
  total = _Cost(0, 0, 0)
  for cost in costs:
    total = _Cost(*(a + b for a, b in zip(total, cost)))
  return total


def _total_cost(layers, height, width):
  """The summed ``_Cost`` of ``layers``, all fed a height x width input."""
  return _sum_costs(_layer_cost(layer, height, width) for layer in layers)


def _unit_kind(block):
  """The unit kind of a Block's unit function; ValueError if unknown."""
  unit = getattr(block.unit_fn, 'unit_kind', None)
  if unit not in _UNIT_LAYERS:
    raise ValueError(
        'Block %r: describe() does not know the unit function %r; it knows %s.'
        % (block.scope, getattr(block.unit_fn, '__name__', block.unit_fn),
           ', '.join(sorted(_UNIT_LAYERS))))
  return unit


def _is_pre_activation(layout):
  """Whether the Blocks build a pre-activation (v2) net; they must agree."""
  kinds = {layouts.is_pre_activation(block.unit) for block in layout}
  if len(kinds) != 1:
    raise ValueError('name_or_blocks mixes pre-activation and '
                     'post-activation units; use one kind in every Block.')
  return kinds.pop()


def _resolve(name_or_blocks):
  """``(name, [_BlockLayout, ...])`` for a registered name or Blocks."""
  if isinstance(name_or_blocks, str):
    model = registry.get_spec(name_or_blocks)
    return name_or_blocks, [_BlockLayout(scope, model.unit, args)
                            for scope, args in model.block_unit_args()]
  if (isinstance(name_or_blocks, (list, tuple)) and name_or_blocks and
      all(isinstance(block, spec.Block) for block in name_or_blocks)):
    return None, [_BlockLayout(block.scope, _unit_kind(block), block.args)
                  for block in name_or_blocks]
  raise TypeError(
      'name_or_blocks must be a registered model name (see '
      'resnet_v2.list_models()) or a non-empty list of resnet_v2.Block; '
      'got %r.' % (name_or_blocks,))


def _image_height_width(image_size):
  """``(height, width)`` from an int or a pair; ValueError otherwise."""
  if checks.is_int(image_size) and image_size > 0:
    return int(image_size), int(image_size)
  if (isinstance(image_size, (list, tuple)) and len(image_size) == 2 and
      all(checks.is_int(side) and side > 0 for side in image_size)):
    return int(image_size[0]), int(image_size[1])
  raise ValueError('image_size must be a positive int or a (height, width) '
                   'pair of positive ints, e.g. 224 or (480, 640); got %r.'
                   % (image_size,))


def _root_layers(pre_activation):
  """The stem's conv: batch-normalized only in post-activation resnet."""
  return [_Conv(spec.ROOT_KERNEL_SIZE, _IMAGE_CHANNELS, spec.ROOT_DEPTH,
                spec.ROOT_CONV_STRIDE, normalized=not pre_activation)]


_UnitStep = collections.namedtuple(
    'UnitStep', ['block', 'number', 'layers', 'input_size', 'output_shape',
                 'stride'])


def _unit_steps(blocks, height, width):
  """Walk every unit, yielding a ``_UnitStep`` with the sizes it sees.

  ``input_size`` is the ``(height, width)`` the unit reads;
  ``output_shape`` and ``stride`` describe what it writes. The walk starts
  after the stem (conv and max-pool, stride 4) and every stride rounds up,
  as the padded convs and pools of the built net do.
  """
  stride = spec.ROOT_STRIDE
  height, width = math.ceil(height / stride), math.ceil(width / stride)
  channels = spec.ROOT_DEPTH
  for block in blocks:
    unit_layers = _UNIT_LAYERS[block.unit]
    for index, unit in enumerate(block.args):
      unit_stride = unit.get('stride', 1)
      layers = unit_layers(channels, **unit)
      input_size = (height, width)
      height = math.ceil(height / unit_stride)
      width = math.ceil(width / unit_stride)
      stride *= unit_stride
      channels = unit['depth']
      yield _UnitStep(block, index + 1, layers, input_size,
                      (height, width, channels), stride)


def unit_output_strides(name_or_blocks):
  """``[(end_point_suffix, stride), ...]`` for every unit, in order.

  The suffix is ``'<block scope>/unit_<n>'``, the start of the unit's
  end_point name below the net's scope; the stride is the unit output's
  nominal stride relative to the image. A backbone reads its feature
  levels from this list instead of assuming where the strides sit.
  """
  _, blocks = _resolve(name_or_blocks)
  return [('%s/unit_%d' % (step.block.scope, step.number), step.stride)
          for step in _unit_steps(blocks, 1, 1)]


def output_stride(name_or_blocks):
  """How much smaller than the image the net's last feature map is."""
  return unit_output_strides(name_or_blocks)[-1][1]


def check_image_size(name, image_size):
  """Raise a ValueError unless ``image_size`` is an int >= the net's stride.

  Below the output stride the last blocks see a single pixel surrounded by
  zero padding, so the deepest features carry no spatial information.
  """
  stride = output_stride(name)
  if not checks.is_int(image_size) or image_size < stride:
    raise ValueError(
        'image_size=%r is too small for %s, whose output stride is %d: use '
        'image_size >= %d (224 is the standard size).'
        % (image_size, name, stride, stride))


def describe(name_or_blocks, image_size=224, num_classes=1000):
  """Parameters, multiply-adds and block output shapes of a model.

  Args:
    name_or_blocks: a registered model name (see ``list_models()``) or a
      list of ``Block`` built from the package's unit functions.
    image_size: input side as an int, or ``(height, width)``.
    num_classes: logits of the classifier (after global pooling); None or
      0 describes the net without a logits layer.

  Returns:
    A ``ModelDescription``. ``total_params`` equals the number of elements
    in the built graph's global variables; ``multiply_adds`` equals half
    the FLOPs TensorFlow's profiler reports for the graph's Conv2D ops at
    batch 1.

  Raises:
    ValueError: for an unknown name, a Block whose unit function is not
      one of the package's, a bad image_size or num_classes.
    TypeError: if name_or_blocks is neither a name nor a list of Blocks.
  """
  name, blocks = _resolve(name_or_blocks)
  height, width = _image_height_width(image_size)
  spec.check_num_classes(num_classes)
  pre_activation = _is_pre_activation(blocks)
  costs = [_total_cost(_root_layers(pre_activation), height, width)]
  block_outputs = collections.OrderedDict()
  for step in _unit_steps(blocks, height, width):
    costs.append(_total_cost(step.layers, *step.input_size))
    block_outputs[step.block.scope] = BlockDescription(
        step.block.scope, step.output_shape, step.stride)
  channels = block_outputs[blocks[-1].scope].output_shape[2]
  top = [_BatchNorm(channels)] if pre_activation else []
  if num_classes:
    top.append(_Conv(1, channels, num_classes, 1, normalized=False))
  costs.append(_total_cost(top, 1, 1))
  total = _sum_costs(costs)
  return ModelDescription(
      name=name, image_size=(height, width), num_classes=num_classes,
      trainable_params=total.trainable_params,
      total_params=total.total_params, multiply_adds=total.multiply_adds,
      blocks=tuple(block_outputs.values()))
