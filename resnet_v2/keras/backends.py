"""Which Keras backends the Keras 3 nets run on, checked before Keras loads.

  check_backend()           # ValueError unless KERAS_BACKEND can work
  BACKENDS                  # ('tensorflow', 'jax', 'torch')

Keras reads ``KERAS_BACKEND`` once, when it is first imported, and an
unknown or uninstalled backend then fails inside Keras with a message that
does not say which one would work or what to install.
"""

import importlib.util
import os
import sys

BACKENDS = ('tensorflow', 'jax', 'torch')
# The extra of resnet_v2 that installs each backend beyond TensorFlow.
_EXTRAS = {'jax': 'jax', 'torch': 'torch'}


def _installed(package):
  """Whether ``package`` can be imported."""
  return importlib.util.find_spec(package) is not None


def check_backend(backend=None) -> str:
  """The Keras backend to use; a ValueError saying what works otherwise.

  Args:
    backend: the backend's name; by default the one Keras runs (when it
      is already imported) or the one ``KERAS_BACKEND`` names, TensorFlow
      when unset.
  """
  if backend is None:
    keras = sys.modules.get('keras')
    backend = (keras.backend.backend() if keras is not None and
               hasattr(keras, 'backend') else
               os.environ.get('KERAS_BACKEND', 'tensorflow'))
  if backend not in BACKENDS:
    raise ValueError(
        'KERAS_BACKEND=%s: resnet_v2.keras runs on %s; set KERAS_BACKEND to '
        'one of them before Keras is first imported.'
        % (backend, ', '.join(BACKENDS)))
  if backend in _EXTRAS and not _installed(backend):
    raise ValueError(
        'KERAS_BACKEND=%s needs the %s package: pip install "resnet_v2[%s]".'
        % (backend, backend, _EXTRAS[backend]))
  return backend
