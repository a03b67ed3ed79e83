"""Every model the package can build, by name.

Each entry is data: a function that returns the model's Blocks and the
network function that assembles them. ``get_network_fn`` wraps an entry in
the arg_scope the model was trained with, so a caller cannot forget it.
"""

import collections
import functools

import tf_slim as slim

from resnet_v2 import arg_scopes
from resnet_v2 import depths
from resnet_v2 import nets

ModelSpec = collections.namedtuple(
    'ModelSpec', ['name', 'make_blocks', 'network', 'default_image_size'])

_MODELS = collections.OrderedDict()


def register(name, make_blocks, network=nets.resnet_v2,
             default_image_size=nets.DEFAULT_IMAGE_SIZE):
  """Register ``name``: ``network`` builds the Blocks of ``make_blocks()``."""
  _MODELS[name] = ModelSpec(name, make_blocks, network, default_image_size)


def list_models():
  """The names of all registered models, in registration order."""
  return list(_MODELS)


def get_spec(name):
  """The ``ModelSpec`` registered as ``name``; ValueError lists the names."""
  if not isinstance(name, str) or name not in _MODELS:
    raise ValueError('Unknown model name %r: choose one of %s.'
                     % (name, ', '.join(_MODELS)))
  return _MODELS[name]


def get_blocks(name):
  """The Block list of the model registered under ``name``."""
  return get_spec(name).make_blocks()


def get_network_fn(name, num_classes=None, weight_decay=0.0,
                   is_training=False, batch_norm_decay=0.997, **kwargs):
  """A function ``fn(images, **overrides) -> (net, end_points)`` for ``name``.

  The function builds the net inside ``resnet_arg_scope(weight_decay,
  batch_norm_decay)``, under the variable scope ``name`` (as TF-Slim's
  checkpoints expect), with ``num_classes``, ``is_training`` and any other
  ``resnet_v2`` keyword given here as defaults that ``overrides`` may
  replace per call. A short training run wants a smaller
  ``batch_norm_decay`` (e.g. 0.9): with 0.997 the moving averages keep a
  third of their initial values after 400 steps.

  Raises:
    ValueError: if ``name`` is not registered (the message lists the names).
  """
  spec = get_spec(name)
  defaults = dict(num_classes=num_classes, is_training=is_training,
                  scope=name, **kwargs)

  @functools.wraps(spec.network)
  def network_fn(images, **overrides):
    options = dict(defaults, **overrides)
    with slim.arg_scope(arg_scopes.resnet_arg_scope(
        weight_decay=weight_decay, batch_norm_decay=batch_norm_decay)):
      return spec.network(images, spec.make_blocks(), **options)

  network_fn.default_image_size = spec.default_image_size
  return network_fn


def _register_published_models():
  """Register the published depths of v2 and v1, and a wide variant.

  Names follow TF-Slim (``resnet_v2_50``, ``resnet_v1_50``, ...), so the
  variable scope ``get_network_fn`` uses matches the released checkpoints.
  ``resnet_v2_50_w2`` is ResNet-v2-50 with every block twice as wide.
  """
  for unit, table in (('basic', depths.BASIC_UNITS),
                      ('bottleneck', depths.BOTTLENECK_UNITS)):
    for depth in sorted(table):
      register('resnet_v2_%d' % depth,
               functools.partial(depths.blocks_for_depth, depth, unit))
  register('resnet_v2_50_w2',
           functools.partial(depths.blocks_for_depth, 50, 'bottleneck', 2.0))
  for depth in sorted(depths.BOTTLENECK_UNITS):
    register('resnet_v1_%d' % depth,
             functools.partial(depths.blocks_for_depth, depth,
                               'bottleneck_v1'),
             network=nets.resnet_v1)


_register_published_models()
