"""Load any export and predict from uint8 images: ``deploy.load``.

  predictor = load('models/photos_int8')
  probabilities, classes, class_names = predictor.predict(images_uint8)

``images_uint8`` is one ``[height, width, 3]`` image, a ``[batch, height,
width, 3]`` batch, or a list of images of any sizes; anything else is one
ValueError with the expression that converts it (``inputs``). ``load``
refuses an export folder that is no longer what ``export`` wrote, before
any prediction (``integrity``). Every format gets the
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
from resnet_v2.deploy import inputs
from resnet_v2.deploy import integrity
from resnet_v2.deploy import manifest as manifest_lib
from resnet_v2.training import saved_model


def _softmax(logits):
  """Row-wise softmax in float32, stable for large logits."""
  shifted = logits - logits.max(axis=1, keepdims=True)
  exp = np.exp(shifted.astype(np.float32))
  return exp / exp.sum(axis=1, keepdims=True)


class Predictor(object):
  """An export ready to predict; ``manifest`` is its ``model.json``.

  Subclasses say how a format turns uint8 images into probabilities, and
  give ``model_input_shape`` (the model file's ``[batch, height, width,
  3]`` after preprocessing) and ``model_output_shape`` (``[batch,
  classes]``), None for a free dimension.
  """

  model_input_shape = None
  model_output_shape = None

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
  the runtime's logits, then a softmax.

  ``engine`` is an ``engines.open_engine`` engine of the export's model
  file, at ``path``. A model file whose batch is fixed gets smaller
  batches padded to its size; a larger one is refused with the slicing
  that works.
  """

  def __init__(self, manifest, engine, path):
    super().__init__(manifest)
    self._engine = engine
    self._path = path
    self.model_input_shape = engine.input_shape
    self.model_output_shape = engine.output_shape
    settings = manifest['preprocessing']
    self._preprocess = tf.function(
        lambda images: preprocessing.eval_image(
            images, settings['image_size'], settings['central_fraction'],
            tuple(settings['value_range'])), reduce_retracing=True)

  def preprocess(self, images) -> np.ndarray:
    """The float32 batch the model file takes, from uint8 ``images``."""
    listed = inputs.image_list(images)
    if len({image.shape for image in listed}) == 1:
      return self._preprocess(np.stack(listed)).numpy()
    return np.concatenate([self._preprocess(image[np.newaxis]).numpy()
                           for image in listed])

  def logits(self, batch: np.ndarray) -> np.ndarray:
    """The logits of a preprocessed float32 batch."""
    batch = np.ascontiguousarray(batch, dtype=np.float32)
    fixed = self.model_input_shape[0]
    if fixed is None or len(batch) == fixed:
      return self._engine.run(batch)
    if len(batch) > fixed:
      raise ValueError(
          'images is a batch of %d, but %r takes at most %d at a time (its '
          'batch is fixed): predict in slices, e.g. np.concatenate('
          '[predictor.predict(images[i:i + %d])[0] for i in range(0, '
          'len(images), %d)])' % (len(batch), self._path, fixed, fixed, fixed))
    padding = np.repeat(batch[-1:], fixed - len(batch), axis=0)
    return self._engine.run(np.concatenate([batch, padding]))[:len(batch)]

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
    try:
      self._load(export_dir)
    except Exception as error:
      raise ValueError(
          '%r cannot be read by TensorFlow (%s): its SavedModel files are '
          'damaged or are not the ones of this export; export it again: %s'
          % (export_dir, engines.error_reason(error),
             integrity.export_again(manifest))) from None

  def _load(self, export_dir):
    """Load the SavedModel; find its signature and the model's shapes.

    The net's input size is the size the graph resizes images to.
    """
    with self._graph.as_default():
      meta_graph = tf.saved_model.loader.load(
          self._session, [tf.saved_model.tag_constants.SERVING], export_dir)
    signature = meta_graph.signature_def[saved_model.DEFAULT_SIGNATURE]
    self._input = signature.inputs['images'].name
    self._output = signature.outputs['probabilities'].name
    resized = next(op for op in self._graph.get_operations()
                   if op.type == 'ResizeBilinear')
    self.model_input_shape = resized.outputs[0].shape.as_list()
    self.model_output_shape = [
        None if dim.size < 0 else dim.size
        for dim in signature.outputs['probabilities'].tensor_shape.dim]

  def probabilities(self, images) -> np.ndarray:
    """Class probabilities ``[batch, classes]`` for uint8 ``images``."""
    listed = inputs.image_list(images)
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
    ValueError: naming the file, if the folder holds no export, or one
      that was damaged or edited after it was written (see ``integrity``);
      if the runtime of its format is not installed, or its precision
      cannot run on this machine.
  """
  manifest = manifest_lib.read(export_dir)
  integrity.check_folder(export_dir, manifest)
  spec = formats.check_supported(manifest['format'], manifest['precision'])
  formats.require_runtime(spec)
  threads = formats.session_threads() if threads is None else threads
  if spec.name == 'saved_model':
    predictor = SavedModelPredictor(manifest, export_dir, threads)
  else:
    engine = engines.open_engine(spec.name, export_dir, manifest['precision'],
                                 threads)
    predictor = RuntimePredictor(
        manifest, engine, os.path.join(export_dir, manifest['model_file']))
  integrity.check_model_shapes(export_dir, manifest,
                               predictor.model_input_shape,
                               predictor.model_output_shape)
  return predictor
