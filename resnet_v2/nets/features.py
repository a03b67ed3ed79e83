"""Feature maps C2..C5 of any registered model, for detectors and segmenters.

Level ``Ck`` is the feature map at stride ``2**k``. Because a Block's
stride sits in its *last* unit, a block's output is already at the next
level's stride: in resnet_v2_50, ``block1`` outputs stride 8, not 4. So the
backbone does not take block outputs; for each level it takes the output of
the last unit that still runs at that level's stride, found from the Block
spec by ``resnet_v2.unit_output_strides``:

  level  stride  resnet_v2_50 / resnet_v1_50 end_point (below the scope)
  C2     4       block1/unit_2/<unit>   (block1's second-to-last unit)
  C3     8       block2/unit_3/<unit>
  C4     16      block3/unit_5/<unit>
  C5     32      the net's output: 'postnorm' (v2) or 'block4' (v1)

In v2 (pre-activation) nets a unit's output is an un-normalized sum; only
C5 has been through batch norm and ReLU ('postnorm'). In v1 nets every
level is a ReLU output.
"""

import collections

from resnet_v2.nets import analysis
from resnet_v2.nets import registry
from resnet_v2.nets import zoo

LEVEL_STRIDES = collections.OrderedDict(
    [('C2', 4), ('C3', 8), ('C4', 16), ('C5', 32)])


def feature_units(name_or_blocks='resnet_v2_50'):
  """``{'C2': 'block1/unit_2', ...}``: the unit giving each level C2..C4.

  Each is the last unit whose nominal output stride equals the level's
  stride (see the module docstring), read from the Block spec of a
  registered name or of a list of Blocks. C5 is the net's final output and
  is not listed.

  Raises:
    ValueError: for an unknown name, or a model with no unit output at
      some level's stride (with one unit per block, that unit strides).
  """
  unit_strides = analysis.unit_output_strides(name_or_blocks)
  nominal_stride = unit_strides[-1][1]
  if nominal_stride != LEVEL_STRIDES['C5']:
    raise ValueError('name_or_blocks: the model has nominal stride %d; C2..C5 '
                     'features need stride 32.' % nominal_stride)
  units = collections.OrderedDict()
  for level, stride in list(LEVEL_STRIDES.items())[:-1]:
    at_stride = [unit for unit, unit_stride in unit_strides
                 if unit_stride == stride]
    if not at_stride:
      raise ValueError(
          'name_or_blocks: no unit of the model outputs stride %d for %s (a '
          'block with one unit strides at once); use at least two units per '
          'block, as every registered model does: %s.'
          % (stride, level, ', '.join(registry.list_models())))
    units[level] = at_stride[-1]
  return units


def _unit_end_point(end_points, scope, unit):
  """The end_point of ``unit`` (e.g. 'block1/unit_2') under ``scope``."""
  prefix = '%s/%s/' % (scope, unit)
  names = [key for key in end_points
           if key.startswith(prefix) and '/' not in key[len(prefix):]]
  return end_points[names[0]]


def backbone(images, name='resnet_v2_50', is_training=False,
             output_stride=None, reuse=None, weight_decay=0.0):
  """Build a registered model as a feature extractor; return C2..C5.

  The net is built fully convolutional (no global pool, no logits) under
  the model's own variable scope and arg_scope, so a classification
  checkpoint of the model restores into it unchanged.

  Args:
    images: ``[batch, height, width, 3]`` float images.
    name: a registered model (see ``resnet_v2.list_models()``).
    is_training: batch-norm mode; False keeps the pretrained statistics.
    output_stride: None for strides 4, 8, 16, 32; 16 or 8 caps every level
      at that stride, computing the deeper levels with atrous convolution
      (e.g. C4 and C5 both at stride 16), for dense prediction.
    reuse: reuse the variables of an earlier backbone of the same name.
    weight_decay: L2 penalty on the conv weights, for fine-tuning.

  Returns:
    ``(features, end_points)``: an OrderedDict from 'C2' ... 'C5' to
    tensors at strides ``min(4, 8, 16, 32, output_stride)`` (see the module
    docstring for which layer each level is), and the net's end_points.

  Raises:
    ValueError: for an unknown name (the message lists the registered
      ones), a model without an activation at some level, or an
      output_stride the model cannot reach (the message lists the choices).
  """
  registry.get_spec(name)
  units = feature_units(name)
  network_fn = zoo.get_network_fn(name, num_classes=None,
                                       weight_decay=weight_decay,
                                       is_training=is_training)
  net, end_points = network_fn(images, global_pool=False,
                               output_stride=output_stride, reuse=reuse)
  features = collections.OrderedDict(
      (level, _unit_end_point(end_points, name, unit))
      for level, unit in units.items())
  features['C5'] = net
  return features, end_points
