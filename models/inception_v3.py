"""Inception v3 (arXiv:1512.00567) as research/slim built it (scope `InceptionV3`).

    with slim.arg_scope(inception_v3_arg_scope()):
      logits, end_points = inception_v3(images, num_classes=1001, is_training=True)
    end_points['AuxLogits']          # the auxiliary head on Mixed_6e, for the training loss

The body is a table of named steps; mixed modules are lists of branches. Layer names keep
the published checkpoint's quirks (`Mixed_5c/Branch_1/Conv_1_0c_5x5`, 3x3 convolutions
named `Conv2d_1a_1x1` in Mixed_6a).
"""
import tensorflow as tf

import slimdata as slim
from models import inception_utils
from models.inception_utils import avg_pool, conv, max_pool, mixed, parallel


def _steps(depth):
  """Inception v3's layers, with every depth passed through `depth` (the multiplier)."""
  valid = {'padding': 'VALID'}
  reduce_ = {'stride': 2, 'padding': 'VALID'}

  def mixed_35(pool_depth, branch_1_names=('Conv2d_0a_1x1', 'Conv2d_0b_5x5')):
    return mixed(
        [conv(depth(64), [1, 1], 'Conv2d_0a_1x1')],
        [conv(depth(48), [1, 1], branch_1_names[0]),
         conv(depth(64), [5, 5], branch_1_names[1])],
        [conv(depth(64), [1, 1], 'Conv2d_0a_1x1'), conv(depth(96), [3, 3], 'Conv2d_0b_3x3'),
         conv(depth(96), [3, 3], 'Conv2d_0c_3x3')],
        [avg_pool([3, 3], 'AvgPool_0a_3x3'), conv(depth(pool_depth), [1, 1], 'Conv2d_0b_1x1')])

  def mixed_17(width):
    return mixed(
        [conv(depth(192), [1, 1], 'Conv2d_0a_1x1')],
        [conv(depth(width), [1, 1], 'Conv2d_0a_1x1'),
         conv(depth(width), [1, 7], 'Conv2d_0b_1x7'),
         conv(depth(192), [7, 1], 'Conv2d_0c_7x1')],
        [conv(depth(width), [1, 1], 'Conv2d_0a_1x1'),
         conv(depth(width), [7, 1], 'Conv2d_0b_7x1'),
         conv(depth(width), [1, 7], 'Conv2d_0c_1x7'),
         conv(depth(width), [7, 1], 'Conv2d_0d_7x1'),
         conv(depth(192), [1, 7], 'Conv2d_0e_1x7')],
        [avg_pool([3, 3], 'AvgPool_0a_3x3'), conv(depth(192), [1, 1], 'Conv2d_0b_1x1')])

  def mixed_8(branch_1_3x1_name):
    return mixed(
        [conv(depth(320), [1, 1], 'Conv2d_0a_1x1')],
        [conv(depth(384), [1, 1], 'Conv2d_0a_1x1'),
         parallel(conv(depth(384), [1, 3], 'Conv2d_0b_1x3'),
                  conv(depth(384), [3, 1], branch_1_3x1_name))],
        [conv(depth(448), [1, 1], 'Conv2d_0a_1x1'), conv(depth(384), [3, 3], 'Conv2d_0b_3x3'),
         parallel(conv(depth(384), [1, 3], 'Conv2d_0c_1x3'),
                  conv(depth(384), [3, 1], 'Conv2d_0d_3x1'))],
        [avg_pool([3, 3], 'AvgPool_0a_3x3'), conv(depth(192), [1, 1], 'Conv2d_0b_1x1')])

  return [
      ('Conv2d_1a_3x3', conv(depth(32), [3, 3], 'Conv2d_1a_3x3', **reduce_)),
      ('Conv2d_2a_3x3', conv(depth(32), [3, 3], 'Conv2d_2a_3x3', **valid)),
      ('Conv2d_2b_3x3', conv(depth(64), [3, 3], 'Conv2d_2b_3x3')),
      ('MaxPool_3a_3x3', max_pool([3, 3], 'MaxPool_3a_3x3', **reduce_)),
      ('Conv2d_3b_1x1', conv(depth(80), [1, 1], 'Conv2d_3b_1x1', **valid)),
      ('Conv2d_4a_3x3', conv(depth(192), [3, 3], 'Conv2d_4a_3x3', **valid)),
      ('MaxPool_5a_3x3', max_pool([3, 3], 'MaxPool_5a_3x3', **reduce_)),
      # 35 x 35 x 288.
      ('Mixed_5b', mixed_35(32)),
      ('Mixed_5c', mixed_35(64, branch_1_names=('Conv2d_0b_1x1', 'Conv_1_0c_5x5'))),
      ('Mixed_5d', mixed_35(64)),
      # 17 x 17 x 768.
      ('Mixed_6a', mixed(
          [conv(depth(384), [3, 3], 'Conv2d_1a_1x1', **reduce_)],
          [conv(depth(64), [1, 1], 'Conv2d_0a_1x1'), conv(depth(96), [3, 3], 'Conv2d_0b_3x3'),
           conv(depth(96), [3, 3], 'Conv2d_1a_1x1', **reduce_)],
          [max_pool([3, 3], 'MaxPool_1a_3x3', **reduce_)])),
      ('Mixed_6b', mixed_17(128)),
      ('Mixed_6c', mixed_17(160)),
      ('Mixed_6d', mixed_17(160)),
      ('Mixed_6e', mixed_17(192)),
      # 8 x 8 x 2048.
      ('Mixed_7a', mixed(
          [conv(depth(192), [1, 1], 'Conv2d_0a_1x1'),
           conv(depth(320), [3, 3], 'Conv2d_1a_3x3', **reduce_)],
          [conv(depth(192), [1, 1], 'Conv2d_0a_1x1'), conv(depth(192), [1, 7], 'Conv2d_0b_1x7'),
           conv(depth(192), [7, 1], 'Conv2d_0c_7x1'),
           conv(depth(192), [3, 3], 'Conv2d_1a_3x3', **reduce_)],
          [max_pool([3, 3], 'MaxPool_1a_3x3', **reduce_)])),
      ('Mixed_7b', mixed_8('Conv2d_0b_3x1')),
      ('Mixed_7c', mixed_8('Conv2d_0c_3x1')),
  ]


def _depth_fn(depth_multiplier, min_depth):
  if depth_multiplier <= 0:
    raise ValueError(f'depth_multiplier must be greater than zero, got {depth_multiplier}')
  return lambda d: max(int(d * depth_multiplier), min_depth)


def inception_v3_base(inputs, final_endpoint='Mixed_7c', min_depth=16, depth_multiplier=1.0,
                      scope=None):
  """Inception v3 from `inputs` up to `final_endpoint` (any step name in `_steps`)."""
  steps = _steps(_depth_fn(depth_multiplier, min_depth))
  with tf.compat.v1.variable_scope(scope, 'InceptionV3', [inputs]):
    with slim.arg_scope([slim.conv2d, slim.max_pool2d, slim.avg_pool2d], stride=1,
                        padding='SAME'):
      return inception_utils.run_steps(inputs, steps, final_endpoint)


def inception_v3(inputs, num_classes=1000, is_training=True, dropout_keep_prob=0.8,
                 min_depth=16, depth_multiplier=1.0, prediction_fn=slim.softmax,
                 spatial_squeeze=True, reuse=None, create_aux_logits=True, scope='InceptionV3',
                 global_pool=False):
  """Inception v3 classifier, with the auxiliary head on Mixed_6e.

  Args:
    inputs: float `[batch, 299, 299, 3]` (smaller inputs shrink the pooling kernels, and
      then the aux head's `Conv2d_2a_<k>x<k>` name, as in research/slim).
    num_classes: logits per image; 0 or None returns the pooled features.
    is_training: whether batch norm and dropout are in training mode.
    dropout_keep_prob: fraction of pooled features kept while training.
    min_depth: smallest depth a layer gets under `depth_multiplier`.
    depth_multiplier: scales every layer's depth.
    prediction_fn: maps logits to `end_points['Predictions']`.
    spatial_squeeze: squeeze the 1x1 spatial dimensions of the logits.
    reuse: reuse the variables of an earlier call (needs `scope`).
    create_aux_logits: build the auxiliary head (`end_points['AuxLogits']`).
    scope: variable scope.
    global_pool: average over all of space instead of a fixed 8x8 window.

  Returns:
    `(logits, end_points)`.
  """
  depth = _depth_fn(depth_multiplier, min_depth)
  with tf.compat.v1.variable_scope(scope, 'InceptionV3', [inputs], reuse=reuse) as sc:
    with slim.arg_scope([slim.batch_norm, slim.dropout], is_training=is_training):
      net, end_points = inception_v3_base(inputs, scope=sc, min_depth=min_depth,
                                          depth_multiplier=depth_multiplier)
      if create_aux_logits and num_classes:
        with slim.arg_scope([slim.conv2d, slim.max_pool2d, slim.avg_pool2d], stride=1,
                            padding='SAME'):
          with tf.compat.v1.variable_scope('AuxLogits'):
            aux = slim.avg_pool2d(end_points['Mixed_6e'], [5, 5], stride=3, padding='VALID',
                                  scope='AvgPool_1a_5x5')
            aux = slim.conv2d(aux, depth(128), [1, 1], scope='Conv2d_1b_1x1')
            kernel = inception_utils.reduced_kernel_size_for_small_input(aux, [5, 5])
            aux = slim.conv2d(
                aux, depth(768), kernel, padding='VALID',
                weights_initializer=tf.compat.v1.truncated_normal_initializer(stddev=0.01),
                scope='Conv2d_2a_{}x{}'.format(*kernel))
            aux = slim.conv2d(
                aux, num_classes, [1, 1], activation_fn=None, normalizer_fn=None,
                weights_initializer=tf.compat.v1.truncated_normal_initializer(stddev=0.001),
                scope='Conv2d_2b_1x1')
            if spatial_squeeze:
              aux = tf.squeeze(aux, [1, 2], name='SpatialSqueeze')
            end_points['AuxLogits'] = aux
      with tf.compat.v1.variable_scope('Logits'):
        if global_pool:
          net = end_points['global_pool'] = tf.reduce_mean(
              net, [1, 2], keepdims=True, name='GlobalPool')
        else:
          kernel = inception_utils.reduced_kernel_size_for_small_input(net, [8, 8])
          net = end_points['AvgPool_1a'] = slim.avg_pool2d(
              net, kernel, padding='VALID', scope='AvgPool_1a_{}x{}'.format(*kernel))
        if not num_classes:
          return net, end_points
        net = end_points['PreLogits'] = slim.dropout(net, keep_prob=dropout_keep_prob,
                                                     scope='Dropout_1b')
        logits = slim.conv2d(net, num_classes, [1, 1], activation_fn=None, normalizer_fn=None,
                             scope='Conv2d_1c_1x1')
        if spatial_squeeze:
          logits = tf.squeeze(logits, [1, 2], name='SpatialSqueeze')
      end_points['Logits'] = logits
      end_points['Predictions'] = prediction_fn(logits, scope='Predictions')
  return logits, end_points


inception_v3.default_image_size = 299

inception_v3_arg_scope = inception_utils.inception_arg_scope
