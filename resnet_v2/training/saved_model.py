"""Export a trained checkpoint as a self-contained SavedModel.

The SavedModel holds the inference graph with its preprocessing (central
crop, resize, scaling to [-1, 1]) and two signatures:

* ``serving_default``: ``images`` uint8 ``[batch, height, width, 3]``;
* ``serving_float``: ``images`` float32 ``[batch, height, width, 3]`` in
  [0, 1].

Both return ``probabilities`` ``[batch, classes]``, ``classes`` (int64 class
ids) and ``class_names`` (the predicted class names), and the full list of
class names is also written to ``assets.extra/labels.txt``. The graph is
plain TensorFlow ops, so ``tf.saved_model.load`` runs it in TF2 eager code
without tf-slim or this package installed.
"""

import os

import tensorflow.compat.v1 as tf
import tf_slim as slim

from resnet_v2.common import checks
from resnet_v2.data import preprocessing
from resnet_v2.nets import checkpoints
from resnet_v2.training import run_dir

DEFAULT_SIGNATURE = 'serving_default'
FLOAT_SIGNATURE = 'serving_float'
LABELS_FILE = os.path.join('assets.extra', 'labels.txt')


def _checked(images):
  """``images``, once the model has checked them, with errors that say why.

  Every signature refuses an empty batch; the float one also refuses NaN
  or infinite pixels and pixels outside [0, 1] (uint8 pixels divided by
  255), which would otherwise give confident nonsense, not an error.
  """
  checks = [tf.debugging.assert_positive(
      tf.shape(images)[0], message='images is an empty batch: pass at least '
      'one [height, width, 3] image')]
  if images.dtype.is_floating:
    finite = tf.debugging.Assert(
        tf.reduce_all(tf.math.is_finite(images)),
        ['images hold NaN or infinite pixels: pass pixels in [0, 1]'])
    with tf.control_dependencies([finite]):
      checks.append(tf.debugging.Assert(
          tf.logical_and(tf.reduce_all(images >= 0.0),
                         tf.reduce_all(images <= 1.0)),
          ['images must be in [0, 1] for serving_float: divide uint8 pixels '
           'by 255.0, or pass them as uint8 to serving_default']))
  with tf.control_dependencies(checks):
    return tf.identity(images)


def _prediction_outputs(images, network_fn, trained, reuse):
  """The serving outputs for a batch of raw ``images``."""
  inputs = preprocessing.eval_image(_checked(images),
                                    trained.record['image_size'],
                                    trained.record['central_fraction'],
                                    trained.value_range)
  logits, _ = network_fn(inputs, reuse=reuse)
  probabilities = tf.nn.softmax(logits)
  classes = tf.argmax(probabilities, axis=1)
  names = tf.gather(tf.constant(trained.class_names), classes)
  return {'probabilities': probabilities, 'classes': classes,
          'class_names': names}


def _signature(images, outputs):
  """A predict SignatureDef from ``images`` to ``outputs``."""
  return tf.saved_model.predict_signature_def(inputs={'images': images},
                                              outputs=outputs)


def check_export_dir(export_dir, name='export_dir'):
  """Raise unless ``export_dir`` is new or an empty folder.

  ``name`` is the flag the message names (another output folder can use
  the same check).
  """
  if not export_dir:
    raise ValueError('%s is empty: pass the folder to write the export to.'
                     % name)
  if os.path.exists(export_dir) and (not os.path.isdir(export_dir) or
                                     os.listdir(export_dir)):
    raise ValueError('%s %r already exists and is not empty: pass a new '
                     'folder (nothing is overwritten).' % (name, export_dir))
  checks.check_writable(name, export_dir)


def export_saved_model(train_dir, export_dir, checkpoint_path=None):
  """Write the SavedModel of ``train_dir``'s latest (or given) checkpoint.

  Args:
    train_dir: the folder a training run wrote (its run record names the
      model, classes and input size).
    export_dir: a new or empty folder for the SavedModel.
    checkpoint_path: a checkpoint prefix; the newest in train_dir if None.

  Returns:
    The checkpoint prefix that was exported.

  Raises:
    ValueError: if train_dir has no run record or checkpoint, or
      export_dir is not empty.
  """
  trained = run_dir.open_run(train_dir, checkpoint_path)
  check_export_dir(export_dir)
  with tf.Graph().as_default():
    network_fn = trained.network_fn()
    uint8_images = tf.placeholder(tf.uint8, [None, None, None, 3], 'images')
    float_images = tf.placeholder(tf.float32, [None, None, None, 3],
                                  'float_images')
    signatures = {
        DEFAULT_SIGNATURE: _signature(
            uint8_images,
            _prediction_outputs(uint8_images, network_fn, trained, reuse=None)),
        FLOAT_SIGNATURE: _signature(
            float_images,
            _prediction_outputs(float_images, network_fn, trained, reuse=True)),
    }
    restore, _ = checkpoints.restore_fn(trained.checkpoint,
                                        slim.get_model_variables())
    with tf.Session() as session:
      restore(session)
      builder = tf.saved_model.Builder(export_dir)
      builder.add_meta_graph_and_variables(
          session, [tf.saved_model.SERVING], signature_def_map=signatures,
          strip_default_attrs=True)
      builder.save()
  _write_labels(export_dir, trained.class_names)
  return trained.checkpoint


def _write_labels(export_dir, class_names):
  """Write one class name per line, in label order, beside the SavedModel."""
  path = os.path.join(export_dir, LABELS_FILE)
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, 'w') as f:
    f.write(''.join(name + '\n' for name in class_names))
