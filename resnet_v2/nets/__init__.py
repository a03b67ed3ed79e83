"""The networks: the Block spec, the units, the model table and the analysis.

  from resnet_v2 import nets
  logits, end_points = nets.get_network_fn('resnet_v2_50', 1000)(images)
  nets.describe('resnet_v2_50').total_params      # 25613800

Each public name is imported from its module on first use, so that the
arithmetic on the spec (``describe``, the model table) runs without
TensorFlow. Each registered model's constructor (``nets.resnet_v2_50`` ...)
is an attribute of this package, generated from the model table in
``registry``.
"""

import importlib

# Public name -> the module of this package that defines it.
_HOMES = {
    'BlockDescription': 'analysis', 'ModelDescription': 'analysis',
    'describe': 'analysis', 'unit_output_strides': 'analysis',
    'resnet_arg_scope': 'arg_scope',
    'backbone': 'features', 'feature_units': 'features',
    'conv2d_same': 'blocks', 'stack_blocks_dense': 'blocks',
    'subsample': 'blocks',
    'InputSettings': 'inputs',
    'blocks_for_depth': 'layouts', 'resnet_v1_block': 'layouts',
    'resnet_v2_block': 'layouts', 'uniform_block': 'layouts',
    'units_per_block': 'layouts',
    'ModelSpec': 'registry', 'list_models': 'registry',
    'resnet_v1': 'resnet', 'resnet_v2': 'resnet',
    'Block': 'spec',
    'basic': 'units', 'bottleneck': 'units', 'bottleneck_v1': 'units',
    'get_network_fn': 'zoo', 'register': 'zoo', 'unregister': 'zoo',
}


def _public_names():
  """The names above and every registered model's constructor."""
  registry = importlib.import_module(__name__ + '.registry')
  return sorted(list(_HOMES) + registry.list_models())


def __getattr__(name):
  """A public name from its module, or a registered model's constructor."""
  if name == '__all__':
    return _public_names()
  home = _HOMES.get(name)
  if home is not None:
    return getattr(importlib.import_module(__name__ + '.' + home), name)
  registry = importlib.import_module(__name__ + '.registry')
  if name in registry.list_models():
    return importlib.import_module(__name__ + '.zoo').constructor(name)
  raise AttributeError('module %r has no attribute %r' % (__name__, name))


def __dir__():
  """The module's own names and the public ones, for ``dir()``."""
  return sorted(set(globals()) | set(_public_names()))
