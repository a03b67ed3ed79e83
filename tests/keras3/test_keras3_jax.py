"""The Keras 3 nets on the jax backend: the shared tests of keras3_cases.

The oracle is TF-Slim's reference nets (and this package's graph builder
for the basic net), built in a TensorFlow graph; see keras3_oracle.
"""

from keras3_cases import *  # noqa: F401,F403  (the tests and fixtures)

BACKEND = 'jax'
