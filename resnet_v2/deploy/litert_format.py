"""TensorFlow Lite files, converted by TensorFlow and run on LiteRT.

  convert(net, 'int8', calibration, 'models/photos_tflite')
  engine = Engine('models/photos_tflite/model.tflite', 'int8', threads=2)
  logits = engine.run(images)

int8 is TensorFlow's full-integer post-training quantization: weights per
output channel, activations per tensor with ranges measured on the
calibration images; the input and output stay float32 so the predictor
feeds the same arrays at every precision.
"""

import os

import numpy as np
import tensorflow.compat.v1 as tf

from resnet_v2.deploy import frozen

MODEL_FILE = 'model.tflite'
# Bytes on disk per parameter: float32 weights, or int8 ones.
BYTES_PER_PARAMETER = {'fp32': 4, 'int8': 1}


def _converter(session, graph):
  """TensorFlow's TFLite converter for the frozen net in ``graph``."""
  return tf.lite.TFLiteConverter.from_session(
      session, [graph.get_tensor_by_name(frozen.INPUT_NAME + ':0')],
      [graph.get_tensor_by_name(frozen.OUTPUT_NAME + ':0')])


def convert(net, precision, calibration, export_dir):
  """Write ``MODEL_FILE`` of ``net`` at ``precision`` ('fp32' or 'int8').

  ``calibration`` is a float32 array of preprocessed images (int8 only).
  """
  with tf.Graph().as_default() as graph:
    tf.import_graph_def(net.graph_def, name='')
    with tf.Session() as session:
      converter = _converter(session, graph)
      if precision == 'int8':
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: (
            [image[np.newaxis]] for image in calibration)
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
      flatbuffer = converter.convert()
  with open(os.path.join(export_dir, MODEL_FILE), 'wb') as f:
    f.write(flatbuffer)


def _shape(details):
  """A tensor's shape from LiteRT's details, None for a free dimension."""
  return [None if size < 0 else int(size)
          for size in details['shape_signature']]


class Engine(object):
  """A LiteRT interpreter on ``threads`` threads, resized to each batch.

  ``input_shape`` and ``output_shape`` are the model file's, with None
  for a dimension it leaves free; the batch is always free, since the
  interpreter is resized to each one.
  """

  def __init__(self, path, precision, threads):
    del precision  # The file itself is float32 or int8.
    from ai_edge_litert import interpreter
    self._interpreter = interpreter.Interpreter(model_path=path,
                                                num_threads=threads)
    inputs = self._interpreter.get_input_details()[0]
    outputs = self._interpreter.get_output_details()[0]
    self.input_shape = [None] + _shape(inputs)[1:]
    self.output_shape = _shape(outputs)
    self._input, self._output = inputs['index'], outputs['index']
    self._batch = None

  def run(self, images: np.ndarray) -> np.ndarray:
    """The logits of a float32 batch of preprocessed images."""
    if images.shape[0] != self._batch:
      self._interpreter.resize_tensor_input(self._input, list(images.shape))
      self._interpreter.allocate_tensors()
      self._batch = images.shape[0]
    self._interpreter.set_tensor(self._input, images)
    self._interpreter.invoke()
    return self._interpreter.get_tensor(self._output).copy()
