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

import os

import numpy as np

MODEL_FILE = 'model.xml'
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
  openvino.save_model(model, os.path.join(export_dir, MODEL_FILE),
                      compress_to_fp16=False)


class Engine(object):
  """The IR compiled for the CPU at ``precision`` on ``threads`` threads."""

  def __init__(self, path, precision, threads):
    import openvino
    self._compiled = openvino.Core().compile_model(path, 'CPU', {
        'INFERENCE_PRECISION_HINT': INFERENCE_PRECISION[precision],
        'INFERENCE_NUM_THREADS': threads,
    })
    self._request = self._compiled.create_infer_request()

  def run(self, images: np.ndarray) -> np.ndarray:
    """The logits of a float32 batch of preprocessed images."""
    return self._request.infer([images])[0].copy()
