"""The model table: every named model as one line of data.

A model is one ``ModelSpec`` line in ``MODELS``: its name, depth, unit and
width, and the input settings its checkpoints expect (image size, pixel
value range, evaluation crop). Everything else follows from that line: the
constructor ``resnet_v2.<name>`` and ``get_network_fn`` (``zoo``), the
``describe()`` and summary row, the backbone's feature levels, and the
settings training, evaluation, export and the benchmark read::

  get_spec('resnet_v2_50').inputs.image_size      # 224
  list_models()                                   # ['resnet_v2_18', ...]
  resnet_v2.register(ModelSpec('resnet_v2_26', 26, 'bottleneck'))

The table is plain data, so it is read without TensorFlow.
"""

import collections
import dataclasses
from typing import Dict, List

from resnet_v2.nets import inputs as inputs_lib
from resnet_v2.nets import layouts


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
    """The model's Block list (a new list each call; loads TensorFlow)."""
    return layouts.blocks_for_depth(self.depth, self.unit,
                                    self.width_multiplier)

  def block_unit_args(self) -> List:
    """``[(scope, unit kwargs list), ...]``: the Blocks as plain data."""
    return layouts.block_unit_args(self.depth, self.unit,
                                   self.width_multiplier)

  @property
  def pre_activation(self) -> bool:
    """True for a ``resnet_v2`` model, False for a ``resnet_v1`` one."""
    return layouts.is_pre_activation(self.unit)

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


def add(spec: ModelSpec) -> None:
  """Put ``spec`` in the table (``zoo.register`` is the public way).

  Raises:
    ValueError: if the name is taken or the depth, unit or width is not
      one ``layouts.blocks_for_depth`` can build.
  """
  if spec.name in _REGISTRY:
    raise ValueError('a model named %r is already registered.' % spec.name)
  spec.block_unit_args()
  _REGISTRY[spec.name] = spec


def remove(name: str) -> None:
  """Take the model ``name`` out of the table."""
  get_spec(name)
  del _REGISTRY[name]


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


for _spec in MODELS:
  add(_spec)
