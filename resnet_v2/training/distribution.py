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
import select
import signal
from typing import Optional

import tensorflow as tf

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


def _arm_watchdog(timeout, message):
  """Fork a process that ends this one unless disarmed within ``timeout``.

  ``MultiWorkerMirroredStrategy``'s constructor waits for every worker
  without a limit and without letting Python run (no thread or signal
  handler of this process gets a turn), so the watchdog must be another
  process. On timeout it prints ``error: message`` on the shared stderr
  and kills this process (exit status 137 in a shell); if this process
  ends first, the watchdog sees its pipe close and exits quietly.

  Returns:
    ``(watchdog pid, pipe)`` for ``_disarm``.
  """
  read_end, write_end = os.pipe()
  pid = os.fork()
  if pid == 0:
    os.close(write_end)
    ready, _, _ = select.select([read_end], [], [], timeout)
    if not ready:
      os.write(2, ('error: %s\n' % message).encode())
      os.kill(os.getppid(), signal.SIGKILL)
    os._exit(0)  # pylint: disable=protected-access
  os.close(read_end)
  return pid, write_end


def _disarm(watchdog):
  """Tell the watchdog the workers met, and reap it."""
  pid, pipe = watchdog
  os.write(pipe, b'ready')
  os.close(pipe)
  os.waitpid(pid, 0)


def _multi_worker(timeout):
  """MultiWorkerMirroredStrategy; this process ends if it takes ``timeout``."""
  cluster = read_cluster()['cluster']
  message = ('the workers of TF_CONFIG (%s) did not all start within %g s: '
             'start the same command on every machine of the cluster, check '
             'the addresses and ports, or raise --worker_timeout.'
             % (', '.join(sum((cluster.get(r) or [] for r in _ROLES), [])),
                timeout))
  watchdog = _arm_watchdog(timeout, message)
  try:
    return tf.distribute.MultiWorkerMirroredStrategy()
  finally:
    _disarm(watchdog)


def create_strategy(name: str, timeout: float = 300.0,
                    cpu_replicas: int = 0) -> tf.distribute.Strategy:
  """The strategy ``name`` of ``STRATEGIES`` (see the module docstring).

  Call this before any other TensorFlow work: collective communication
  and the CPU's logical devices can only be configured at start-up.

  Raises:
    ValueError: for an unknown name or a bad TF_CONFIG.

  If the other workers of a multi-worker cluster do not all start within
  ``timeout`` seconds, this process prints one ``error:`` line and is
  killed (see ``_arm_watchdog``): nothing has been written by then.
  """
  check_strategy(name)
  if name == 'multi_worker':
    read_cluster()
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
