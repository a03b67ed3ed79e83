"""Each registered model as a net: its constructor and ``get_network_fn``.

  network_fn = get_network_fn('resnet_v2_50', num_classes=10)
  logits, end_points = network_fn(images)
  resnet_v2_50 = constructor('resnet_v2_50')       # resnet_v2.resnet_v2_50
  register(ModelSpec('resnet_v2_26', 26, 'bottleneck'))   # a new model

The models themselves are the lines of the table in ``registry``; this
module turns a line into the functions that build it.
"""

import functools
from typing import Callable, Dict, List, Optional

import tensorflow.compat.v1 as tf
import tf_slim as slim

from resnet_v2.nets import arg_scope
from resnet_v2.nets import checkpoints
from resnet_v2.nets import layouts
from resnet_v2.nets import pretrained
from resnet_v2.nets import registry
from resnet_v2.nets import resnet


def generator(spec: registry.ModelSpec) -> Callable:
  """``resnet_v2`` for a pre-activation model, ``resnet_v1`` otherwise."""
  return resnet.resnet_v2 if spec.pre_activation else resnet.resnet_v1


@functools.lru_cache(maxsize=None)
def _make_constructor(spec):
  """``<name>(inputs, num_classes=None, ...)`` for one fixed Block list."""
  network = generator(spec)

  def constructor(inputs, num_classes=None, is_training=True, global_pool=True,
                  output_stride=None, spatial_squeeze=True, reuse=None,
                  scope=spec.name):
    return network(inputs, spec.make_blocks(), num_classes=num_classes,
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
      % (network.__name__, spec.depth, spec.unit, counts,
         '' if spec.width_multiplier == 1.0
         else ', %gx wide' % spec.width_multiplier,
         network.__name__, spec.name))
  constructor.default_image_size = spec.inputs.image_size
  return constructor


def register(spec: registry.ModelSpec) -> Callable:
  """Add ``spec`` to the model table; returns its constructor.

  Raises:
    ValueError: if the name is taken or the depth, unit or width is not
      one ``layouts.blocks_for_depth`` can build.
  """
  registry.add(spec)
  return constructor(spec.name)


def unregister(name: str) -> None:
  """Remove the model ``name`` (added with ``register``) from the table."""
  registry.remove(name)


def constructor(name: str) -> Callable:
  """``<name>(inputs, num_classes=None, ...)``, the registered model's net."""
  return _make_constructor(registry.get_spec(name))


def constructors() -> Dict[str, Callable]:
  """``{name: constructor}`` of every registered model."""
  return {name: constructor(name) for name in registry.list_models()}


def head_exclusions(checkpoint: str, variables: List) -> List[str]:
  """``['<model>/logits']`` when the checkpoint's head does not fit.

  Starting from weights trained for other classes (ImageNet's 1001, say)
  keeps everything but the logits, which start from their initializer, as
  timm does with ``pretrained=True`` and another ``num_classes``.
  """
  heads = [v for v in variables
           if checkpoints.variable_name(v).split('/')[1:2] == ['logits']]
  if heads and checkpoints.find_mismatches(checkpoint, heads):
    return [checkpoints.variable_name(heads[0]).rsplit('/', 1)[0]]
  return []


def _start_from(weights: str, name: str, scope: str) -> None:
  """Make the model variables just built start from ``weights``.

  Running the variables' initializers then loads the checkpoint's values
  (``tf.train.init_from_checkpoint``), so a plain
  ``tf.global_variables_initializer()`` gives the pretrained net.
  """
  if scope != name:
    raise ValueError('weights=%r loads the checkpoint under the scope %r: '
                     'leave scope at its default.' % (weights, name))
  checkpoint = checkpoints.resolve(pretrained.resolve(weights, name))
  variables = slim.get_model_variables(scope + '/')
  _, to_restore = checkpoints.checked_restore(
      checkpoint, variables, head_exclusions(checkpoint, variables))
  tf.train.init_from_checkpoint(
      checkpoint, {checkpoints.variable_name(v): v for v in to_restore})


def get_network_fn(name: str, num_classes=None, weight_decay: float = 0.0,
                   is_training: bool = False,
                   batch_norm_decay: float = arg_scope.BATCH_NORM_DECAY,
                   weights: Optional[str] = None, **kwargs) -> Callable:
  """A function ``fn(images, **overrides) -> (net, end_points)`` for ``name``.

  The function builds the net inside ``resnet_arg_scope(weight_decay,
  batch_norm_decay)``, under the variable scope ``name`` (as TF-Slim's
  checkpoints expect), with ``num_classes``, ``is_training`` and any other
  ``resnet_v2`` keyword given here as defaults that ``overrides`` may
  replace per call. A short training run wants a smaller
  ``batch_norm_decay`` (e.g. 0.9): with 0.997 the moving averages keep a
  third of their initial values after 400 steps.

  ``weights`` makes the variables start from a checkpoint when their
  initializers run: ``'imagenet'`` for TF-Slim's release of the model
  (fetched on first use, see ``pretrained``), or a checkpoint path. With
  another ``num_classes`` than the checkpoint's, the logits keep their
  initializer.

  Raises:
    ValueError: if ``name`` is not registered (the message lists the
      names); when called, for ``weights`` that do not fit the net (the
      mismatch table of ``checkpoints``) or cannot be fetched.
  """
  spec = registry.get_spec(name)
  network = generator(spec)
  defaults = dict(num_classes=num_classes, is_training=is_training,
                  scope=name, **kwargs)
  if weights:
    pretrained.release_for(weights, name)

  @functools.wraps(network)
  def network_fn(images, **overrides):
    options = dict(defaults, **overrides)
    with slim.arg_scope(arg_scope.resnet_arg_scope(
        weight_decay=weight_decay, batch_norm_decay=batch_norm_decay)):
      built = network(images, spec.make_blocks(), **options)
    if weights and not options.get('reuse'):
      _start_from(weights, name, options['scope'])
    return built

  network_fn.default_image_size = spec.inputs.image_size
  return network_fn
