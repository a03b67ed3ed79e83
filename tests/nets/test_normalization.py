"""The three batch-norm modes: same variables, and the statistics each uses.

Oracle: ``slim.batch_norm`` itself (the 'local' mode), run on the same
weights and batch in training and in inference mode.
"""

import zlib

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
import tf_slim as slim

import resnet_v2
from resnet_v2.nets import normalization

from conftest import max_relative_difference
from conftest import random_images
from conftest import variable_signature


def _build(mode, images, is_training=True):
  """resnet_v2_18's logits in ``mode``, in the default graph."""
  network_fn = resnet_v2.get_network_fn('resnet_v2_18', 4,
                                        is_training=is_training)
  with slim.arg_scope([normalization.batch_norm], mode=mode):
    logits, _ = network_fn(tf.constant(images))
  return logits


def _fill(session, seed):
  """Give every variable values that depend only on its name and ``seed``.

  Both builds then hold the same weights and statistics, whatever order or
  ops their variables were created with.
  """
  for variable in tf.global_variables():
    name = variable.op.name
    rng = np.random.default_rng(seed + zlib.crc32(name.encode()))
    shape = variable.shape.as_list()
    if 'moving_variance' in name or 'gamma' in name:
      value = rng.uniform(0.5, 1.5, shape)
    else:
      value = rng.uniform(-0.2, 0.2, shape)
    variable.load(value.astype(np.float32), session)


def _run(mode, images, is_training=True, seed=3):
  """Logits, and every moving statistic after one update, for ``mode``."""
  with tf.Graph().as_default():
    logits = _build(mode, images, is_training)
    updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    moving = [v for v in tf.global_variables() if 'moving' in v.op.name]
    with tf.Session() as session:
      session.run(tf.global_variables_initializer())
      _fill(session, seed)
      values = session.run(logits)
      session.run(updates)
      return values, session.run(moving), variable_signature()


@pytest.fixture(scope='module')
def images():
  return random_images(4, 64, 64, seed=5)


@pytest.fixture(scope='module')
def runs(images):
  """``_run`` of each (mode, is_training) pair, computed once."""
  cache = {}

  def run(mode, is_training=True):
    if (mode, is_training) not in cache:
      cache[mode, is_training] = _run(mode, images, is_training)
    return cache[mode, is_training]

  return run


@pytest.mark.parametrize('mode', ['sync', 'frozen'])
def test_every_mode_builds_the_same_variables(runs, mode):
  assert runs(mode)[2] == runs('local')[2]


def test_sync_on_one_replica_is_slim_batch_norm(runs):
  local_logits, local_moving, _ = runs('local')
  sync_logits, sync_moving, _ = runs('sync')
  assert max_relative_difference(sync_logits, local_logits) < 1e-4
  for sync, local in zip(sync_moving, local_moving):
    np.testing.assert_allclose(sync, local, rtol=1e-4, atol=1e-5)


def test_sync_in_inference_uses_the_moving_averages(runs):
  assert max_relative_difference(runs('sync', False)[0],
                                 runs('local', False)[0]) < 1e-5


def test_frozen_uses_and_keeps_the_moving_averages(runs, images):
  frozen_logits, frozen_moving, _ = runs('frozen')
  inference_logits, initial_moving, _ = runs('local', False)
  assert max_relative_difference(frozen_logits, inference_logits) < 1e-6
  with tf.Graph().as_default():
    _build('local', images, is_training=False)
    assert not tf.get_collection(tf.GraphKeys.UPDATE_OPS)
  for frozen, initial in zip(frozen_moving, initial_moving):
    np.testing.assert_array_equal(frozen, initial)


def test_an_unknown_mode_names_the_choices(images):
  with tf.Graph().as_default():
    with pytest.raises(ValueError, match="batch_norm must be one of local, "
                       "sync, frozen; got 'global'"):
      _build('global', images)
