"""Which ``tf.distribute`` strategy a run uses, and this process's part in it.

  cluster = read_cluster('multi_worker')           # TF_CONFIG, checked
  strategy = create_strategy('multi_worker', timeout=120)
  is_chief(strategy)                               # writes the real files

'default' runs on one device; 'mirrored' is ``MirroredStrategy`` over the
local GPUs (or, with ``cpu_replicas``, over that many slices of the CPU);
'multi_worker' is ``MultiWorkerMirroredStrategy`` over the processes that
the standard ``TF_CONFIG`` environment variable lists. Everything that can
be checked without the network is checked before the strategy starts, so
a bad setting fails with one message instead of a hang.
"""

import json
import os
from typing import Optional

import tensorflow as tf
from tensorflow.compiler.xla.tsl.protobuf import coordination_config_pb2
from tensorflow.python.distribute import multi_worker_util
from tensorflow.python.eager import context

STRATEGIES = ('default', 'mirrored', 'multi_worker')
TF_CONFIG = 'TF_CONFIG'
_ROLES = ('chief', 'worker')

_EXAMPLE = ('TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", '
            '"host2:12345"]}, "task": {"type": "worker", "index": 0}}\'')


def check_strategy(name: str) -> None:
  """Raise a ValueError unless ``name`` is one of ``STRATEGIES``."""
  if name not in STRATEGIES:
    raise ValueError('strategy must be one of %s; got %r.'
                     % (', '.join(STRATEGIES), name))


def _cluster_error(problem):
  """The ValueError for a TF_CONFIG that cannot work."""
  return ValueError('--strategy=multi_worker: %s. Set TF_CONFIG on every '
                    'machine, differing only in the task index, e.g. %s'
                    % (problem, _EXAMPLE))


def read_cluster(environ=None) -> dict:
  """The parsed, checked ``TF_CONFIG`` of a multi-worker run.

  Raises:
    ValueError: if TF_CONFIG is unset, not JSON, lists no workers, or
      names a task that is not in the cluster; the message shows a
      TF_CONFIG that works.
  """
  text = (os.environ if environ is None else environ).get(TF_CONFIG)
  if not text:
    raise _cluster_error('TF_CONFIG is not set')
  try:
    config = json.loads(text)
  except ValueError as error:
    raise _cluster_error('TF_CONFIG is not valid JSON (%s)' % error) from None
  cluster = config.get('cluster') if isinstance(config, dict) else None
  if not isinstance(cluster, dict) or not any(
      isinstance(cluster.get(role), list) and cluster[role]
      for role in _ROLES):
    raise _cluster_error('TF_CONFIG has no "cluster" with a "worker" list')
  task = config.get('task')
  if not isinstance(task, dict) or task.get('type') not in _ROLES:
    raise _cluster_error('TF_CONFIG\'s "task" must have a "type" of %s'
                         % ' or '.join(_ROLES))
  members = cluster.get(task['type']) or []
  index = task.get('index')
  if not isinstance(index, int) or isinstance(index, bool) or not (
      0 <= index < len(members)):
    raise _cluster_error('task index %r is not in the cluster\'s %d %s '
                         'address(es)' % (index, len(members), task['type']))
  return config


def cluster_size(config: dict) -> int:
  """How many processes (chief and workers) a checked TF_CONFIG lists."""
  return sum(len(config['cluster'].get(role) or []) for role in _ROLES)


def _mirrored(cpu_replicas):
  """MirroredStrategy over the GPUs, or over ``cpu_replicas`` CPU slices."""
  if cpu_replicas and not tf.config.list_physical_devices('GPU'):
    cpu = tf.config.list_physical_devices('CPU')[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * cpu_replicas)
    devices = ['/cpu:%d' % index for index in range(cpu_replicas)]
    return tf.distribute.MirroredStrategy(
        devices, cross_device_ops=tf.distribute.ReductionToOneDevice())
  return tf.distribute.MirroredStrategy()


def _limit_registration(config, timeout):
  """Make the strategy's constructor give up after ``timeout`` seconds.

  ``MultiWorkerMirroredStrategy``'s constructor waits for every worker in
  TensorFlow's coordination service, holding Python's interpreter lock,
  so no Python thread, timer or signal handler of this process runs
  until it returns; by default it waits without a limit. Configuring the
  coordination service first, as the strategy would (the same leader and
  jobs), plus a registration barrier of ``timeout``, makes the constructor
  raise ``DeadlineExceededError`` instead; the strategy keeps a service
  that is already configured.
  """
  cluster = tf.train.ClusterSpec(config['cluster'])
  runtime = context.context()
  runtime.configure_coordination_service(
      service_type='standalone',
      service_leader=multi_worker_util.coordination_leader(cluster),
      coordinated_jobs=[
          coordination_config_pb2.CoordinatedJob(
              name=job, num_tasks=cluster.num_tasks(job))
          for job in _ROLES if job in cluster.jobs],
      cluster_register_timeout_in_ms=int(timeout * 1000))
  runtime.coordination_service.cluster_register_with_barrier = True


def _multi_worker(timeout):
  """MultiWorkerMirroredStrategy, or a ValueError after ``timeout`` seconds."""
  config = read_cluster()
  cluster = config['cluster']
  _limit_registration(config, timeout)
  try:
    return tf.distribute.MultiWorkerMirroredStrategy()
  except (tf.errors.DeadlineExceededError, tf.errors.UnavailableError):
    raise ValueError(
        'the workers of TF_CONFIG (%s) did not all start within %g s: start '
        'the same command on every machine of the cluster, check the '
        'addresses and ports, or raise --worker_timeout; nothing was written.'
        % (', '.join(sum((cluster.get(r) or [] for r in _ROLES), [])),
           timeout)) from None


def create_strategy(name: str, timeout: float = 300.0,
                    cpu_replicas: int = 0) -> tf.distribute.Strategy:
  """The strategy ``name`` of ``STRATEGIES`` (see the module docstring).

  Call this before any other TensorFlow work: collective communication
  and the CPU's logical devices can only be configured at start-up.

  Raises:
    ValueError: for an unknown name, a bad TF_CONFIG, or when the other
      workers of a multi-worker cluster do not all start within
      ``timeout`` seconds (see ``_limit_registration``); nothing has been
      written by then.
  """
  check_strategy(name)
  if name == 'multi_worker':
    return _multi_worker(timeout)
  if name == 'mirrored':
    return _mirrored(cpu_replicas)
  return tf.distribute.get_strategy()


def task(strategy: tf.distribute.Strategy) -> Optional[tuple]:
  """``(type, index)`` of this process in a multi-worker cluster, else None."""
  resolver = getattr(strategy, 'cluster_resolver', None)
  if resolver is None or not resolver.task_type:
    return None
  return resolver.task_type, resolver.task_id


def is_chief(strategy: tf.distribute.Strategy) -> bool:
  """Whether this process writes the run's checkpoints, summaries and record.

  The 'chief' task when the cluster has one, else worker 0; a single
  process is its own chief.
  """
  role = task(strategy)
  if role is None:
    return True
  cluster = strategy.cluster_resolver.cluster_spec().as_dict()
  if 'chief' in cluster:
    return role[0] == 'chief'
  return role == ('worker', 0)
