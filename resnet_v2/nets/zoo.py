"""The model table: every named model, its constructor and its input settings.

A model is one ``ModelSpec`` line in ``MODELS``: its name, depth, unit and
width. Everything else follows from that line: the constructor
``resnet_v2.<name>(inputs, num_classes, ...)``, the registry entry that
``get_network_fn`` and ``list_models`` read, the ``describe()`` and summary
row, and the backbone's feature levels::

  network_fn = get_network_fn('resnet_v2_50', num_classes=10)
  logits, end_points = network_fn(images)
  get_spec('resnet_v2_50').inputs.image_size      # 224
  register(ModelSpec('resnet_v2_26', 26, 'bottleneck'))   # a new model

Each spec also carries the input settings its checkpoints expect (image
size, pixel value range, evaluation crop); training, evaluation, export and
the benchmark read them from here instead of choosing their own.
"""

import collections
import dataclasses
import functools
from typing import Callable, Dict, List

import tf_slim as slim

from resnet_v2.nets import arg_scope
from resnet_v2.nets import inputs as inputs_lib
from resnet_v2.nets import layouts
from resnet_v2.nets import resnet


@dataclasses.dataclass(frozen=True)
class ModelSpec:
  """One model of the zoo.

  Attributes:
    name: the registered name; also the variable scope (TF-Slim's, so
      released checkpoints of the depths it publishes load unchanged) and
      the constructor's name.
    depth: weighted layers (see ``layouts.units_per_block``).
    unit: 'bottleneck', 'basic' or 'bottleneck_v1'.
    width_multiplier: scales every block's channels.
    inputs: the ``InputSettings`` the model is trained and served with.
  """
  name: str
  depth: int
  unit: str
  width_multiplier: float = 1.0
  inputs: inputs_lib.InputSettings = inputs_lib.SLIM_INPUTS

  def make_blocks(self) -> List:
    """The model's Block list (a new list each call)."""
    return layouts.blocks_for_depth(self.depth, self.unit,
                                    self.width_multiplier)

  @property
  def network(self) -> Callable:
    """``resnet_v2`` for pre-activation units, ``resnet_v1`` otherwise."""
    unit_fn = layouts.unit_function(self.unit)
    return resnet.resnet_v2 if unit_fn.pre_activation else resnet.resnet_v1

  @property
  def default_image_size(self) -> int:
    """The model's default input side (``inputs.image_size``)."""
    return self.inputs.image_size


MODELS = (
    ModelSpec('resnet_v2_18', 18, 'basic'),
    ModelSpec('resnet_v2_34', 34, 'basic'),
    ModelSpec('resnet_v2_50', 50, 'bottleneck'),
    ModelSpec('resnet_v2_101', 101, 'bottleneck'),
    ModelSpec('resnet_v2_152', 152, 'bottleneck'),
    ModelSpec('resnet_v2_200', 200, 'bottleneck'),
    ModelSpec('resnet_v2_50_w2', 50, 'bottleneck', width_multiplier=2.0),
    ModelSpec('resnet_v1_50', 50, 'bottleneck_v1'),
    ModelSpec('resnet_v1_101', 101, 'bottleneck_v1'),
    ModelSpec('resnet_v1_152', 152, 'bottleneck_v1'),
    ModelSpec('resnet_v1_200', 200, 'bottleneck_v1'),
)

_REGISTRY: Dict[str, ModelSpec] = collections.OrderedDict()
_CONSTRUCTORS: Dict[str, Callable] = {}


def _make_constructor(spec):
  """``<name>(inputs, num_classes=None, ...)`` for one fixed Block list."""
  generator = spec.network

  def constructor(inputs, num_classes=None, is_training=True, global_pool=True,
                  output_stride=None, spatial_squeeze=True, reuse=None,
                  scope=spec.name):
    return generator(inputs, spec.make_blocks(), num_classes=num_classes,
                     is_training=is_training, global_pool=global_pool,
                     output_stride=output_stride, include_root_block=True,
                     spatial_squeeze=spatial_squeeze, reuse=reuse, scope=scope)

  counts = '-'.join(map(str, layouts.units_per_block(spec.depth, spec.unit)))
  constructor.__name__ = constructor.__qualname__ = spec.name
  constructor.__doc__ = (
      '%s with %d layers (%s units per block: %s%s).\n\n'
      'Same arguments and returns as ``%s``, with these blocks and '
      "``scope='%s'``: TF-Slim's scope, so its released checkpoints of the "
      'depths it publishes load unchanged.'
      % (generator.__name__, spec.depth, spec.unit, counts,
         '' if spec.width_multiplier == 1.0
         else ', %gx wide' % spec.width_multiplier,
         generator.__name__, spec.name))
  constructor.default_image_size = spec.inputs.image_size
  return constructor


def register(spec: ModelSpec) -> Callable:
  """Add ``spec`` to the zoo; returns its constructor.

  Raises:
    ValueError: if the name is taken or the depth, unit or width is not
      one ``layouts.blocks_for_depth`` can build.
  """
  if spec.name in _REGISTRY:
    raise ValueError('a model named %r is already registered.' % spec.name)
  spec.make_blocks()
  _REGISTRY[spec.name] = spec
  _CONSTRUCTORS[spec.name] = _make_constructor(spec)
  return _CONSTRUCTORS[spec.name]


def unregister(name: str) -> None:
  """Remove the model ``name`` (added with ``register``) from the zoo."""
  get_spec(name)
  del _REGISTRY[name]
  del _CONSTRUCTORS[name]


def list_models() -> List[str]:
  """The names of all registered models, in registration order."""
  return list(_REGISTRY)


def get_spec(name: str) -> ModelSpec:
  """The ``ModelSpec`` registered as ``name``; ValueError lists the names."""
  if not isinstance(name, str) or name not in _REGISTRY:
    raise ValueError('Unknown model name %r: choose one of %s.'
                     % (name, ', '.join(_REGISTRY)))
  return _REGISTRY[name]


def get_blocks(name: str) -> List:
  """The Block list of the model registered under ``name``."""
  return get_spec(name).make_blocks()


def constructors() -> Dict[str, Callable]:
  """``{name: constructor}`` of every registered model."""
  return dict(_CONSTRUCTORS)


def get_network_fn(name: str, num_classes=None, weight_decay: float = 0.0,
                   is_training: bool = False,
                   batch_norm_decay: float = arg_scope.BATCH_NORM_DECAY,
                   **kwargs) -> Callable:
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
    with slim.arg_scope(arg_scope.resnet_arg_scope(
        weight_decay=weight_decay, batch_norm_decay=batch_norm_decay)):
      return spec.network(images, spec.make_blocks(), **options)

  network_fn.default_image_size = spec.inputs.image_size
  return network_fn


for _spec in MODELS:
  register(_spec)
