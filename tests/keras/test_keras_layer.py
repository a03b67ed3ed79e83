"""The Keras layer against its oracle, the graph build of the same net.

One checkpoint per model is written by the TF1 graph build (random weights,
random batch-norm statistics); the layer restores it by name and must give
the graph's logits, end_points, batch-norm updates and regularization loss.
"""

import functools

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

import resnet_v2
from conftest import max_relative_difference
from conftest import random_images
from conftest import randomize_variables
from resnet_v2 import tf_keras as resnet_keras
from resnet_v2.nets import checkpoints

NUM_CLASSES = 7
WEIGHT_DECAY = 1e-4
TOLERANCE = 1e-4

# A bottleneck, a basic and a v1 net, each at the smallest side that still
# leaves a 2x2 map for the last block.
SIZES = {'resnet_v2_50': 64, 'resnet_v2_18': 32, 'resnet_v1_50': 64}


def _moving_statistics(variables):
  """``{name: value}`` of the batch-norm moving averages among ``variables``."""
  return {checkpoints.variable_name(v): np.array(v.read_value())
          for v in variables if 'moving_' in v.name}


@functools.lru_cache(maxsize=None)
def graph_run(model, checkpoint_dir):
  """Build ``model`` in a graph, write a checkpoint, record what it computes.

  Returns a dict: the checkpoint, the images, the variable and trainable
  names, the inference end_points (logits under 'logits'), the training
  mode logits, the moving averages after one training step's updates, and
  the regularization loss.
  """
  images = random_images(2, SIZES[model], SIZES[model], seed=len(model))
  with tf.Graph().as_default():
    network_fn = resnet_v2.get_network_fn(model, NUM_CLASSES,
                                          weight_decay=WEIGHT_DECAY)
    logits, end_points = network_fn(tf.constant(images))
    training_logits, _ = network_fn(tf.constant(images), is_training=True,
                                    reuse=True)
    updates = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)
    regularization = tf.compat.v1.losses.get_regularization_loss()
    variables = tf.compat.v1.global_variables()
    checkpoint = '%s/%s.ckpt' % (checkpoint_dir, model)
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      randomize_variables(session, seed=len(model))
      tf.compat.v1.train.Saver().save(session, checkpoint)
      inference = session.run(dict(end_points, logits=logits))
      training, regularization, _ = session.run(
          [training_logits, regularization, updates])
      updated = session.run({v.op.name: v for v in variables
                             if 'moving_' in v.op.name})
    return {
        'checkpoint': checkpoint, 'images': images,
        'names': {v.op.name for v in variables},
        'trainable': {v.op.name for v in
                      tf.compat.v1.trainable_variables()},
        'inference': inference, 'training': training, 'updated': updated,
        'regularization': regularization}


@pytest.fixture(scope='module')
def checkpoint_dir(tmp_path_factory):
  """Where the graph builds write their checkpoints, once per module."""
  return str(tmp_path_factory.mktemp('graph_checkpoints'))


@functools.lru_cache(maxsize=None)
def restored_layer(model, checkpoint_dir):
  """A layer of ``model`` built eagerly and given the graph's checkpoint."""
  run = graph_run(model, checkpoint_dir)
  layer = resnet_keras.ResNetV2(model, NUM_CLASSES, weight_decay=WEIGHT_DECAY)
  layer(run['images'])
  resnet_keras.load_slim_checkpoint(layer, run['checkpoint'])
  return layer


@pytest.mark.parametrize('model', sorted(SIZES))
def test_variable_names_are_the_graph_builds(model, checkpoint_dir):
  run = graph_run(model, checkpoint_dir)
  layer = restored_layer(model, checkpoint_dir)
  names = {checkpoints.variable_name(v) for v in layer.variables}
  assert names == run['names']
  assert {checkpoints.variable_name(v)
          for v in layer.trainable_variables} == run['trainable']


@pytest.mark.parametrize('model', sorted(SIZES))
def test_logits_and_end_points_equal_the_graph_builds(model, checkpoint_dir):
  run = graph_run(model, checkpoint_dir)
  layer = restored_layer(model, checkpoint_dir)
  logits, end_points = layer(run['images'], return_end_points=True)
  expected = dict(run['inference'])
  assert max_relative_difference(logits.numpy(),
                                 expected.pop('logits')) <= TOLERANCE
  assert set(end_points) == set(expected)
  for name, value in expected.items():
    assert max_relative_difference(end_points[name].numpy(),
                                   value) <= TOLERANCE, name


@pytest.mark.parametrize('model', sorted(SIZES))
def test_training_uses_batch_statistics_and_updates_the_averages(
    model, checkpoint_dir):
  run = graph_run(model, checkpoint_dir)
  layer = resnet_keras.ResNetV2(model, NUM_CLASSES)
  layer(run['images'])
  resnet_keras.load_slim_checkpoint(layer, run['checkpoint'])
  restored = _moving_statistics(layer.variables)
  layer(run['images'], training=False)
  for name, value in _moving_statistics(layer.variables).items():
    np.testing.assert_array_equal(value, restored[name], err_msg=name)
  logits = layer(run['images'], training=True)
  assert max_relative_difference(logits.numpy(), run['training']) <= TOLERANCE
  for name, value in _moving_statistics(layer.variables).items():
    assert not np.array_equal(value, restored[name]), name
    np.testing.assert_allclose(value, run['updated'][name], rtol=1e-4,
                               atol=1e-6, err_msg=name)


def test_the_regularization_losses_are_the_graph_builds(checkpoint_dir):
  run = graph_run('resnet_v2_18', checkpoint_dir)
  layer = restored_layer('resnet_v2_18', checkpoint_dir)
  weights = [v for v in layer.trainable_variables
             if v.name.endswith('/weights:0')]
  assert len(layer.losses) == len(weights)
  np.testing.assert_allclose(float(tf.add_n(layer.losses)),
                             run['regularization'], rtol=1e-5)


def test_inside_a_tf_function_it_matches_eager_and_makes_no_variables(
    checkpoint_dir):
  run = graph_run('resnet_v2_18', checkpoint_dir)
  layer = restored_layer('resnet_v2_18', checkpoint_dir)
  before = [v.ref() for v in layer.variables]
  logits = tf.function(lambda images: layer(images))(run['images'])
  assert max_relative_difference(logits.numpy(),
                                 run['inference']['logits']) <= TOLERANCE
  layer(run['images'][:1])
  assert [v.ref() for v in layer.variables] == before


def test_every_trainable_variable_gets_a_gradient():
  layer = resnet_keras.ResNetV2('resnet_v2_18', NUM_CLASSES)

  @tf.function
  def gradients(images):
    with tf.GradientTape() as tape:
      loss = tf.nn.l2_loss(layer(images, training=True)) + tf.add_n(
          layer.losses)
    return tape.gradient(loss, layer.trainable_variables)

  values = gradients(random_images(2, 32, 32))
  assert len(values) == len(layer.trainable_variables) > 0
  for variable, gradient in zip(layer.trainable_variables, values):
    assert gradient is not None, variable.name
    assert np.any(gradient.numpy() != 0), variable.name


def test_eager_calls_leave_the_global_graph_collections_alone():
  graph = tf.compat.v1.get_default_graph()
  layer = resnet_keras.ResNetV2('resnet_v2_18', NUM_CLASSES)
  layer(random_images(1, 32, 32))
  sizes = {key: len(graph.get_collection(key))
           for key in graph.get_all_collection_keys()}
  layer(random_images(1, 32, 32), training=True)
  assert {key: len(graph.get_collection(key))
          for key in graph.get_all_collection_keys()} == sizes


def test_fit_trains_a_sequential_model_with_the_regularization_loss():
  tf_keras.utils.set_random_seed(0)
  model = tf_keras.Sequential([
      tf_keras.Input((32, 32, 3)),
      resnet_keras.ResNetV2('resnet_v2_18', 3, weight_decay=1e-2,
                            batch_norm_decay=0.9)])
  loss = tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True)
  model.compile(tf_keras.optimizers.SGD(0.01), loss)
  images, labels = random_images(8, 32, 32), np.arange(8) % 3
  before = [v.numpy() for v in model.variables]
  model.fit(images, labels, batch_size=4, epochs=1, verbose=0)
  for old, variable in zip(before, model.variables):
    assert not np.array_equal(old, variable.numpy()), variable.name
  expected = float(loss(labels, model(images, training=False))
                   + tf.add_n(model.losses))
  np.testing.assert_allclose(model.evaluate(images, labels, verbose=0),
                             expected, rtol=1e-4)


def test_a_functional_model_gets_the_backbone_levels_from_end_points():
  inputs = tf_keras.Input((64, 64, 3))
  features, end_points = resnet_keras.ResNetV2(
      'resnet_v2_18', global_pool=False)(inputs, return_end_points=True)
  units = resnet_v2.feature_units('resnet_v2_18')
  levels = [end_points['resnet_v2_18/%s/basic_v2' % unit]
            for unit in units.values()] + [features]
  outputs = tf_keras.Model(inputs, levels)(random_images(2, 64, 64))
  assert [output.shape.as_list() for output in outputs] == [
      [2, 16, 16, 64], [2, 8, 8, 128], [2, 4, 4, 256], [2, 2, 2, 512]]


def test_the_layer_round_trips_through_its_config():
  layer = resnet_keras.ResNetV2('resnet_v1_50', None, global_pool=False,
                                output_stride=16, weight_decay=0.0)
  clone = resnet_keras.ResNetV2.from_config(layer.get_config())
  assert clone.get_config() == layer.get_config()


def test_an_unknown_model_lists_the_registered_ones():
  with pytest.raises(ValueError, match='resnet_v2_50, resnet_v2_101'):
    resnet_keras.ResNetV2('resnet_v2_51')


def test_the_eager_graph_builder_error_names_the_layer():
  with pytest.raises(RuntimeError, match=r'resnet_v2\.keras\.ResNetV2'):
    resnet_v2.resnet_v2_18(tf.zeros([1, 32, 32, 3]), NUM_CLASSES)
