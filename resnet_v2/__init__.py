"""resnet_v2: TF-Slim-compatible, configurable pre-activation ResNets.

Importing the package first applies the small tf-slim compatibility fix in
``resnet_v2._compat`` so that tf-slim 1.1.0 runs on current TensorFlow.
"""

from resnet_v2 import _compat  # noqa: F401  (must run before tf-slim is used)
from resnet_v2.analysis import BlockDescription
from resnet_v2.analysis import ModelDescription
from resnet_v2.analysis import describe
from resnet_v2.analysis import unit_output_strides
from resnet_v2.arg_scopes import resnet_arg_scope
from resnet_v2.blocks import Block
from resnet_v2.blocks import conv2d_same
from resnet_v2.blocks import stack_blocks_dense
from resnet_v2.blocks import subsample
from resnet_v2.depths import blocks_for_depth
from resnet_v2.depths import resnet_v1_block
from resnet_v2.depths import resnet_v2_block
from resnet_v2.depths import uniform_block
from resnet_v2.depths import units_per_block
from resnet_v2.features import backbone
from resnet_v2.features import feature_units
from resnet_v2.nets import resnet_v1
from resnet_v2.nets import resnet_v1_101
from resnet_v2.nets import resnet_v1_152
from resnet_v2.nets import resnet_v1_200
from resnet_v2.nets import resnet_v1_50
from resnet_v2.nets import resnet_v2
from resnet_v2.nets import resnet_v2_101
from resnet_v2.nets import resnet_v2_152
from resnet_v2.nets import resnet_v2_18
from resnet_v2.nets import resnet_v2_200
from resnet_v2.nets import resnet_v2_34
from resnet_v2.nets import resnet_v2_50
from resnet_v2.precision import check_precision_supported
from resnet_v2.precision import session_config
from resnet_v2.registry import get_network_fn
from resnet_v2.registry import list_models
from resnet_v2.timing import TimingResult
from resnet_v2.timing import time_tensorflow_run
from resnet_v2.units import basic
from resnet_v2.units import bottleneck
from resnet_v2.units import bottleneck_v1

__all__ = [
    'Block',
    'BlockDescription',
    'ModelDescription',
    'TimingResult',
    'backbone',
    'basic',
    'blocks_for_depth',
    'bottleneck',
    'bottleneck_v1',
    'check_precision_supported',
    'conv2d_same',
    'describe',
    'feature_units',
    'get_network_fn',
    'list_models',
    'resnet_arg_scope',
    'resnet_v1',
    'resnet_v1_101',
    'resnet_v1_152',
    'resnet_v1_200',
    'resnet_v1_50',
    'resnet_v1_block',
    'resnet_v2',
    'resnet_v2_101',
    'resnet_v2_152',
    'resnet_v2_18',
    'resnet_v2_200',
    'resnet_v2_34',
    'resnet_v2_50',
    'resnet_v2_block',
    'session_config',
    'stack_blocks_dense',
    'subsample',
    'time_tensorflow_run',
    'uniform_block',
    'unit_output_strides',
    'units_per_block',
]
