"""The nets as a tf-keras (Keras 2) layer: eager, tf.function, tf.distribute.

  layer = resnet_v2.tf_keras.ResNetV2('resnet_v2_50', num_classes=1000)
  logits = layer(images)                       # eager, batch norm inference
  load_slim_checkpoint(layer, 'resnet_v2_50.ckpt')   # TF-Slim's weights
  features, end_points = layer(images, training=True, return_end_points=True)

``ResNetV2`` is a ``tf_keras.layers.Layer`` (Keras 2) that runs the very
graph builder of ``resnet_v2.nets`` (``zoo.get_network_fn``: the model's
Block list inside ``resnet_arg_scope``) through tf_keras' shim for
TF1-style variables, ``track_tf1_style_variables``. The shim keeps the
variables ``tf.compat.v1.get_variable`` creates in a store owned by the
layer, so they are made on the first call and reused after it, with
TF-Slim's names (``resnet_v2_50/block1/unit_1/bottleneck_v2/conv1/weights``)
and the conv regularizers as ``layer.losses``. The same layer object works
eagerly, inside ``tf.function``, in ``tf_keras.Sequential`` and functional
models, in ``model.fit``, under ``tf.distribute`` strategies and in
``tf.saved_model.save``. The trainer uses it for ``tf.distribute``; a
Keras 3 model of the same nets, on TensorFlow, JAX or PyTorch, is
``resnet_v2.keras.ResNetV2``.
"""

import contextlib
import threading
import warnings
from typing import List, Sequence

import tensorflow as tf
import tf_keras
import tf_slim as slim
from tensorflow.python.ops import variable_scope
from tf_keras.src.legacy_tf_layers import variable_scope_shim

from resnet_v2.common import arguments
from resnet_v2.nets import analysis
from resnet_v2.nets import arg_scope
from resnet_v2.nets import checkpoints
from resnet_v2.nets import normalization
from resnet_v2.nets import pretrained
from resnet_v2.nets import registry
from resnet_v2.nets import spec
from resnet_v2.nets import zoo

# TF-Slim's ResNet recipe (and the trainer's default): L2 penalty on convs.
DEFAULT_WEIGHT_DECAY = arg_scope.WEIGHT_DECAY

# slim's batch norm is a legacy Keras layer; inside a tf.function it warns
# once per layer that its update list is deprecated. The updates run anyway
# (tf.function keeps every stateful op), so the warning only adds noise.
warnings.filterwarnings('ignore', message='`layer.updates` will be removed')


# tf_keras exports the decorator but not the store class it instantiates.
_ShimVariableStore = variable_scope_shim._EagerVariableStore


@contextlib.contextmanager
def _eager_collections_kept():
  """Undo what an eager build adds to the global graph's collections.

  slim gathers end_points (and batch-norm updates) in graph collections.
  In a graph that is the graph's own business, but eager code has only the
  one global graph, so every eager call would leave its tensors there for
  the life of the process.
  """
  if not tf.executing_eagerly():
    yield
    return
  graph = tf.compat.v1.get_default_graph()
  sizes = {key: len(graph.get_collection(key))
           for key in graph.get_all_collection_keys()}
  try:
    yield
  finally:
    for key in graph.get_all_collection_keys():
      if key in sizes:
        del graph.get_collection_ref(key)[sizes[key]:]
      else:
        graph.clear_collection(key)


class _Installations:
  """Per graph: how many threads are inside a store's scope, and its entry.

  A plain object, so that ``tf.Module`` does not track (and try to save)
  what is only bookkeeping.
  """

  def __init__(self):
    self.lock = threading.Lock()
    self.by_graph = {}


class _SharedVariableStore(_ShimVariableStore):
  """The shim's variable store, safe to enter from several threads at once.

  ``MirroredStrategy`` builds each replica's forward pass in its own
  thread, and the threads take turns at every cross-replica call (such as
  a synchronised batch norm's all-reduce). The shim's own store swaps
  itself into the graph on entry and out on exit, so the first replica to
  finish would swap it out under the others ("Variable ... does not
  exist"). This store stays in place while any thread of a graph is inside
  it: the first one in installs it, the last one out removes it. Eagerly,
  the last one out also drops what the build left in the global graph's
  collections (see ``_eager_collections_kept``), which no thread may do
  while another still builds.
  """

  def __init__(self):
    super().__init__()
    self._installations = _Installations()

  @contextlib.contextmanager
  def scope(self):
    """Make this the variable store of the current graph while inside."""
    graph = tf.compat.v1.get_default_graph()
    installations = self._installations
    with installations.lock:
      users, entry = installations.by_graph.get(graph, (0, None))
      if not users:
        entry = contextlib.ExitStack()
        entry.enter_context(variable_scope.with_variable_store(self))
        entry.enter_context(_eager_collections_kept())
      installations.by_graph[graph] = (users + 1, entry)
    try:
      yield
    finally:
      with installations.lock:
        users, entry = installations.by_graph.pop(graph)
        if users > 1:
          installations.by_graph[graph] = (users - 1, entry)
        else:
          entry.close()


class ResNetV2(tf_keras.layers.Layer):
  """A registered ResNet (v2 or v1) as a Keras layer with TF-Slim's variables.

  ``call(images, training=False, return_end_points=False)`` builds the
  net of ``resnet_v2.get_network_fn(model_name, ...)`` on ``images``
  (``[batch, height, width, 3]`` floats in the model's value range, by
  default [-1, 1]) and returns the logits, or the features when
  ``num_classes`` is None, or ``(net, end_points)`` with
  ``return_end_points=True``. ``end_points`` has the graph builder's keys
  (``'resnet_v2_50/block3'``, ``'global_pool'``, ...), so the C2..C5 levels
  that ``resnet_v2.feature_units`` names are there too. slim gathers them
  in graph collections, which replica threads share: under
  ``MirroredStrategy`` with a cross-replica call inside the forward pass
  (``batch_norm='sync'``), one replica's end_points can hold another's
  tensors. The returned net is always the replica's own.

  ``training`` drives batch norm as ``is_training`` does in the graph
  builder: True normalises with the batch's statistics and updates the
  moving averages (at once when eager, as part of the function inside a
  ``tf.function``); False uses and keeps the moving averages. Keras passes
  ``training=True`` in ``fit`` and False in ``evaluate``/``predict``.

  The variables are created by the first call (Keras then calls the layer
  built) and reused by every later one; their names are TF-Slim's, under
  the variable scope ``model_name``, so ``load_slim_checkpoint`` restores
  a TF-Slim or TF1 checkpoint by name. The L2 penalties of the conv
  weights (``weight_decay`` of each) are in ``layer.losses``, which
  ``fit`` adds to the loss. Two layers of the same model would hold
  variables of the same names: give one model one layer.

  Args:
    model_name: a registered model (``resnet_v2.list_models()``), v1 nets
      included.
    num_classes: logits per image; None or 0 returns the features.
    global_pool: average the final features over height and width.
    output_stride: None for the nominal stride 32, or 8/16 for denser
      features computed with atrous convolution.
    spatial_squeeze: drop the 1x1 height and width from the logits.
    include_root_block: build the 7x7 conv and max-pool stem.
    weight_decay: L2 penalty on the conv weights (0 adds no losses).
    batch_norm_decay: moving-average decay of the batch-norm statistics;
      a short training run wants a smaller one, e.g. 0.9.
    batch_norm: 'local' (each replica's batch statistics, as TF-Slim and
      Keras), 'sync' (the statistics of the global batch, all-reduced over
      the replicas of a ``tf.distribute`` strategy) or 'frozen' (the
      moving averages, never updated); see ``resnet_v2.nets.normalization``.
    weights: None for the initializers; ``'imagenet'`` for TF-Slim's
      released weights of the model (fetched on first use), or a
      checkpoint path. The layer is then built at once (on a small batch
      of zeros) and filled; with another ``num_classes`` than the
      checkpoint's, the logits keep their initializer.
    **kwargs: passed to ``tf_keras.layers.Layer`` (``name``, ``dtype`` ...).

  Raises:
    ValueError: for an unregistered model name (the message lists the
      names) or a bad ``num_classes``; the first call raises for a bad
      input shape or ``output_stride``, as the graph builder does.
  """

  def __init__(self, model_name: str, num_classes=None,
               global_pool: bool = True, output_stride=None,
               spatial_squeeze: bool = True, include_root_block: bool = True,
               weight_decay: float = DEFAULT_WEIGHT_DECAY,
               batch_norm_decay: float = arg_scope.BATCH_NORM_DECAY,
               batch_norm: str = 'local', weights=None, **kwargs):
    registry.get_spec(model_name)
    pretrained.release_for(weights, model_name)
    spec.check_num_classes(num_classes)
    normalization.check_mode(batch_norm)
    super().__init__(**kwargs)
    self.model_name = model_name
    self.num_classes = num_classes
    self.global_pool = global_pool
    self.output_stride = output_stride
    self.spatial_squeeze = spatial_squeeze
    self.include_root_block = include_root_block
    self.weight_decay = weight_decay
    self.batch_norm_decay = batch_norm_decay
    self.batch_norm = batch_norm
    self._network_fn = zoo.get_network_fn(
        model_name, num_classes, weight_decay=weight_decay,
        batch_norm_decay=batch_norm_decay, global_pool=global_pool,
        output_stride=output_stride, spatial_squeeze=spatial_squeeze,
        include_root_block=include_root_block)
    self._tf1_style_var_store = _SharedVariableStore()
    if weights:
      self._start_from(weights)

  def _start_from(self, weights: str) -> None:
    """Build the variables on zeros, then fill them from ``weights``."""
    size = analysis.output_stride(self.model_name)
    self(tf.zeros([1, size, size, 3]))
    checkpoint = checkpoints.resolve(
        pretrained.resolve(weights, self.model_name))
    load_slim_checkpoint(self, checkpoint, zoo.head_exclusions(
        checkpoint, self.variables))

  @variable_scope_shim.track_tf1_style_variables
  def call(self, images, training=False, return_end_points=False):
    """The logits (or features), and the end_points if asked; see the class."""
    with slim.arg_scope([normalization.batch_norm], mode=self.batch_norm):
      net, end_points = self._network_fn(images, is_training=training)
    if return_end_points:
      return net, end_points
    return net

  def get_config(self) -> dict:
    """The constructor's arguments, so Keras can clone and reload the layer."""
    config = super().get_config()
    config.update(
        model_name=self.model_name, num_classes=self.num_classes,
        global_pool=self.global_pool, output_stride=self.output_stride,
        spatial_squeeze=self.spatial_squeeze,
        include_root_block=self.include_root_block,
        weight_decay=self.weight_decay,
        batch_norm_decay=self.batch_norm_decay, batch_norm=self.batch_norm)
    return config


def load_slim_checkpoint(layer: ResNetV2, checkpoint_path: str,
                         exclude_scopes: Sequence[str] = ()) -> List:
  """Restore a TF-Slim or TF1 checkpoint into a built layer, by name.

  Each variable of ``layer`` takes the value the checkpoint holds under
  its TF-Slim name, e.g. a released ``resnet_v2_50.ckpt`` or a checkpoint
  this package's trainer wrote. Everything is checked before any variable
  changes, with the trainer's checks and its table of mismatches.

  Args:
    layer: a ``ResNetV2`` that has been called once (the first call creates
      the variables), possibly under a ``tf.distribute`` strategy.
    checkpoint_path: any checkpoint form ``checkpoints.resolve`` takes (a
      V1 file as TF-Slim released them, a V2 prefix, a folder), or
      ``'imagenet'`` for the model's release (fetched on first use).
    exclude_scopes: variable scopes to leave at their current values, such
      as ``['resnet_v2_50/logits']`` when the number of classes differs (a
      comma-separated string works too, as on the trainer's command line).

  Returns:
    The restored variables.

  Raises:
    CheckpointMismatchError: a table of the variables the checkpoint lacks
      or holds with another shape, and the ``exclude_scopes`` (or model)
      that would fit.
    ValueError: if the layer has not been called yet, the checkpoint does
      not exist, or a scope matches no variable.
  """
  if isinstance(exclude_scopes, str):
    exclude_scopes = exclude_scopes.split(',')
  if not layer.variables:
    raise ValueError(
        'load_slim_checkpoint: the layer has no variables yet; call it once '
        'first, e.g. layer(tf.zeros([1, 224, 224, 3])), then restore.')
  try:
    checkpoint, to_restore = checkpoints.checked_restore(
        pretrained.resolve(checkpoint_path, layer.model_name),
        layer.variables, exclude_scopes)
  except ValueError as error:
    raise type(error)(arguments.flags_as_arguments(str(error))) from None
  reader = tf.train.load_checkpoint(checkpoint)
  for variable in to_restore:
    variable.assign(reader.get_tensor(checkpoints.variable_name(variable)))
  return to_restore
