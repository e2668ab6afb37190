"""ResNet v1 (arXiv:1512.03385) as research/slim built it: `resnet_v1_50/101/152/200`.

    with slim.arg_scope(resnet_v1.resnet_arg_scope()):
      net, end_points = resnet_v1.resnet_v1_50(images, num_classes=1000, is_training=True)
    end_points['resnet_v1_50/block4']     # end points are named by scope

Variants differ only in how many bottleneck units each of the four blocks holds
(`NUM_UNITS`). As in research/slim, each block's stride sits on its last unit.
"""
import tensorflow as tf

import slimdata as slim
from models import resnet_utils

resnet_arg_scope = resnet_utils.resnet_arg_scope

# Bottleneck units per block, per variant.
NUM_UNITS = {
    'resnet_v1_50': (3, 4, 6, 3),
    'resnet_v1_101': (3, 4, 23, 3),
    'resnet_v1_152': (3, 8, 36, 3),
    'resnet_v1_200': (3, 24, 36, 3),
}


@slim.add_arg_scope
def bottleneck(inputs, depth, depth_bottleneck, stride, rate=1, outputs_collections=None,
               scope=None, use_bounded_activations=False):
  """Bottleneck unit: 1x1 reduce, 3x3 (strided), 1x1 expand, plus the shortcut; then ReLU.

  With `use_bounded_activations`, the residual is clipped to [-6, 6] and ReLU6 is used, for
  quantized inference.
  """
  with tf.compat.v1.variable_scope(scope, 'bottleneck_v1', [inputs]) as sc:
    depth_in = inputs.shape[-1]
    if depth == depth_in:
      shortcut = resnet_utils.subsample(inputs, stride, 'shortcut')
    else:
      shortcut = slim.conv2d(inputs, depth, [1, 1], stride=stride,
                             activation_fn=tf.nn.relu6 if use_bounded_activations else None,
                             scope='shortcut')
    residual = slim.conv2d(inputs, depth_bottleneck, [1, 1], stride=1, scope='conv1')
    residual = resnet_utils.conv2d_same(residual, depth_bottleneck, 3, stride, rate=rate,
                                        scope='conv2')
    residual = slim.conv2d(residual, depth, [1, 1], stride=1, activation_fn=None, scope='conv3')
    if use_bounded_activations:
      output = tf.nn.relu6(shortcut + tf.clip_by_value(residual, -6.0, 6.0))
    else:
      output = tf.nn.relu(shortcut + residual)
    return slim.utils.collect_named_outputs(outputs_collections, sc.name, output)


def resnet_v1(inputs, blocks, num_classes=None, is_training=True, global_pool=True,
              output_stride=None, include_root_block=True, spatial_squeeze=True,
              store_non_strided_activations=False, reuse=None, scope=None):
  """ResNet v1 from its blocks: root (7x7/2 conv, 3x3/2 pool), blocks, pool, 1x1 logits.

  Args:
    inputs: float `[batch, height, width, 3]`.
    blocks: list of `resnet_utils.Block`.
    num_classes: logits per image; 0 or None returns the features.
    is_training: whether batch norm is in training mode.
    global_pool: average the last block over space.
    output_stride: wanted ratio of input to output size (atrous convolution below it).
    include_root_block: start with the 7x7 convolution and max pool.
    spatial_squeeze: squeeze the logits to `[batch, num_classes]`.
    store_non_strided_activations: see `resnet_utils.stack_blocks_dense`.
    reuse: reuse the variables of an earlier call (needs `scope`).
    scope: variable scope.

  Returns:
    `(net, end_points)`; end points are keyed by scope name, plus `global_pool` and
    `predictions`.
  """
  with tf.compat.v1.variable_scope(scope, 'resnet_v1', [inputs], reuse=reuse) as sc:
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
          net = resnet_utils.conv2d_same(net, 64, 7, stride=2, scope='conv1')
          net = slim.max_pool2d(net, [3, 3], stride=2, scope='pool1')
        net = resnet_utils.stack_blocks_dense(net, blocks, output_stride,
                                              store_non_strided_activations)
        end_points = slim.utils.convert_collection_to_dict(end_points_collection)
        net = resnet_utils.classification_head(
            net, end_points, sc.name, num_classes=num_classes, global_pool=global_pool,
            spatial_squeeze=spatial_squeeze)
  return net, end_points


resnet_v1.default_image_size = 224


def _variant(name):
  """The public function for one depth: research/slim's signature, `scope=name`."""

  def network(inputs, num_classes=None, is_training=True, global_pool=True, output_stride=None,
              spatial_squeeze=True, store_non_strided_activations=False, min_base_depth=8,
              depth_multiplier=1, reuse=None, scope=name):
    depth = lambda d: max(int(d * depth_multiplier), min_base_depth)
    blocks = resnet_utils.bottleneck_blocks(
        bottleneck, NUM_UNITS[name], base_depths=[depth(d) for d in (64, 128, 256, 512)])
    return resnet_v1(inputs, blocks, num_classes, is_training, global_pool=global_pool,
                     output_stride=output_stride, include_root_block=True,
                     spatial_squeeze=spatial_squeeze,
                     store_non_strided_activations=store_non_strided_activations,
                     reuse=reuse, scope=scope)

  network.__name__ = network.__qualname__ = name
  network.__doc__ = (f'{name}: bottleneck units per block {NUM_UNITS[name]}; '
                     'arguments as `resnet_v1` (depths scaled by `depth_multiplier`, '
                     'at least `min_base_depth`).')
  network.default_image_size = resnet_v1.default_image_size
  return network


resnet_v1_50 = _variant('resnet_v1_50')
resnet_v1_101 = _variant('resnet_v1_101')
resnet_v1_152 = _variant('resnet_v1_152')
resnet_v1_200 = _variant('resnet_v1_200')
