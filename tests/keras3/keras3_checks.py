"""Every Keras 3 check on one backend, run in a process of its own.

  KERAS_BACKEND=jax python keras3_checks.py ORACLE.json RESULT.json

ORACLE.json names the oracle's checkpoints, its outputs (npz) and a
scratch folder. The checks run in one process per backend, since Keras
picks its backend once, at import; each writes what it measured to
RESULT.json, and the tests assert on that.
"""

import json
import os
import sys
import time

import numpy as np

import keras
import resnet_v2
from resnet_v2 import keras as resnet_keras
from resnet_v2.nets import analysis

from keras3_nets import IMAGE_SHAPE
from keras3_nets import NETS
from keras3_nets import NUM_CLASSES
from keras3_nets import DENSE_STRIDES
from keras3_nets import outputs_key
from keras3_nets import register_nets

BACKEND = keras.backend.backend()
# XLA compiles a TensorFlow train step for longer than the few steps here
# run; JAX always compiles ('auto'), PyTorch does not.
JIT_COMPILE = False if BACKEND == 'tensorflow' else 'auto'

if BACKEND == 'torch':
  import torch  # pylint: disable=import-error
  # oneDNN's convolutions cost ~50 ms each at these tiny sizes on an AVX2
  # CPU (a 2x256x4x4 input, 3x3 kernel), PyTorch's own ~1 ms.
  torch.backends.mkldnn.enabled = False


def relative(actual, expected):
  """Largest |actual - expected| relative to the largest |expected|."""
  actual = np.asarray(keras.ops.convert_to_numpy(actual))
  return float(np.max(np.abs(actual.reshape(expected.shape) - expected)) /
               np.max(np.abs(expected)))


def infer(model, images):
  """``model``'s inference outputs: compiled once under JAX, else eager.

  Eager JAX compiles every operation for every new shape, so one compiled
  ``predict`` is faster there; eager calls are faster on the others.
  """
  if BACKEND == 'jax':
    return model.predict(images, verbose=0)
  return model(images)


def numpy_weights(model):
  """Every weight of ``model`` as numpy, by TF-Slim name."""
  return {name: keras.ops.convert_to_numpy(weight.value)
          for name, weight in resnet_keras.slim_variables(model).items()}


def graph_outputs(oracle, key):
  """``{end_point or 'net': value}`` the graph build gave for ``key``."""
  prefix = key + '|'
  return {name[len(prefix):]: oracle[name] for name in oracle.files
          if name.startswith(prefix)}


def check_outputs(oracle, checkpoints, images):
  """Each net at output strides 8 and 16 against the graph build's outputs.

  The nominal stride is the round trip's start (``check_round_trip``).
  """
  results = {}
  for kind, spec in NETS.items():
    for output_stride in DENSE_STRIDES:
      model = resnet_keras.ResNetV2(spec.name, NUM_CLASSES,
                                    output_stride=output_stride,
                                    returns='end_points')
      resnet_keras.load_slim_checkpoint(model, checkpoints[kind])
      keras_outputs = infer(model, images)
      expected = graph_outputs(oracle, outputs_key(kind, output_stride))
      logits = expected.pop('net')
      shared = sorted(set(expected) & set(keras_outputs))
      differences = {name: relative(keras_outputs[name], expected[name])
                     for name in shared}
      results[outputs_key(kind, output_stride)] = {
          'logits': relative(keras_outputs[spec.name + '/logits'], logits),
          'end_points': max(differences.values()),
          'worst_end_point': max(differences, key=differences.get),
          'compared': len(shared),
          'missing': sorted(set(expected) - set(keras_outputs)),
          'extra': sorted(set(keras_outputs) - set(expected)),
          'weights': len(model.weights),
          'graph_variables': int(oracle['variables|' + kind]),
      }
  return results


def check_features(oracle, checkpoints, images):
  """C2..C5 of the bottleneck net at output stride 16."""
  spec = NETS['bottleneck']
  model = resnet_keras.ResNetV2(spec.name, output_stride=16,
                                returns='features',
                                weights=checkpoints['bottleneck'])
  features = infer(model, images)
  expected = graph_outputs(oracle, outputs_key('bottleneck', 16))
  units = resnet_v2.feature_units(spec.name)
  return {
      'shapes': {level: list(value.shape) for level, value in features.items()},
      'differences': {
          level: relative(features[level], expected[
              '%s/%s/bottleneck_v2' % (spec.name, unit)])
          for level, unit in units.items()},
  }


def check_moving_averages(oracle, checkpoints, images):
  """A training-mode call updates the statistics as TF-Slim's step did."""
  spec = NETS['bottleneck']
  model = resnet_keras.ResNetV2(spec.name, NUM_CLASSES,
                                weights=checkpoints['bottleneck'])
  before = numpy_weights(model)
  model(images, training=True)
  trained = numpy_weights(model)
  model(images, training=False)
  after_inference = numpy_weights(model)
  moving = [name for name in trained if 'moving_' in name]
  return {
      'compared': len(moving),
      'difference': max(relative(trained[name], oracle['moving|' + name])
                        for name in moving),
      'changed': sum(not np.array_equal(before[name], trained[name])
                     for name in moving),
      'changed_by_inference': sum(
          not np.array_equal(trained[name], after_inference[name])
          for name in trained),
  }


def _gradients(model, images):
  """The gradient of ``sum(logits ** 2)`` for every trainable weight."""
  if BACKEND == 'tensorflow':
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    with tf.GradientTape() as tape:
      loss = tf.reduce_sum(tf.square(model(images)))
    return [np.asarray(grad) for grad in
            tape.gradient(loss, model.trainable_variables)]
  if BACKEND == 'jax':
    import jax  # pylint: disable=import-outside-toplevel

    def loss(trainable):
      logits, _ = model.stateless_call(
          trainable, [v.value for v in model.non_trainable_variables],
          images)
      return jax.numpy.sum(logits ** 2)
    return [np.asarray(grad) for grad in jax.jit(jax.grad(loss))(
        [v.value for v in model.trainable_variables])]
  loss = (model(images) ** 2).sum()
  loss.backward()
  return [v.value.grad.numpy() for v in model.trainable_variables]


def check_gradients(images):
  """Every trainable weight gets a finite, non-zero gradient.

  Batch norm runs in inference mode: in training mode a bias followed only
  by batch norm has a zero gradient in exact arithmetic.
  """
  model = resnet_keras.ResNetV2(NETS['basic'].name, NUM_CLASSES)
  gradients = _gradients(model, images)
  return {
      'trainable': len(model.trainable_variables),
      'nonzero': sum(bool(np.all(np.isfinite(grad)) and np.any(grad != 0))
                     for grad in gradients),
  }


def tiny_set(count=24, size=32, classes=3):
  """Images whose class is their brightness, and the labels."""
  rng = np.random.default_rng(0)
  labels = np.arange(count) % classes
  levels = np.linspace(-0.8, 0.8, classes)[labels]
  images = levels[:, None, None, None] + rng.normal(
      0.0, 0.1, (count, size, size, 3))
  return images.astype(np.float32), labels


def check_fit(folder):
  """``fit`` lowers the loss; the penalty is TF-Slim's; files round-trip."""
  images, labels = tiny_set()
  model = resnet_keras.ResNetV2(NETS['basic'].name, 3, batch_norm_decay=0.9)
  convs = [w for name, w in numpy_weights(model).items()
           if name.endswith('/weights')]
  penalty = sum(1e-4 * float(np.sum(w.astype(np.float64) ** 2)) / 2
                for w in convs)
  keras_penalty = float(sum(keras.ops.convert_to_numpy(loss)
                            for loss in model.losses))
  model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9),
                loss=keras.losses.SparseCategoricalCrossentropy(
                    from_logits=True), jit_compile=JIT_COMPILE)
  history = model.fit(images, labels, batch_size=8, epochs=4, verbose=0,
                      shuffle=False)
  keras_path = os.path.join(folder, 'model.keras')
  model.save(keras_path)
  reloaded = keras.models.load_model(keras_path)
  h5_path = os.path.join(folder, 'model.weights.h5')
  model.save_weights(h5_path)
  fresh = resnet_keras.ResNetV2(NETS['basic'].name, 3, batch_norm_decay=0.9)
  fresh.load_weights(h5_path)
  trained = numpy_weights(model)

  def same_weights(other):
    weights = numpy_weights(other)
    return sorted(weights) == sorted(trained) and all(
        np.array_equal(weights[name], trained[name]) for name in trained)

  return {
      'losses': [float(loss) for loss in history.history['loss']],
      'penalties': [len(model.losses), len(convs)],
      'penalty': [keras_penalty, penalty],
      'keras_file_class': type(reloaded).__name__,
      'keras_file_weights': same_weights(reloaded),
      'weights_file_weights': same_weights(fresh),
  }


def check_round_trip(oracle, checkpoints, images, folder):
  """``weights=``, one step, then the checkpoint under TF-Slim's names.

  The bottleneck net starts from the oracle's checkpoint (its logits are
  compared with the graph build's), takes one SGD step and is saved with
  ``save_slim_checkpoint``; its logits after the step are kept for the
  graph build to compare with after a restore.
  """
  spec = NETS['bottleneck']
  model = resnet_keras.ResNetV2(spec.name, NUM_CLASSES,
                                weights=checkpoints['bottleneck'])
  model.compile(optimizer=keras.optimizers.SGD(0.1),
                loss=keras.losses.SparseCategoricalCrossentropy(
                    from_logits=True), jit_compile=JIT_COMPILE)
  start = model.predict(images, verbose=0)
  before = numpy_weights(model)
  model.train_on_batch(images, np.arange(len(images)) % NUM_CLASSES)
  prefix = resnet_keras.save_slim_checkpoint(
      model, os.path.join(folder, 'round_trip', 'model.ckpt'))
  logits_path = os.path.join(folder, 'round_trip_logits.npy')
  np.save(logits_path, model.predict(images, verbose=0))
  after = numpy_weights(model)
  return {'start_shape': list(start.shape),
          'start': relative(start, oracle[
              '%s|net' % outputs_key('bottleneck', None)]),
          'checkpoint': prefix, 'logits': logits_path,
          'changed': sum(not np.array_equal(before[name], after[name])
                         for name in after),
          'weights': len(after)}


def _message(build):
  """The message of the ValueError ``build()`` raises, or what it did."""
  try:
    build()
  except ValueError as error:
    return 'ValueError: ' + str(error)
  except Exception as error:  # pylint: disable=broad-except
    return 'other %s: %s' % (type(error).__name__, error)
  return 'no error'


def check_bad_input():
  """What each kind of bad input is told."""
  model = resnet_keras.ResNetV2(NETS['basic'].name, NUM_CLASSES)
  good = np.zeros((1, 32, 32, 3), np.float32)
  return {
      'rank': _message(lambda: model(good[0])),
      'channels': _message(lambda: model(np.zeros((1, 32, 32, 4),
                                                  np.float32))),
      'integers': _message(lambda: model(good.astype(np.uint8))),
      'integers_predict': _message(
          lambda: model.predict(good.astype(np.int32), verbose=0)),
      'too_small': _message(lambda: model(good[:, :16, :16])),
      'model_name': _message(lambda: resnet_keras.ResNetV2('resnet_v2_51')),
      'output_stride': _message(lambda: resnet_keras.ResNetV2(
          NETS['basic'].name, output_stride=12)),
      'input_shape': _message(lambda: resnet_keras.ResNetV2(
          NETS['basic'].name, input_shape=(8, 8, 3))),
  }


def check_registered_models():
  """``{name: [params, describe's params, weights]}`` of a model per unit kind.

  The published basic and v1 nets and the wide v2 net, built inside a
  stateless scope, so that no weight is allocated.
  """
  counts = {}
  for name in ('resnet_v2_34', 'resnet_v2_50_w2', 'resnet_v1_50'):
    with keras.StatelessScope():
      model = resnet_keras.ResNetV2(name, 1000)
    counts[name] = [model.count_params(),
                    analysis.describe(name, num_classes=1000).total_params,
                    len(model.weights)]
  return counts


def check_export(images, folder):
  """The TensorFlow SavedModel export, called back through TensorFlow."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  model = resnet_keras.ResNetV2(NETS['basic'].name, NUM_CLASSES)
  path = os.path.join(folder, 'saved_model')
  model.export(path, format='tf_saved_model', verbose=False)
  exported = tf.saved_model.load(path)
  served = exported.serve(tf.constant(images))
  return {'difference': relative(served.numpy(),
                                 model.predict(images, verbose=0))}


def main(oracle_json, result_json):
  """Run every check; write the results as JSON."""
  with open(oracle_json) as handle:
    config = json.load(handle)
  register_nets()
  keras.utils.set_random_seed(0)
  oracle = np.load(config['outputs'])
  images = oracle['images']
  assert images.shape == IMAGE_SHAPE
  checkpoints = config['checkpoints']
  folder = os.path.join(config['scratch'], BACKEND)
  os.makedirs(folder)
  checks = {
      'outputs': lambda: check_outputs(oracle, checkpoints, images),
      'features': lambda: check_features(oracle, checkpoints, images),
      'moving_averages': lambda: check_moving_averages(oracle, checkpoints,
                                                       images),
      'gradients': lambda: check_gradients(images),
      'fit': lambda: check_fit(folder),
      'round_trip': lambda: check_round_trip(oracle, checkpoints, images,
                                            folder),
      'bad_input': check_bad_input,
  }
  if BACKEND == 'tensorflow':
    checks['registered_models'] = check_registered_models
    checks['export'] = lambda: check_export(images, folder)
  results = {'backend': BACKEND, 'seconds': {}}
  for name, check in checks.items():
    start = time.perf_counter()
    results[name] = check()
    results['seconds'][name] = round(time.perf_counter() - start, 1)
  with open(result_json, 'w') as handle:
    json.dump(results, handle, indent=1)


if __name__ == '__main__':
  main(*sys.argv[1:])
