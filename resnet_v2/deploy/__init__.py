"""Deployment: exports for LiteRT, ONNX Runtime and OpenVINO, int8 and bf16.

  deploy.export_model('runs/photos', 'models/photos_int8', format='onnx',
                      precision='int8', data_dir='photos')
  predictor = deploy.load('models/photos_int8')
  probabilities, classes, class_names = predictor.predict(images_uint8)
  comparison = deploy.compare('models/photos_int8', 'photos')

``formats`` says which runtime runs which precision; ``frozen`` folds a
checkpoint into the graph every converter starts from; ``calibration``
draws int8 calibration images from the training split; one module per
runtime converts and runs (``litert_format``, ``onnx_format``,
``openvino_format``); ``accuracy`` scores an export against its float32
checkpoint. ``staging`` makes an export folder complete or absent,
``held_output`` keeps the converters' own output back, ``integrity``
checks on load that a folder is still what was exported, and ``inputs``
says what ``predict`` takes and how to convert what it does not.
"""

from resnet_v2.deploy.accuracy import compare
from resnet_v2.deploy.accuracy import Comparison
from resnet_v2.deploy.exporter import export_model
from resnet_v2.deploy.formats import FORMATS
from resnet_v2.deploy.formats import PRECISIONS
from resnet_v2.deploy.formats import RUNTIMES
from resnet_v2.deploy.predictor import load
from resnet_v2.deploy.predictor import Predictor

__all__ = ['Comparison', 'FORMATS', 'PRECISIONS', 'Predictor', 'RUNTIMES',
           'compare', 'export_model', 'load']
