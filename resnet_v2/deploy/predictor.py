"""Load any export and predict from uint8 images: ``deploy.load``.

  predictor = load('models/photos_int8')
  probabilities, classes, class_names = predictor.predict(images_uint8)

``images_uint8`` is one ``[height, width, 3]`` image, a ``[batch, height,
width, 3]`` batch, or a list of images of any sizes. Every format gets the
preprocessing of the SavedModel's ``serving_default`` (central crop,
bilinear resize, scaling to the model's value range): the SavedModel does
it in its graph, the other formats here with the same TensorFlow ops
before their runtime sees the batch. Each runtime runs on as many threads
as the process has cores, at the precision ``model.json`` names.
"""

import os

import numpy as np
import tensorflow.compat.v1 as tf

from resnet_v2.common import precision as precision_lib
from resnet_v2.data import preprocessing
from resnet_v2.deploy import engines
from resnet_v2.deploy import formats
from resnet_v2.deploy import manifest as manifest_lib
from resnet_v2.training import saved_model


def _as_image_list(images):
  """``images`` as a list of ``[h, w, 3]`` uint8 arrays; ValueError if not."""
  if isinstance(images, (list, tuple)):
    listed = [np.asarray(image) for image in images]
  else:
    array = np.asarray(images)
    listed = [array] if array.ndim == 3 else list(array)
  if not listed or any(image.ndim != 3 or image.shape[-1] != 3 or
                       image.dtype != np.uint8 for image in listed):
    raise ValueError('images must be uint8 RGB: one [height, width, 3] '
                     'array, a [batch, height, width, 3] array or a list of '
                     '[height, width, 3] arrays.')
  return listed


def _softmax(logits):
  """Row-wise softmax in float32, stable for large logits."""
  shifted = logits - logits.max(axis=1, keepdims=True)
  exp = np.exp(shifted.astype(np.float32))
  return exp / exp.sum(axis=1, keepdims=True)


class Predictor(object):
  """An export ready to predict; ``manifest`` is its ``model.json``.

  Subclasses say how a format turns uint8 images into probabilities.
  """

  def __init__(self, manifest):
    self.manifest = manifest
    self.class_names = list(manifest['class_names'])

  def probabilities(self, images) -> np.ndarray:
    """Class probabilities ``[batch, classes]`` for uint8 ``images``."""
    raise NotImplementedError

  def predict(self, images):
    """``(probabilities, classes, class_names)`` for uint8 ``images``.

    ``classes`` are int64 class ids and ``class_names`` their names, one
    per image, as the SavedModel's ``serving_default`` returns them.
    """
    probabilities = self.probabilities(images)
    classes = np.argmax(probabilities, axis=1).astype(np.int64)
    return (probabilities, classes,
            np.array([self.class_names[c] for c in classes], dtype=object))


class RuntimePredictor(Predictor):
  """A LiteRT, ONNX Runtime or OpenVINO export: preprocessing here, then
  the runtime's logits, then a softmax."""

  def __init__(self, manifest, logits_fn):
    super().__init__(manifest)
    self._logits_fn = logits_fn
    settings = manifest['preprocessing']
    self._preprocess = tf.function(
        lambda images: preprocessing.eval_image(
            images, settings['image_size'], settings['central_fraction'],
            tuple(settings['value_range'])), reduce_retracing=True)

  def preprocess(self, images) -> np.ndarray:
    """The float32 batch the model file takes, from uint8 ``images``."""
    listed = _as_image_list(images)
    if len({image.shape for image in listed}) == 1:
      return self._preprocess(np.stack(listed)).numpy()
    return np.concatenate([self._preprocess(image[np.newaxis]).numpy()
                           for image in listed])

  def logits(self, batch: np.ndarray) -> np.ndarray:
    """The logits of a preprocessed float32 batch."""
    return self._logits_fn(np.ascontiguousarray(batch, dtype=np.float32))

  def probabilities(self, images) -> np.ndarray:
    """Class probabilities ``[batch, classes]`` for uint8 ``images``."""
    return _softmax(self.logits(self.preprocess(images)))


class SavedModelPredictor(Predictor):
  """The SavedModel export, run through ``serving_default`` in a session.

  bf16 turns on oneDNN's bfloat16 rewrite for the session; the graph and
  its weights are the float32 ones either way.
  """

  def __init__(self, manifest, export_dir, threads):
    super().__init__(manifest)
    self._graph = tf.Graph()
    self._session = tf.Session(graph=self._graph, config=(
        precision_lib.session_config(manifest['precision'],
                                     intra_op_threads=threads,
                                     inter_op_threads=1)))
    with self._graph.as_default():
      meta_graph = tf.saved_model.loader.load(
          self._session, [tf.saved_model.tag_constants.SERVING], export_dir)
    signature = meta_graph.signature_def[saved_model.DEFAULT_SIGNATURE]
    self._input = signature.inputs['images'].name
    self._output = signature.outputs['probabilities'].name

  def probabilities(self, images) -> np.ndarray:
    """Class probabilities ``[batch, classes]`` for uint8 ``images``."""
    listed = _as_image_list(images)
    if len({image.shape for image in listed}) == 1:
      return self._session.run(self._output, {self._input: np.stack(listed)})
    return np.concatenate([self._session.run(
        self._output, {self._input: image[np.newaxis]}) for image in listed])


def load(export_dir, threads=None) -> Predictor:
  """A ``Predictor`` for the export in ``export_dir``, of any format.

  Args:
    export_dir: a folder written by ``python -m resnet_v2.export``.
    threads: threads per inference; the machine's cores when None.

  Raises:
    ValueError: if the folder holds no export, a file is missing, the
      runtime of its format is not installed, or its precision cannot run
      on this machine.
  """
  manifest = manifest_lib.read(export_dir)
  spec = formats.check_supported(manifest.get('format'),
                                 manifest.get('precision'))
  formats.require_runtime(spec)
  model_file = os.path.join(export_dir, manifest['model_file'])
  if not os.path.isfile(model_file):
    raise ValueError('%r has no %s, the model file of its %s export: export '
                     'it again with python -m resnet_v2.export.'
                     % (export_dir, manifest['model_file'], spec.name))
  threads = formats.session_threads() if threads is None else threads
  if spec.name == 'saved_model':
    return SavedModelPredictor(manifest, export_dir, threads)
  engine = engines.open_engine(spec.name, export_dir, manifest['precision'],
                               threads)
  return RuntimePredictor(manifest, engine.run)
