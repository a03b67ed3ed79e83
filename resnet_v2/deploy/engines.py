"""Which module converts to and runs each non-TensorFlow format.

  convert('onnx', net, 'int8', calibration, export_dir)
  engine = open_engine('onnx', export_dir, 'int8', threads=2)
  logits = engine.run(images)      # float32 preprocessed batch -> logits
  engine.input_shape, engine.output_shape     # [None, 224, 224, 3], [None, 5]

Each runtime's module is imported only when its format is used, so a
missing optional extra costs nothing until it is asked for.
"""

import importlib
import os

_MODULES = {'tflite': 'litert_format', 'onnx': 'onnx_format',
            'openvino': 'openvino_format'}
_RUNTIME_NAMES = {'tflite': 'LiteRT', 'onnx': 'ONNX Runtime',
                  'openvino': 'OpenVINO'}


def _module(format_name):
  """The converter-and-engine module of ``format_name``."""
  return importlib.import_module('resnet_v2.deploy.' + _MODULES[format_name])


def model_file(format_name) -> str:
  """The name of the model file an export of ``format_name`` holds."""
  return _module(format_name).MODEL_FILE


def bytes_per_parameter(format_name, precision) -> int:
  """Roughly the bytes an export of ``format_name`` needs per parameter."""
  return _module(format_name).BYTES_PER_PARAMETER[precision]


def convert(format_name, net, precision, calibration, export_dir) -> None:
  """Write the model file of ``net`` (a ``frozen.FrozenNet``) to export_dir.

  ``calibration`` (preprocessed float32 images) is used for int8 only.
  """
  _module(format_name).convert(net, precision, calibration, export_dir)


def error_reason(error) -> str:
  """The line of a runtime's error that says what went wrong.

  Runtimes wrap the reason in lines of where it was raised ("Exception
  from src/...:", "Graph execution error:", "Detected at node ...");
  those are skipped.
  """
  for line in str(error).splitlines():
    line = line.strip()
    if line and not line.endswith(':') and not line.startswith(
        ('Detected at node', 'Node:', '[[')):
      return line
  return type(error).__name__


def open_engine(format_name, export_dir, precision, threads):
  """An object whose ``run(images)`` returns the logits of the export.

  Raises:
    ValueError: naming the model file, if the runtime cannot read it (a
      damaged or foreign file).
  """
  module = _module(format_name)
  path = os.path.join(export_dir, module.MODEL_FILE)
  try:
    return module.Engine(path, precision, threads)
  except Exception as error:
    raise ValueError(
        '%r cannot be read by %s (%s): the file is damaged or is not a model '
        'of this export; export it again with python -m resnet_v2.export.'
        % (path, _RUNTIME_NAMES[format_name], error_reason(error))) from None
