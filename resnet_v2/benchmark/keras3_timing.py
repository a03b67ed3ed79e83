"""Time the Keras 3 model on one backend next to the graph build.

  timings, setting = time_backend(spec, 'jax')   # in a process of its own
  # {'graph build (Session.run)': TimingResult,
  #  'resnet_v2.keras.ResNetV2 on jax': TimingResult}, 'jax.jit'

Keras picks its backend once per process, so each backend runs in a child
process (``python -m resnet_v2.benchmark.keras3_timing``, with
``KERAS_BACKEND`` set) that builds the graph build's step too and times
the two interleaved with ``timing.time_interleaved``: their ratio is then
free of the machine's drift. Each backend runs compiled the way it runs
fastest here: TensorFlow as a ``tf.function`` with XLA, JAX under
``jax.jit``, PyTorch eagerly (``torch.compile`` of the Keras model is not
tried). The step is the one the graph build
times: the inference logits, or the gradients of ``l2_loss(logits)`` for
every trainable weight with the batch-norm updates.
"""

import contextlib
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

from resnet_v2.benchmark import peers
from resnet_v2.benchmark import runner
from resnet_v2.benchmark import spec as spec_lib
from resnet_v2.benchmark import timing

SETTINGS = {'tensorflow': 'tf.function, jit_compile=True',
            'jax': 'jax.jit', 'torch': 'eager'}


def keras3_name(backend: str) -> str:
  """What the timing lines and tables call the Keras 3 step on ``backend``."""
  return 'resnet_v2.keras.ResNetV2 on %s (%s)' % (backend, SETTINGS[backend])


def _images(spec):
  """The random input batch, as numpy."""
  return np.random.default_rng(0).uniform(
      -1.0, 1.0, (spec.batch_size, spec.image_size, spec.image_size,
                  spec_lib.IMAGE_CHANNELS)).astype(np.float32)


def tensorflow_step(model, images, forward: bool, jit_compile=True):
  """The step of a Keras model (tf-keras or Keras 3) as a ``tf.function``.

  Args:
    model: called as ``model(images, training=...)``.
    images: the input batch, a non-trainable ``tf.Variable``.
    forward: the inference logits; else the gradients of their
      ``tf.nn.l2_loss`` for every trainable weight, with the batch-norm
      updates of a training-mode call.
    jit_compile: passed to ``tf.function`` (True: XLA).
  """
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  if forward:
    def step():
      return model(images, training=False)
  else:
    def step():
      with tf.GradientTape() as tape:
        loss = tf.nn.l2_loss(model(images, training=True))
      return tape.gradient(loss, model.trainable_variables)
  return tf.function(step, jit_compile=jit_compile)


def _jax_step(model, images, forward):
  """The step under ``jax.jit``, waiting for its result."""
  import jax  # pylint: disable=import-outside-toplevel
  images = jax.numpy.asarray(images)
  trainable = [v.value for v in model.trainable_variables]
  non_trainable = [v.value for v in model.non_trainable_variables]

  def logits(weights, statistics, training):
    return model.stateless_call(weights, statistics, images,
                                training=training)

  if forward:
    compiled = jax.jit(lambda w, s: logits(w, s, False)[0])
  else:
    def loss(weights, statistics):
      outputs, updated = logits(weights, statistics, True)
      return 0.5 * jax.numpy.sum(outputs ** 2), updated
    compiled = jax.jit(jax.grad(loss, has_aux=True))
  return lambda: jax.block_until_ready(compiled(trainable, non_trainable))


def _torch_step(model, images, forward):
  """The step in eager PyTorch."""
  import torch  # pylint: disable=import-outside-toplevel
  images = torch.from_numpy(images)
  if forward:
    def step():
      with torch.no_grad():
        return model(images, training=False)
  else:
    def step():
      model.zero_grad(set_to_none=True)
      (0.5 * (model(images, training=True) ** 2).sum()).backward()
  return step


def keras3_step(spec):
  """A zero-argument callable running the Keras 3 model as ``spec`` asks.

  The backend is the one Keras runs in this process; random weights, 1000
  classes, no weight decay (as the graph build times it).
  """
  import keras  # pylint: disable=import-outside-toplevel
  from resnet_v2 import keras as resnet_keras  # pylint: disable=C0415
  model = resnet_keras.ResNetV2(spec.model, peers.NUM_CLASSES,
                                weight_decay=0.0)
  images, forward = _images(spec), spec.mode == 'forward'
  backend = keras.backend.backend()
  if backend == 'tensorflow':
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    return tensorflow_step(model, tf.Variable(images, trainable=False),
                           forward)
  if backend == 'jax':
    return _jax_step(model, images, forward)
  return _torch_step(model, images, forward)


def time_here(spec, stream=None) -> dict:
  """Time the graph build and this process's Keras 3 backend, interleaved."""
  import keras  # pylint: disable=import-outside-toplevel
  backend = keras.backend.backend()
  with contextlib.ExitStack() as stack:
    print('Building the %s and the Keras 3 model on %s: %s %s...' % (
        runner.SESSION_STEP_NAME, backend, spec.model,
        spec.mode.replace('_', '-')), file=stream, flush=True)
    runner.apply_eager_options(spec, stream)
    steps = {runner.SESSION_STEP_NAME: runner.session_step(spec, stack),
             keras3_name(backend): keras3_step(spec)}
    return timing.time_interleaved(timing.CallRunner(), steps,
                                   spec.num_batches, spec.num_burn_in,
                                   stream=stream)


def time_backend(spec, backend: str, stream=None) -> dict:
  """``time_here`` in a child process on ``backend``; its ``TimingResult``s.

  The child's timing lines are printed to ``stream``.

  Raises:
    RuntimeError: if the child fails, with the end of its error output.
  """
  with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, 'timings.json')
    process = subprocess.run(
        [sys.executable, '-m', __name__, json.dumps(spec._asdict()), path],
        env=dict(os.environ, KERAS_BACKEND=backend), capture_output=True,
        text=True, check=False)
    print(process.stdout, end='', file=stream or sys.stdout, flush=True)
    if process.returncode:
      raise RuntimeError('timing the Keras 3 model on %s failed:\n%s'
                         % (backend, process.stderr[-2000:]))
    with open(path) as handle:
      return {name: timing.TimingResult(**fields)
              for name, fields in json.load(handle).items()}


def _main(spec_json, path):
  """The child process: ``time_here`` the spec, write the timings."""
  timings = time_here(spec_lib.BenchmarkSpec(**json.loads(spec_json)))
  with open(path, 'w') as handle:
    json.dump({name: result._asdict() for name, result in timings.items()},
              handle)


if __name__ == '__main__':
  _main(*sys.argv[1:])
