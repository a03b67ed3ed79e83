"""The layer under MirroredStrategy, with replicas meeting mid-forward.

A synchronised batch norm makes the replica threads meet (a cross-replica
call) while they build the net. tf_keras' own variable store swaps itself
out when the first replica leaves, so the others then fail to find their
variables; the layer's store must keep every replica building. The run
needs two logical CPU devices, which a process must set up before anything
else, so it runs in a fresh interpreter.
"""

import json
import pathlib
import subprocess
import sys

from conftest import random_images
from resnet_v2 import tf_keras as resnet_keras

ROOT = pathlib.Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json
import os
os.environ['TF_CPP_MIN_LOG_LEVEL'] = '2'
import tensorflow as tf
cpu = tf.config.list_physical_devices('CPU')[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from resnet_v2 import tf_keras as resnet_keras


def meet_other_replicas(getter, name, *args, **kwargs):
  variable = getter(name, *args, **kwargs)
  if name.endswith('block1/unit_1/basic_v2/conv1/weights'):
    tf.distribute.get_replica_context().merge_call(lambda strategy: None)
  return variable


class Synchronised(resnet_keras.ResNetV2):
  def call(self, images, training=False):
    with tf.compat.v1.variable_scope(tf.compat.v1.get_variable_scope(),
                                     custom_getter=meet_other_replicas):
      return super().call(images, training=training)


strategy = tf.distribute.MirroredStrategy(['/cpu:0', '/cpu:1'])
with strategy.scope():
  layer = Synchronised('resnet_v2_18', 5)
images = tf.random.uniform([4, 32, 32, 3])
batches = strategy.experimental_distribute_values_from_function(
    lambda context: images[2 * context.replica_id_in_sync_group:][:2])
step = tf.function(
    lambda batch: strategy.run(lambda x: layer(x, training=True), (batch,)))
logits = strategy.experimental_local_results(step(batches))
print(json.dumps({
    'names': sorted(v.name for v in layer.variables),
    'types': sorted({type(v).__name__ for v in layer.variables}),
    'shapes': [list(value.shape) for value in logits]}))
"""


def test_replicas_that_meet_mid_forward_all_build_the_net():
  completed = subprocess.run(
      [sys.executable, '-c', SCRIPT], cwd=ROOT, capture_output=True,
      text=True, timeout=300, check=False)
  assert completed.returncode == 0, completed.stderr[-3000:]
  result = json.loads(completed.stdout.strip().splitlines()[-1])
  layer = resnet_keras.ResNetV2('resnet_v2_18', 5)
  layer(random_images(1, 32, 32))
  assert result['names'] == sorted(v.name for v in layer.variables)
  assert result['shapes'] == [[2, 5], [2, 5]]
  assert set(result['types']) <= {'MirroredVariable', 'SyncOnReadVariable'}
