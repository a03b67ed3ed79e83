"""The export formats, the precisions each runtime runs, and their extras.

  spec = check_supported('onnx', 'int8')   # a Format, or one-line ValueError
  require_runtime(spec)                    # ValueError naming the pip command
  session_threads()                        # the cores every runtime gets

One table says which format runs on which runtime at which precision and
which optional extra installs it; the exporter, the loader, the benchmark
and their error messages all read it.
"""

import dataclasses
import importlib.util
import os
from typing import Tuple

from resnet_v2.common import precision as precision_lib

PRECISIONS = ('fp32', 'bf16', 'int8')


@dataclasses.dataclass(frozen=True)
class Format:
  """One export format.

  Attributes:
    name: the ``--format`` value.
    runtime: the runtime that serves it (the benchmark's ``--runtime``).
    precisions: the precisions the runtime computes in on a CPU.
    extra: the ``resnet_v2[...]`` extra that installs the runtime.
    modules: the optional Python modules the export and the runtime
      import (TensorFlow, always installed, is not listed).
  """
  name: str
  runtime: str
  precisions: Tuple[str, ...]
  extra: str
  modules: Tuple[str, ...]


FORMATS = {
    'saved_model': Format('saved_model', 'tf', ('fp32', 'bf16'), '', ()),
    'tflite': Format('tflite', 'litert', ('fp32', 'int8'), 'litert',
                     ('ai_edge_litert',)),
    'onnx': Format('onnx', 'onnxruntime', ('fp32', 'int8'), 'onnx',
                   ('onnxruntime', 'tf2onnx', 'onnx')),
    'openvino': Format('openvino', 'openvino', ('fp32', 'bf16', 'int8'),
                       'openvino', ('openvino', 'nncf')),
}
RUNTIMES = tuple(spec.runtime for spec in FORMATS.values())


def supported_text():
  """'saved_model: fp32, bf16; tflite: fp32, int8; ...' for error messages."""
  return '; '.join('%s (%s): %s' % (spec.name, spec.runtime,
                                     ', '.join(spec.precisions))
                   for spec in FORMATS.values())


def get_format(name) -> Format:
  """The ``Format`` called ``name``; ValueError listing the formats."""
  if name not in FORMATS:
    raise ValueError('format must be one of %s; got %r.'
                     % (', '.join(FORMATS), name))
  return FORMATS[name]


def format_for_runtime(runtime) -> Format:
  """The ``Format`` a runtime serves; ValueError listing the runtimes."""
  for spec in FORMATS.values():
    if spec.runtime == runtime:
      return spec
  raise ValueError('runtime must be one of %s; got %r.'
                   % (', '.join(RUNTIMES), runtime))


def check_supported(name, precision) -> Format:
  """The ``Format`` for ``name`` if it runs at ``precision`` here.

  bf16 also needs a CPU with AVX512-BF16 or AMX: without them every
  runtime would emulate it, slower than fp32.

  Raises:
    ValueError: for an unknown format or precision, a combination the
      runtime lacks (listing those it has), or bf16 on a CPU without it.
  """
  spec = get_format(name)
  if precision not in PRECISIONS:
    raise ValueError('precision must be one of %s; got %r.'
                     % (', '.join(PRECISIONS), precision))
  if precision not in spec.precisions:
    raise ValueError('format %s does not support precision %s; supported: %s.'
                     % (name, precision, supported_text()))
  if precision == 'bf16':
    precision_lib.check_precision_supported('bf16')
  return spec


def missing_modules(spec: Format):
  """The modules of ``spec`` that are not installed, in table order."""
  return [module for module in spec.modules
          if importlib.util.find_spec(module) is None]


def require_runtime(spec: Format) -> None:
  """Raise a ValueError naming the pip command if ``spec`` cannot run here."""
  missing = missing_modules(spec)
  if missing:
    raise ValueError('format %s needs %s, which is not installed: pip install '
                     '"resnet_v2[%s]"' % (spec.name, ', '.join(missing),
                                          spec.extra))


def session_threads() -> int:
  """The cores this process may run on: every runtime gets that many
  threads for one inference, so none looks fast or slow by its defaults."""
  return len(os.sched_getaffinity(0))
