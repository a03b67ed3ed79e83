"""Which module converts to and runs each non-TensorFlow format.

  convert('onnx', net, 'int8', calibration, export_dir)
  engine = open_engine('onnx', export_dir, 'int8', threads=2)
  logits = engine.run(images)      # float32 preprocessed batch -> logits

Each runtime's module is imported only when its format is used, so a
missing optional extra costs nothing until it is asked for.
"""

import importlib
import os

_MODULES = {'tflite': 'litert_format', 'onnx': 'onnx_format',
            'openvino': 'openvino_format'}


def _module(format_name):
  """The converter-and-engine module of ``format_name``."""
  return importlib.import_module('resnet_v2.deploy.' + _MODULES[format_name])


def model_file(format_name) -> str:
  """The name of the model file an export of ``format_name`` holds."""
  return _module(format_name).MODEL_FILE


def convert(format_name, net, precision, calibration, export_dir) -> None:
  """Write the model file of ``net`` (a ``frozen.FrozenNet``) to export_dir.

  ``calibration`` (preprocessed float32 images) is used for int8 only.
  """
  _module(format_name).convert(net, precision, calibration, export_dir)


def open_engine(format_name, export_dir, precision, threads):
  """An object whose ``run(images)`` returns the logits of the export."""
  module = _module(format_name)
  return module.Engine(os.path.join(export_dir, module.MODEL_FILE), precision,
                       threads)
