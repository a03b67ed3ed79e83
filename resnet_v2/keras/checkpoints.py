"""TF-Slim checkpoints in and out of a Keras 3 model, by TF-Slim's names.

  load_slim_checkpoint(model, 'resnet_v2_50.ckpt')       # or 'imagenet'
  model.fit(...)                                         # any backend
  save_slim_checkpoint(model, 'fine_tuned/model.ckpt')   # for TF-Slim

Both directions name every weight with ``layers.slim_name``. Reading
checks everything first with the trainer's checks and its table of
mismatches (``resnet_v2.nets.checkpoints``); writing saves each value
under its TF-Slim name with TensorFlow's SaveV2 op and updates the
folder's ``checkpoint`` state file, so a graph-mode
``tf.compat.v1.train.Saver()``, TF-Slim's own nets, ``evaluate`` and
``export`` restore the file. TensorFlow reads and writes the files
whichever Keras backend computes.
"""

import os
from typing import Dict, List, Sequence

import keras
import tensorflow as tf

from resnet_v2 import weights as weights_lib
from resnet_v2.common import arguments
from resnet_v2.keras import layers
from resnet_v2.nets import checkpoints


class _Named:
  """A Keras weight as the checkpoint checks see a variable: by slim name."""

  def __init__(self, weight):
    self.weight = weight
    self.name = layers.slim_name(weight)

  def get_shape(self) -> tf.TensorShape:
    """The weight's shape."""
    return tf.TensorShape(self.weight.shape)


def slim_variables(model: keras.Model) -> Dict[str, keras.Variable]:
  """``{TF-Slim variable name: weight}`` of every weight of ``model``."""
  return {layers.slim_name(weight): weight for weight in model.weights}


def load_slim_checkpoint(model: keras.Model, checkpoint_path: str,
                         exclude_scopes: Sequence[str] = ()) -> List:
  """Fill ``model``'s weights from a TF-Slim or TF1 checkpoint, by name.

  Everything is checked before any weight changes.

  Args:
    model: a ``ResNetV2`` (its weights exist from construction).
    checkpoint_path: 'imagenet' or a release name (fetched once, see
      ``resnet_v2.weights``), a single-file checkpoint as TF-Slim released
      them, a checkpoint prefix, or a folder holding checkpoints.
    exclude_scopes: TF-Slim scopes whose weights keep their values, such
      as ``['resnet_v2_50/logits']`` for another number of classes (a
      comma-separated string works too).

  Returns:
    The weights that were filled.

  Raises:
    CheckpointMismatchError: a table of the weights the checkpoint lacks
      or holds with another shape, and the ``exclude_scopes`` (or model)
      that would fit.
    ValueError: if there is no checkpoint there or a scope matches no
      weight.
  """
  if isinstance(exclude_scopes, str):
    exclude_scopes = exclude_scopes.split(',')
  checkpoint_path = weights_lib.resolve(checkpoint_path,
                                        getattr(model, 'model_name', None))
  try:
    checkpoint, to_restore = checkpoints.checked_restore(
        checkpoint_path, [_Named(weight) for weight in model.weights],
        exclude_scopes)
  except ValueError as error:
    raise type(error)(arguments.flags_as_arguments(str(error))) from None
  reader = tf.train.load_checkpoint(checkpoint)
  for named in to_restore:
    named.weight.assign(reader.get_tensor(named.name))
  return [named.weight for named in to_restore]


def load_weights(model: keras.Model, checkpoint_path: str) -> List:
  """``load_slim_checkpoint`` for ``ResNetV2(weights=...)``.

  The logits keep their initial values when the checkpoint holds another
  number of classes (a fine-tuning start, as timm does it); the
  checkpoint's logits are ignored when the model has none.
  """
  checkpoint_path = weights_lib.resolve(checkpoint_path, model.model_name)
  logits = model.model_name + '/logits'
  shapes = tf.train.load_checkpoint(
      checkpoints.resolve(checkpoint_path)).get_variable_to_shape_map()
  own = {name: list(weight.shape)
         for name, weight in slim_variables(model).items()
         if name.startswith(logits + '/')}
  differ = any(shapes.get(name) != shape for name, shape in own.items())
  return load_slim_checkpoint(model, checkpoint_path,
                              [logits] if differ else ())


def save_slim_checkpoint(model: keras.Model, checkpoint_path: str) -> str:
  """Write ``model``'s weights as a TF1 checkpoint under TF-Slim's names.

  Args:
    model: a ``ResNetV2`` (or any model of ``resnet_v2.keras.layers``).
    checkpoint_path: the prefix to write, e.g. 'run/model.ckpt'; its
      folder is created, and its ``checkpoint`` state file names it.

  Returns:
    ``checkpoint_path``.
  """
  variables = slim_variables(model)
  names = sorted(variables)
  folder = os.path.dirname(os.path.abspath(checkpoint_path))
  os.makedirs(folder, exist_ok=True)
  values = [keras.ops.convert_to_numpy(variables[name].value)
            for name in names]
  tf.raw_ops.SaveV2(prefix=checkpoint_path, tensor_names=names,
                    shape_and_slices=[''] * len(names), tensors=values)
  tf.compat.v1.train.update_checkpoint_state(
      folder, os.path.basename(checkpoint_path))
  return checkpoint_path
