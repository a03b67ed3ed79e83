"""The networks: the Block spec, the units, the model table and the analysis.

  from resnet_v2 import nets
  logits, end_points = nets.get_network_fn('resnet_v2_50', 1000)(images)
  nets.describe('resnet_v2_50').total_params      # 25613800

Importing this package first applies the tf-slim compatibility fix
(``compat``), so that tf-slim 1.1.0 runs on current TensorFlow. Each
registered model's constructor (``nets.resnet_v2_50`` ...) is an attribute
of this package, generated from the model table in ``zoo``.
"""

from resnet_v2.nets import compat  # noqa: F401  (must run before tf-slim)
from resnet_v2.nets.analysis import BlockDescription
from resnet_v2.nets.analysis import ModelDescription
from resnet_v2.nets.analysis import describe
from resnet_v2.nets.analysis import unit_output_strides
from resnet_v2.nets.arg_scope import resnet_arg_scope
from resnet_v2.nets.backbone import backbone
from resnet_v2.nets.backbone import feature_units
from resnet_v2.nets.blocks import Block
from resnet_v2.nets.blocks import conv2d_same
from resnet_v2.nets.blocks import stack_blocks_dense
from resnet_v2.nets.blocks import subsample
from resnet_v2.nets.inputs import InputSettings
from resnet_v2.nets.layouts import blocks_for_depth
from resnet_v2.nets.layouts import resnet_v1_block
from resnet_v2.nets.layouts import resnet_v2_block
from resnet_v2.nets.layouts import uniform_block
from resnet_v2.nets.layouts import units_per_block
from resnet_v2.nets.resnet import resnet_v1
from resnet_v2.nets.resnet import resnet_v2
from resnet_v2.nets.units import basic
from resnet_v2.nets.units import bottleneck
from resnet_v2.nets.units import bottleneck_v1
from resnet_v2.nets.zoo import ModelSpec
from resnet_v2.nets.zoo import get_network_fn
from resnet_v2.nets.zoo import list_models
from resnet_v2.nets.zoo import register
from resnet_v2.nets.zoo import unregister
from resnet_v2.nets import zoo as _zoo

_NAMES = [
    'Block', 'BlockDescription', 'InputSettings', 'ModelDescription',
    'ModelSpec', 'backbone', 'basic', 'blocks_for_depth', 'bottleneck',
    'bottleneck_v1', 'conv2d_same', 'describe', 'feature_units',
    'get_network_fn', 'list_models', 'register', 'resnet_arg_scope',
    'resnet_v1', 'resnet_v1_block', 'resnet_v2', 'resnet_v2_block',
    'stack_blocks_dense', 'subsample', 'uniform_block', 'unit_output_strides',
    'units_per_block', 'unregister',
]
__all__ = sorted(_NAMES + _zoo.list_models())


def __getattr__(name):
  """The constructor of a registered model, e.g. ``nets.resnet_v2_50``."""
  constructor = _zoo.constructors().get(name)
  if constructor is None:
    raise AttributeError('module %r has no attribute %r' % (__name__, name))
  return constructor
