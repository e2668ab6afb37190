"""Slim's layers, one module per concept, all re-exported here (and by `slimdata`).

    import slimdata as slim
    net = slim.conv2d(images, 32, [3, 3], scope='conv1')
    net = slim.max_pool2d(net, [2, 2], scope='pool1')

Modules: `conv` (convolutions), `pooling`, `normalization` (batch_norm,
layer_norm), `core` (fully_connected, dropout, flatten, ...), `composition`
(repeat, stack). Variable and scope names are TF-Slim's, so checkpoints
interchange with `tf.contrib.slim` / `tf_slim` models.
"""
from slimdata.layers import composition
from slimdata.layers import conv
from slimdata.layers import core
from slimdata.layers import normalization
from slimdata.layers import pooling
from slimdata.layers.composition import *  # pylint: disable=wildcard-import
from slimdata.layers.conv import *  # pylint: disable=wildcard-import
from slimdata.layers.core import *  # pylint: disable=wildcard-import
from slimdata.layers.normalization import *  # pylint: disable=wildcard-import
from slimdata.layers.pooling import *  # pylint: disable=wildcard-import

__all__ = (composition.__all__ + conv.__all__ + core.__all__ + normalization.__all__ +
           pooling.__all__)
