"""Timing the nets: the classic protocol, the matmul peak, the peers, reports.

  spec = benchmark.BenchmarkSpec(model='resnet_v2_50', compare=True)
  result = benchmark.run_benchmark(spec)
  print(benchmark.sweep_table([result]))
"""

from resnet_v2.benchmark.matmul_peak import measure_matmul_peak
from resnet_v2.benchmark.report import sweep_table
from resnet_v2.benchmark.runner import run_benchmark
from resnet_v2.benchmark.runner import run_sweep
from resnet_v2.benchmark.spec import BenchmarkResult
from resnet_v2.benchmark.spec import BenchmarkSpec
from resnet_v2.benchmark.timing import time_interleaved
from resnet_v2.benchmark.timing import time_tensorflow_run
from resnet_v2.benchmark.timing import TimingResult

__all__ = [
    'BenchmarkResult', 'BenchmarkSpec', 'TimingResult',
    'measure_matmul_peak', 'run_benchmark', 'run_sweep', 'sweep_table',
    'time_interleaved', 'time_tensorflow_run',
]
