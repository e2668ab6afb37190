"""What ResNet v1 and v2 share: blocks of units, SAME-like strided convolution, arg_scope.

    blocks = [Block('block1', bottleneck, [{'depth': 256, 'depth_bottleneck': 64,
                                            'stride': 1}] * 2 + [{..., 'stride': 2}])]
    net = stack_blocks_dense(net, blocks, output_stride=16)

research/slim's resnet_utils, with its names: a unit's variables live under
`<block>/unit_<i>/<unit scope>/` (`resnet_v1_50/block1/unit_1/bottleneck_v1/conv1/weights`).
"""
import collections

import tensorflow as tf

import slimdata as slim


class Block(collections.namedtuple('Block', ['scope', 'unit_fn', 'args'])):
  """A ResNet block: `unit_fn` applied once per dict of keyword arguments in `args`."""


def subsample(inputs, factor, scope=None):
  """Spatial subsampling by `factor` (a 1x1 max pool), or `inputs` when factor is 1."""
  if factor == 1:
    return inputs
  return slim.max_pool2d(inputs, [1, 1], stride=factor, scope=scope)


def conv2d_same(inputs, num_outputs, kernel_size, stride, rate=1, scope=None):
  """A strided convolution padded independently of the input size.

  `padding='SAME'` with stride > 1 pads differently for even and odd inputs; padding
  explicitly and then convolving 'VALID' gives the same alignment for every size, which
  the published checkpoints were trained with.
  """
  if stride == 1:
    return slim.conv2d(inputs, num_outputs, kernel_size, stride=1, rate=rate, padding='SAME',
                       scope=scope)
  kernel_size_effective = kernel_size + (kernel_size - 1) * (rate - 1)
  pad_total = kernel_size_effective - 1
  pad_beg = pad_total // 2
  pad_end = pad_total - pad_beg
  inputs = tf.pad(inputs, [[0, 0], [pad_beg, pad_end], [pad_beg, pad_end], [0, 0]])
  return slim.conv2d(inputs, num_outputs, kernel_size, stride=stride, rate=rate,
                     padding='VALID', scope=scope)


@slim.add_arg_scope
def stack_blocks_dense(net, blocks, output_stride=None, store_non_strided_activations=False,
                       outputs_collections=None):
  """Runs `blocks` in order; with `output_stride`, trades later strides for atrous rates.

  Args:
    net: `[batch, height, width, channels]`.
    blocks: list of `Block`.
    output_stride: the wanted ratio of input to output size (None: the blocks' own strides).
    store_non_strided_activations: run each block's last unit at stride 1 and subsample
      after it, so the block's end point keeps full resolution.
    outputs_collections: collections to add each block's output to.

  Raises:
    ValueError: `output_stride` cannot be reached with these blocks.
  """
  current_stride = 1
  rate = 1
  for block in blocks:
    with tf.compat.v1.variable_scope(block.scope, 'block', [net]) as sc:
      block_stride = 1
      for i, unit in enumerate(block.args):
        if store_non_strided_activations and i == len(block.args) - 1:
          block_stride = unit.get('stride', 1)
          unit = dict(unit, stride=1)
        with tf.compat.v1.variable_scope(f'unit_{i + 1}', values=[net]):
          if output_stride is not None and current_stride == output_stride:
            # Atrous: keep the resolution, dilate the later convolutions instead.
            net = block.unit_fn(net, rate=rate, **dict(unit, stride=1))
            rate *= unit.get('stride', 1)
          else:
            net = block.unit_fn(net, rate=1, **unit)
            current_stride *= unit.get('stride', 1)
            if output_stride is not None and current_stride > output_stride:
              raise ValueError(f'output_stride {output_stride} cannot be reached.')
      net = slim.utils.collect_named_outputs(outputs_collections, sc.name, net)
      if output_stride is not None and current_stride == output_stride:
        rate *= block_stride
      else:
        net = subsample(net, block_stride)
        current_stride *= block_stride
        if output_stride is not None and current_stride > output_stride:
          raise ValueError(f'output_stride {output_stride} cannot be reached.')
  if output_stride is not None and current_stride != output_stride:
    raise ValueError(f'output_stride {output_stride} cannot be reached.')
  return net


def resnet_arg_scope(weight_decay=0.0001, batch_norm_decay=0.997, batch_norm_epsilon=1e-5,
                     batch_norm_scale=True, activation_fn=tf.nn.relu, use_batch_norm=True,
                     batch_norm_updates_collections=tf.compat.v1.GraphKeys.UPDATE_OPS):
  """ResNet's defaults: variance-scaling weights, L2 decay, batch norm, ReLU, SAME max pool."""
  batch_norm_params = {
      'decay': batch_norm_decay,
      'epsilon': batch_norm_epsilon,
      'scale': batch_norm_scale,
      'updates_collections': batch_norm_updates_collections,
  }
  with slim.arg_scope([slim.conv2d], weights_regularizer=slim.l2_regularizer(weight_decay),
                      weights_initializer=slim.variance_scaling_initializer(),
                      activation_fn=activation_fn,
                      normalizer_fn=slim.batch_norm if use_batch_norm else None,
                      normalizer_params=batch_norm_params):
    with slim.arg_scope([slim.batch_norm], **batch_norm_params):
      with slim.arg_scope([slim.max_pool2d], padding='SAME') as sc:
        return sc


def bottleneck_blocks(unit_fn, num_units, base_depths=(64, 128, 256, 512), strides=(2, 2, 2, 1)):
  """The four blocks of a bottleneck ResNet: each block's last unit carries its stride."""
  blocks = []
  for index, (units, base_depth, stride) in enumerate(zip(num_units, base_depths, strides)):
    unit = {'depth': base_depth * 4, 'depth_bottleneck': base_depth, 'stride': 1}
    blocks.append(Block(f'block{index + 1}', unit_fn,
                        [unit] * (units - 1) + [dict(unit, stride=stride)]))
  return blocks


def classification_head(net, end_points, scope_name, *, num_classes, global_pool,
                        spatial_squeeze):
  """ResNet's end, shared by v1 and v2: global pool, 1x1 logits, squeeze, softmax.

  Adds each output to `end_points` under research/slim's names and returns the last.
  """
  if global_pool:
    net = end_points['global_pool'] = tf.reduce_mean(net, [1, 2], name='pool5', keepdims=True)
  if num_classes:
    net = end_points[scope_name + '/logits'] = slim.conv2d(
        net, num_classes, [1, 1], activation_fn=None, normalizer_fn=None, scope='logits')
    if spatial_squeeze:
      net = end_points[scope_name + '/spatial_squeeze'] = tf.squeeze(
          net, [1, 2], name='SpatialSqueeze')
    end_points['predictions'] = slim.softmax(net, scope='predictions')
  return net
