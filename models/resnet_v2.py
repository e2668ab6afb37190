"""ResNet v2, pre-activation (arXiv:1603.05027), as research/slim built it: `resnet_v2_50` ...

    with slim.arg_scope(resnet_v2.resnet_arg_scope()):
      net, end_points = resnet_v2.resnet_v2_50(images, num_classes=1001, is_training=True)

Units normalize and activate their input first (`preact`), so the root convolution has
neither, and a final batch norm (`postnorm`) follows the last block.
"""
import tensorflow as tf

import slimdata as slim
from models import resnet_utils

resnet_arg_scope = resnet_utils.resnet_arg_scope

# Bottleneck units per block, per variant.
NUM_UNITS = {
    'resnet_v2_50': (3, 4, 6, 3),
    'resnet_v2_101': (3, 4, 23, 3),
    'resnet_v2_152': (3, 8, 36, 3),
    'resnet_v2_200': (3, 24, 36, 3),
}


@slim.add_arg_scope
def bottleneck(inputs, depth, depth_bottleneck, stride, rate=1, outputs_collections=None,
               scope=None):
  """Pre-activation bottleneck: BN+ReLU, then 1x1, 3x3 (strided), 1x1; plus the shortcut."""
  with tf.compat.v1.variable_scope(scope, 'bottleneck_v2', [inputs]) as sc:
    depth_in = inputs.shape[-1]
    preact = slim.batch_norm(inputs, activation_fn=tf.nn.relu, scope='preact')
    if depth == depth_in:
      shortcut = resnet_utils.subsample(inputs, stride, 'shortcut')
    else:
      shortcut = slim.conv2d(preact, depth, [1, 1], stride=stride, normalizer_fn=None,
                             activation_fn=None, scope='shortcut')
    residual = slim.conv2d(preact, depth_bottleneck, [1, 1], stride=1, scope='conv1')
    residual = resnet_utils.conv2d_same(residual, depth_bottleneck, 3, stride, rate=rate,
                                        scope='conv2')
    residual = slim.conv2d(residual, depth, [1, 1], stride=1, normalizer_fn=None,
                           activation_fn=None, scope='conv3')
    output = shortcut + residual
    return slim.utils.collect_named_outputs(outputs_collections, sc.name, output)


def resnet_v2(inputs, blocks, num_classes=None, is_training=True, global_pool=True,
              output_stride=None, include_root_block=True, spatial_squeeze=True, reuse=None,
              scope=None):
  """ResNet v2 from its blocks; arguments as `resnet_v1.resnet_v1`."""
  with tf.compat.v1.variable_scope(scope, 'resnet_v2', [inputs], reuse=reuse) as sc:
    end_points_collection = sc.original_name_scope + '_end_points'
    with slim.arg_scope([slim.conv2d, bottleneck, resnet_utils.stack_blocks_dense],
                        outputs_collections=end_points_collection):
      with slim.arg_scope([slim.batch_norm], is_training=is_training):
        net = inputs
        if include_root_block:
          if output_stride is not None:
            if output_stride % 4 != 0:
              raise ValueError(f'output_stride must be a multiple of 4, got {output_stride}')
            output_stride //= 4
          # No batch norm or activation here: the first unit's preact does both.
          with slim.arg_scope([slim.conv2d], activation_fn=None, normalizer_fn=None):
            net = resnet_utils.conv2d_same(net, 64, 7, stride=2, scope='conv1')
          net = slim.max_pool2d(net, [3, 3], stride=2, scope='pool1')
        net = resnet_utils.stack_blocks_dense(net, blocks, output_stride)
        # Units end without normalization, so the net's output gets it here.
        net = slim.batch_norm(net, activation_fn=tf.nn.relu, scope='postnorm')
        end_points = slim.utils.convert_collection_to_dict(end_points_collection)
        net = resnet_utils.classification_head(
            net, end_points, sc.name, num_classes=num_classes, global_pool=global_pool,
            spatial_squeeze=spatial_squeeze)
  return net, end_points


resnet_v2.default_image_size = 224


def _variant(name):
  """The public function for one depth: research/slim's signature, `scope=name`."""

  def network(inputs, num_classes=None, is_training=True, global_pool=True, output_stride=None,
              spatial_squeeze=True, reuse=None, scope=name):
    blocks = resnet_utils.bottleneck_blocks(bottleneck, NUM_UNITS[name])
    return resnet_v2(inputs, blocks, num_classes, is_training, global_pool=global_pool,
                     output_stride=output_stride, include_root_block=True,
                     spatial_squeeze=spatial_squeeze, reuse=reuse, scope=scope)

  network.__name__ = network.__qualname__ = name
  network.__doc__ = (f'{name}: bottleneck units per block {NUM_UNITS[name]}; '
                     'arguments as `resnet_v2`.')
  network.default_image_size = resnet_v2.default_image_size
  return network


resnet_v2_50 = _variant('resnet_v2_50')
resnet_v2_101 = _variant('resnet_v2_101')
resnet_v2_152 = _variant('resnet_v2_152')
resnet_v2_200 = _variant('resnet_v2_200')
