"""OpenVINO IR files, converted by OpenVINO and run on its CPU plugin.

  convert(net, 'int8', calibration, 'models/photos_openvino')
  engine = Engine('models/photos_openvino/model.xml', 'bf16', threads=2)
  logits = engine.run(images)

The IR is saved in float32 (OpenVINO would store float16 weights by
default). int8 is NNCF's post-training quantization: weights per output
channel, activations with ranges measured on the calibration images. bf16
is not a file but a way to run the float32 IR: the CPU plugin's
``INFERENCE_PRECISION_HINT``. The plugin computes in bf16 on its own on
CPUs with AVX512-BF16 or AMX, so fp32 and int8 set the hint to f32.
"""

import errno
import os

import numpy as np

MODEL_FILE = 'model.xml'
# Bytes on disk per parameter: float32 weights, or NNCF's int8 ones.
BYTES_PER_PARAMETER = {'fp32': 4, 'bf16': 4, 'int8': 1}
INFERENCE_PRECISION = {'fp32': 'f32', 'bf16': 'bf16', 'int8': 'f32'}


def convert(net, precision, calibration, export_dir):
  """Write ``MODEL_FILE`` (and its weights) of ``net`` at ``precision``."""
  import openvino
  model = openvino.convert_model(net.graph_def)
  if precision == 'int8':
    import nncf
    model = nncf.quantize(
        model, nncf.Dataset([image[np.newaxis] for image in calibration]),
        preset=nncf.QuantizationPreset.PERFORMANCE,
        subset_size=len(calibration))
  path = os.path.join(export_dir, MODEL_FILE)
  try:
    openvino.save_model(model, path, compress_to_fp16=False)
  except RuntimeError as error:
    # OpenVINO's C++ streams say only "iostream error", whatever stopped
    # the write (a full disk, a file-size limit): report it as the write
    # failure it is.
    raise OSError(errno.EIO, 'OpenVINO could not write %s (%s)'
                  % (path, error)) from error


def _shape(port):
  """A port's shape from OpenVINO, None for a free dimension."""
  return [size.get_length() if size.is_static else None
          for size in port.get_partial_shape()]


class Engine(object):
  """The IR compiled for the CPU at ``precision`` on ``threads`` threads.

  ``input_shape`` and ``output_shape`` are the model file's, with None
  for a dimension it leaves free.
  """

  def __init__(self, path, precision, threads):
    import openvino
    self._compiled = openvino.Core().compile_model(path, 'CPU', {
        'INFERENCE_PRECISION_HINT': INFERENCE_PRECISION[precision],
        'INFERENCE_NUM_THREADS': threads,
    })
    self._request = self._compiled.create_infer_request()
    self.input_shape = _shape(self._compiled.input(0))
    self.output_shape = _shape(self._compiled.output(0))

  def run(self, images: np.ndarray) -> np.ndarray:
    """The logits of a float32 batch of preprocessed images."""
    return self._request.infer([images])[0].copy()
