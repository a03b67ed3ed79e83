"""The oracle of the Keras 3 tests: checkpoints and outputs of graph builds.

The bottleneck and v1 nets are TF-Slim's own reference nets
(``tf_slim.nets.resnet_v2.resnet_v2`` / ``resnet_v1`` with TF-Slim's
blocks); the basic net, which TF-Slim lacks, is this package's graph
builder. Each is built in a ``tf.Graph`` with random weights, biases and
batch-norm statistics, saved once (V2 prefix, V1 single file, folder with
a state file) and run at every output stride on one batch, in inference
mode; the bottleneck net also runs one training-mode step, whose updated
moving averages are kept.
"""

import os

import numpy as np
import tensorflow as tf
import tf_slim as slim
from tf_slim.nets import resnet_utils as slim_utils
from tf_slim.nets import resnet_v1 as slim_resnet_v1
from tf_slim.nets import resnet_v2 as slim_resnet_v2

from keras3_nets import IMAGE_SHAPE
from keras3_nets import NETS
from keras3_nets import NUM_CLASSES
from keras3_nets import OUTPUT_STRIDES
from keras3_nets import outputs_key
from resnet_v2.nets import arg_scope
from resnet_v2.nets import layouts
from resnet_v2.nets import resnet

def images():
  """The one input batch every build and every backend runs on."""
  return np.random.default_rng(7).uniform(-1.0, 1.0, IMAGE_SHAPE).astype(
      np.float32)


def _slim_blocks(kind):
  """TF-Slim's own Blocks for a net of ``NETS``."""
  spec = NETS[kind]
  make = (slim_resnet_v2.resnet_v2_block if spec.pre_activation
          else slim_resnet_v1.resnet_v1_block)
  return [make(scope, base_depth=args[0]['depth'] // 4, num_units=len(args),
               stride=args[-1]['stride'])
          for scope, args in spec.block_unit_args()]


def build(kind, inputs, output_stride=None, is_training=False, reuse=None,
          package=False):
  """``(net, end_points)`` of the reference build of ``kind``.

  TF-Slim's net, or with ``package`` (always for the basic net) this
  package's graph builder.
  """
  spec = NETS[kind]
  if package or kind == 'basic':
    with slim.arg_scope(arg_scope.resnet_arg_scope()):
      return resnet.resnet_v2(
          inputs, layouts.blocks_for_depth(spec.depth, spec.unit,
                                           spec.width_multiplier),
          NUM_CLASSES, is_training=is_training, output_stride=output_stride,
          reuse=reuse, scope=spec.name)
  network = (slim_resnet_v2.resnet_v2 if spec.pre_activation
             else slim_resnet_v1.resnet_v1)
  with slim.arg_scope(slim_utils.resnet_arg_scope()):
    return network(inputs, _slim_blocks(kind), NUM_CLASSES,
                   is_training=is_training, output_stride=output_stride,
                   reuse=reuse, scope=spec.name)


def _randomize(session, seed):
  """Random biases and batch-norm variables (fresh ones are 0 and 1).

  Fed to the variables' initializers, so that one run sets them all.
  """
  rng = np.random.default_rng(seed)
  feeds = {}
  for variable in tf.compat.v1.global_variables():
    name, shape = variable.op.name, variable.shape.as_list()
    if name.endswith(('moving_variance', 'gamma')):
      feeds[variable] = rng.uniform(0.5, 1.5, shape)
    elif name.endswith(('moving_mean', 'beta', 'biases')):
      feeds[variable] = rng.uniform(-0.2, 0.2, shape)
  session.run([variable.initializer for variable in feeds],
              {variable.initializer.inputs[1]: value.astype(np.float32)
               for variable, value in feeds.items()})


def _save(kind, session, folder):
  """Save the graph's variables in ``kind``'s format.

  Returns:
    ``(prefix, path)``: what a ``Saver`` restores, and the path the Keras
    model is given: the file, the prefix or the folder.
  """
  os.makedirs(folder)
  prefix = os.path.join(folder, 'model.ckpt')
  if kind == 'v1':
    saver = tf.compat.v1.train.Saver(
        write_version=tf.compat.v1.train.SaverDef.V1)
    saver.save(session, prefix, write_state=False, write_meta_graph=False)
    return prefix, prefix
  tf.compat.v1.train.Saver().save(session, prefix, write_meta_graph=False)
  return prefix, folder if kind == 'basic' else prefix


def _run(session, net, end_points, feed):
  """``{'net': ..., <end_point>: ...}`` as numpy."""
  return session.run(dict(end_points, net=net), feed)


def write_oracle(folder):
  """Write every net's checkpoint and outputs under ``folder``.

  Returns:
    ``(checkpoints, outputs_path)``: ``{kind: path to load}`` and the npz
    of outputs, keyed ``'<kind>/os<stride>|<end_point or net>'``, plus
    ``'moving|<variable>'`` of the bottleneck's training step and
    ``'variables|<kind>'`` (the graph's variable count).
  """
  batch = images()
  outputs = {'images': batch}
  checkpoints, prefixes = {}, {}
  for kind in NETS:
    for output_stride in OUTPUT_STRIDES:
      with tf.Graph().as_default():
        inputs = tf.compat.v1.placeholder(tf.float32, IMAGE_SHAPE)
        net, end_points = build(kind, inputs, output_stride)
        with tf.compat.v1.Session() as session:
          if output_stride is None:
            session.run(tf.compat.v1.global_variables_initializer())
            _randomize(session, seed=len(checkpoints))
            prefixes[kind], checkpoints[kind] = _save(
                kind, session, os.path.join(folder, kind))
            outputs['variables|' + kind] = len(
                tf.compat.v1.global_variables())
          else:
            tf.compat.v1.train.Saver().restore(session, prefixes[kind])
          key = outputs_key(kind, output_stride)
          for name, value in _run(session, net, end_points,
                                  {inputs: batch}).items():
            outputs['%s|%s' % (key, name)] = value
          if kind == 'bottleneck' and output_stride is None:
            outputs.update(_training_step(kind, inputs, session, batch))
  path = os.path.join(folder, 'outputs.npz')
  np.savez(path, **outputs)
  return checkpoints, path


def _training_step(kind, inputs, session, batch):
  """The moving averages after one training-mode step on ``batch``."""
  build(kind, inputs, is_training=True, reuse=True)
  session.run(tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS),
              {inputs: batch})
  return {'moving|' + variable.op.name: session.run(variable)
          for variable in tf.compat.v1.global_variables()
          if 'moving_' in variable.op.name}


def logits_after_restore(kind, checkpoint, batch, package=False):
  """The logits on ``batch`` of ``build(kind, package=package)`` restored
  from ``checkpoint`` with a plain ``Saver``."""
  with tf.Graph().as_default():
    inputs = tf.compat.v1.placeholder(tf.float32, batch.shape)
    net, _ = build(kind, inputs, package=package)
    with tf.compat.v1.Session() as session:
      tf.compat.v1.train.Saver().restore(session, checkpoint)
      return session.run(net, {inputs: batch})
