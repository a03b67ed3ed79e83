"""The nets as Keras 3 models, on TensorFlow, JAX or PyTorch.

  from resnet_v2 import keras as resnet_keras
  model = resnet_keras.ResNetV2('resnet_v2_50', num_classes=1001,
                                weights='imagenet')
  model.fit(images, labels)                        # any Keras backend
  resnet_keras.save_slim_checkpoint(model, 'tuned/model.ckpt')

``ResNetV2`` builds any registered model (v2 18 to 200, wide, v1) from the
same Block spec as the graph builder, with its options (``output_stride``,
``global_pool``, ...), its end_points and C2..C5 levels
(``returns='end_points'`` or ``'features'``) and TF-Slim's weight names
(``slim_name``), so ``load_slim_checkpoint`` and ``save_slim_checkpoint``
move weights between this model and TF-Slim's checkpoints. The code uses
``keras.layers`` and ``keras.ops`` only: set ``KERAS_BACKEND`` to
tensorflow, jax or torch before Keras is first imported. For
``tf.distribute`` training, ``resnet_v2.tf_keras`` holds the tf-keras
(Keras 2) layer the trainer uses.
"""

from resnet_v2.keras import backends

backends.check_backend()

# pylint: disable=wrong-import-position
from resnet_v2.keras.checkpoints import load_slim_checkpoint  # noqa: E402
from resnet_v2.keras.checkpoints import save_slim_checkpoint  # noqa: E402
from resnet_v2.keras.checkpoints import slim_variables  # noqa: E402
from resnet_v2.keras.layers import slim_name  # noqa: E402
from resnet_v2.keras.model import ResNetV2  # noqa: E402
from resnet_v2.keras.model import RETURNS  # noqa: E402

backends.check_backend()

__all__ = ['RETURNS', 'ResNetV2', 'load_slim_checkpoint',
           'save_slim_checkpoint', 'slim_name', 'slim_variables']
