"""The small nets the Keras 3 tests build, shared by the oracle and the checks.

Three nets a quarter of the standard width with two units per block: a
pre-activation bottleneck, a pre-activation basic and a v1 net. Each is a
``ModelSpec`` the Keras process registers, and the oracle builds the same
net in a TensorFlow graph under the same scope.
"""

from resnet_v2.nets import registry

NETS = {
    'bottleneck': registry.ModelSpec('resnet_v2_26_quarter', 26, 'bottleneck',
                                     width_multiplier=0.25),
    'basic': registry.ModelSpec('resnet_v2_18_quarter', 18, 'basic',
                                width_multiplier=0.25),
    'v1': registry.ModelSpec('resnet_v1_26_quarter', 26, 'bottleneck_v1',
                             width_multiplier=0.25),
}
NUM_CLASSES = 5
OUTPUT_STRIDES = (None, 8, 16)
# The strides every backend is compared at; the oracle also has None.
DENSE_STRIDES = (8, 16)
# Odd sides, so that every strided layer meets an odd and an even input.
IMAGE_SHAPE = (2, 37, 37, 3)
TOLERANCE = 1e-4


def register_nets():
  """Put the test nets in the model table (in a process of their own)."""
  for spec in NETS.values():
    registry.add(spec)


def outputs_key(kind, output_stride):
  """The name a net's outputs at ``output_stride`` are stored under."""
  return '%s/os%s' % (kind, output_stride)
