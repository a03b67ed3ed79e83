"""``precision``: which rewrite each precision asks for, and when it is refused.

Oracles: the fields of the ConfigProto, a hand-written /proc/cpuinfo, and
the dtypes of the ops TensorFlow actually runs after the bf16 rewrite.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from tensorflow.core.protobuf import rewriter_config_pb2

import resnet_v2
from resnet_v2.common import precision

ON = rewriter_config_pb2.RewriterConfig.ON
DEFAULT = rewriter_config_pb2.RewriterConfig.DEFAULT

needs_bf16 = pytest.mark.skipif(
    not (precision.cpu_supports_bf16() or precision.has_gpu()),
    reason='this machine has neither a GPU nor AVX512-BF16/AMX')


@pytest.fixture
def cpu_only(monkeypatch):
  """Pretend TensorFlow sees no GPU."""
  monkeypatch.setattr(precision, 'has_gpu', lambda: False)


def test_fp32_asks_for_no_rewrite(cpu_only):
  rewrites = resnet_v2.session_config('fp32').graph_options.rewrite_options
  assert rewrites.auto_mixed_precision_onednn_bfloat16 == DEFAULT
  assert rewrites.auto_mixed_precision == DEFAULT


def test_bf16_on_a_cpu_asks_for_the_onednn_bfloat16_rewrite(cpu_only):
  rewrites = resnet_v2.session_config('bf16').graph_options.rewrite_options
  assert rewrites.auto_mixed_precision_onednn_bfloat16 == ON
  assert rewrites.auto_mixed_precision == DEFAULT
  assert precision.compute_dtype('bf16') == tf.bfloat16


def test_bf16_on_a_gpu_asks_for_the_float16_rewrite(monkeypatch):
  monkeypatch.setattr(precision, 'has_gpu', lambda: True)
  rewrites = resnet_v2.session_config('bf16').graph_options.rewrite_options
  assert rewrites.auto_mixed_precision == ON
  assert rewrites.auto_mixed_precision_onednn_bfloat16 == DEFAULT
  assert precision.compute_dtype('bf16') == tf.float16


def test_threads_are_passed_through():
  config = resnet_v2.session_config(intra_op_threads=2, inter_op_threads=1)
  assert config.intra_op_parallelism_threads == 2
  assert config.inter_op_parallelism_threads == 1


def test_xla_sets_the_global_jit_level_and_the_cpu_flag(monkeypatch):
  monkeypatch.setenv('TF_XLA_FLAGS', '--tf_xla_auto_jit=0')
  config = resnet_v2.session_config(xla=True)
  assert (config.graph_options.optimizer_options.global_jit_level ==
          tf.OptimizerOptions.ON_1)
  assert os.environ['TF_XLA_FLAGS'].split() == [
      '--tf_xla_auto_jit=0', precision.XLA_CPU_JIT_FLAG]
  resnet_v2.session_config(xla=True)
  assert os.environ['TF_XLA_FLAGS'].count(precision.XLA_CPU_JIT_FLAG) == 1


XLA_PROBE = """
import tensorflow.compat.v1 as tf
from resnet_v2.common import precision
config = precision.session_config(xla=True)
precision.check_precision_supported('fp32')
with tf.Graph().as_default():
  images = tf.Variable(tf.ones([2, 8, 8, 3]))
  kernel = tf.Variable(tf.ones([3, 3, 3, 4]))
  output = tf.nn.relu(tf.nn.conv2d(images, kernel, 1, 'SAME') + 1.0)
  with tf.Session(config=config) as session:
    session.run(tf.global_variables_initializer())
    metadata = tf.RunMetadata()
    session.run(output, options=tf.RunOptions(output_partition_graphs=True),
                run_metadata=metadata)
print('_XlaRun' in {node.op for graph in metadata.partition_graphs
                    for node in graph.node})
"""


def test_xla_really_compiles_on_a_fresh_process():
  environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3')
  environment.pop('TF_XLA_FLAGS', None)
  finished = subprocess.run([sys.executable, '-c', XLA_PROBE],
                            capture_output=True, text=True, check=True,
                            env=environment, timeout=120)
  assert finished.stdout.strip().splitlines()[-1] == 'True'


@pytest.mark.parametrize('arguments, name', [
    (dict(precision='fp16'), 'precision'),
    (dict(intra_op_threads=-1), 'intra_op_threads'),
    (dict(inter_op_threads=1.5), 'inter_op_threads'),
    (dict(xla='yes'), 'xla'),
])
def test_bad_arguments_raise_a_value_error_naming_them(arguments, name):
  with pytest.raises(ValueError, match=name):
    resnet_v2.session_config(**arguments)


def test_cpu_flags_reads_the_flags_line(tmp_path):
  cpuinfo = tmp_path / 'cpuinfo'
  cpuinfo.write_text('processor\t: 0\nflags\t\t: fpu avx512f avx512_bf16\n'
                     'processor\t: 1\nflags\t\t: fpu\n')
  assert precision.cpu_flags(str(cpuinfo)) == {'fpu', 'avx512f',
                                               'avx512_bf16'}
  assert precision.cpu_flags(str(tmp_path / 'missing')) == set()


@pytest.mark.parametrize('flags, supported', [
    ({'avx512f', 'avx512_bf16'}, True),
    ({'amx_tile', 'amx_bf16'}, True),
    ({'avx512f', 'avx512_vnni'}, False),
])
def test_cpu_supports_bf16_needs_avx512_bf16_or_amx(flags, supported):
  assert precision.cpu_supports_bf16(flags) == supported


def test_bf16_is_refused_in_one_sentence_without_the_hardware(cpu_only,
                                                             monkeypatch):
  monkeypatch.setattr(precision, 'cpu_flags', lambda: {'avx2', 'avx512f'})
  resnet_v2.check_precision_supported('fp32')
  with pytest.raises(ValueError, match=r"^precision=bf16 needs a GPU or a CPU "
                     r"with AVX512-BF16 or AMX .*use precision='fp32'\.$"):
    resnet_v2.check_precision_supported('bf16')


def test_unknown_precision_is_refused():
  with pytest.raises(ValueError, match="'fp32', 'bf16'"):
    resnet_v2.check_precision_supported('int8')


@needs_bf16
def test_bf16_session_runs_the_convolutions_in_bfloat16():
  with tf.Graph().as_default():
    images = tf.placeholder(tf.float32, [2, 16, 16, 8])
    kernel = tf.constant(np.random.default_rng(1).normal(
        0, 0.1, (3, 3, 8, 16)).astype(np.float32))
    output = tf.nn.relu(tf.nn.conv2d(images, kernel, 1, 'SAME'))
    feed = {images: np.random.default_rng(0).uniform(
        -1, 1, (2, 16, 16, 8)).astype(np.float32)}
    metadata = tf.RunMetadata()
    with tf.Session(config=resnet_v2.session_config('bf16')) as reduced:
      bf16_value = reduced.run(
          output, feed, options=tf.RunOptions(output_partition_graphs=True),
          run_metadata=metadata)
    with tf.Session(config=resnet_v2.session_config('fp32')) as reference:
      fp32_value = reference.run(output, feed)
  dtypes = {node.attr['T'].type for graph in metadata.partition_graphs
            for node in graph.node if 'Conv2D' in node.op}
  assert dtypes == {tf.bfloat16.as_datatype_enum}
  assert bf16_value.dtype == np.float32
  np.testing.assert_allclose(bf16_value, fp32_value, atol=0.05)
  assert not np.array_equal(bf16_value, fp32_value)
