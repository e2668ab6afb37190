"""Inception v1 (GoogLeNet, arXiv:1409.4842) as research/slim built it (scope `InceptionV1`).

    with slim.arg_scope(inception_v1_arg_scope()):
      logits, end_points = inception_v1(images, num_classes=1001, is_training=True)
    end_points['Mixed_4f']

Every mixed module has the same four branches (1x1 | 1x1, 3x3 | 1x1, 3x3 | pool, 1x1), so the
net is a table of their depths.
"""
import tensorflow as tf

import slimdata as slim
from models import inception_utils
from models.inception_utils import conv, max_pool, mixed

# Mixed module depths: (branch 0 1x1, (branch 1 1x1, 3x3), (branch 2 1x1, 3x3), branch 3 1x1).
MIXED_DEPTHS = {
    'Mixed_3b': (64, (96, 128), (16, 32), 32),
    'Mixed_3c': (128, (128, 192), (32, 96), 64),
    'Mixed_4b': (192, (96, 208), (16, 48), 64),
    'Mixed_4c': (160, (112, 224), (24, 64), 64),
    'Mixed_4d': (128, (128, 256), (24, 64), 64),
    'Mixed_4e': (112, (144, 288), (32, 64), 64),
    'Mixed_4f': (256, (160, 320), (32, 128), 128),
    'Mixed_5b': (256, (160, 320), (32, 128), 128),
    'Mixed_5c': (384, (192, 384), (48, 128), 128),
}


def _mixed(name):
  d0, (d1a, d1b), (d2a, d2b), d3 = MIXED_DEPTHS[name]
  # The published checkpoint names Mixed_5b's second 3x3 'Conv2d_0a_3x3'; keep it.
  branch_2_3x3 = 'Conv2d_0a_3x3' if name == 'Mixed_5b' else 'Conv2d_0b_3x3'
  return mixed(
      [conv(d0, [1, 1], 'Conv2d_0a_1x1')],
      [conv(d1a, [1, 1], 'Conv2d_0a_1x1'), conv(d1b, [3, 3], 'Conv2d_0b_3x3')],
      [conv(d2a, [1, 1], 'Conv2d_0a_1x1'), conv(d2b, [3, 3], branch_2_3x3)],
      [max_pool([3, 3], 'MaxPool_0a_3x3'), conv(d3, [1, 1], 'Conv2d_0b_1x1')])


def inception_v1_base(inputs, final_endpoint='Mixed_5c', scope='InceptionV1'):
  """Inception v1 from `inputs` up to `final_endpoint` (any step name below)."""
  steps = [
      ('Conv2d_1a_7x7', conv(64, [7, 7], 'Conv2d_1a_7x7', stride=2)),
      ('MaxPool_2a_3x3', max_pool([3, 3], 'MaxPool_2a_3x3', stride=2)),
      ('Conv2d_2b_1x1', conv(64, [1, 1], 'Conv2d_2b_1x1')),
      ('Conv2d_2c_3x3', conv(192, [3, 3], 'Conv2d_2c_3x3')),
      ('MaxPool_3a_3x3', max_pool([3, 3], 'MaxPool_3a_3x3', stride=2)),
      ('Mixed_3b', _mixed('Mixed_3b')),
      ('Mixed_3c', _mixed('Mixed_3c')),
      ('MaxPool_4a_3x3', max_pool([3, 3], 'MaxPool_4a_3x3', stride=2)),
      ('Mixed_4b', _mixed('Mixed_4b')),
      ('Mixed_4c', _mixed('Mixed_4c')),
      ('Mixed_4d', _mixed('Mixed_4d')),
      ('Mixed_4e', _mixed('Mixed_4e')),
      ('Mixed_4f', _mixed('Mixed_4f')),
      ('MaxPool_5a_2x2', max_pool([2, 2], 'MaxPool_5a_2x2', stride=2)),
      ('Mixed_5b', _mixed('Mixed_5b')),
      ('Mixed_5c', _mixed('Mixed_5c')),
  ]
  with tf.compat.v1.variable_scope(scope, 'InceptionV1', [inputs]):
    with slim.arg_scope([slim.conv2d, slim.fully_connected],
                        weights_initializer=tf.compat.v1.truncated_normal_initializer(stddev=0.01)):
      with slim.arg_scope([slim.conv2d, slim.max_pool2d], stride=1, padding='SAME'):
        return inception_utils.run_steps(inputs, steps, final_endpoint)


def inception_v1(inputs, num_classes=1000, is_training=True, dropout_keep_prob=0.8,
                 prediction_fn=slim.softmax, spatial_squeeze=True, reuse=None,
                 scope='InceptionV1', global_pool=False):
  """Inception v1 classifier.

  Args:
    inputs: float `[batch, 224, 224, 3]`.
    num_classes: logits per image; 0 or None returns the pooled features.
    is_training: whether batch norm and dropout are in training mode.
    dropout_keep_prob: fraction of pooled features kept while training.
    prediction_fn: maps logits to `end_points['Predictions']`.
    spatial_squeeze: squeeze the 1x1 spatial dimensions of the logits.
    reuse: reuse the variables of an earlier call (needs `scope`).
    scope: variable scope.
    global_pool: average over all of space instead of a fixed 7x7 window.

  Returns:
    `(logits, end_points)`.
  """
  with tf.compat.v1.variable_scope(scope, 'InceptionV1', [inputs], reuse=reuse) as sc:
    with slim.arg_scope([slim.batch_norm, slim.dropout], is_training=is_training):
      net, end_points = inception_v1_base(inputs, scope=sc)
      with tf.compat.v1.variable_scope('Logits'):
        if global_pool:
          net = end_points['global_pool'] = tf.reduce_mean(
              net, [1, 2], keepdims=True, name='global_pool')
        else:
          net = end_points['AvgPool_0a_7x7'] = slim.avg_pool2d(
              net, [7, 7], stride=1, scope='AvgPool_0a_7x7')
        if not num_classes:
          return net, end_points
        net = slim.dropout(net, dropout_keep_prob, scope='Dropout_0b')
        logits = slim.conv2d(net, num_classes, [1, 1], activation_fn=None, normalizer_fn=None,
                             scope='Conv2d_0c_1x1')
        if spatial_squeeze:
          logits = tf.squeeze(logits, [1, 2], name='SpatialSqueeze')
        end_points['Logits'] = logits
        end_points['Predictions'] = prediction_fn(logits, scope='Predictions')
  return logits, end_points


inception_v1.default_image_size = 224

inception_v1_arg_scope = inception_utils.inception_arg_scope
