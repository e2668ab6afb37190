"""CifarNet, research/slim's CIFAR-10 model (scope `CifarNet`), for 32x32 images.

    with slim.arg_scope(cifarnet_arg_scope()):
      logits, end_points = cifarnet(images, num_classes=10, is_training=True)
"""
import tensorflow as tf

import slimdata as slim


def _trunc_normal(stddev):
  return tf.compat.v1.truncated_normal_initializer(stddev=stddev)


def cifarnet(images, num_classes=10, is_training=False, dropout_keep_prob=0.5,
             prediction_fn=slim.softmax, scope='CifarNet'):
  """CifarNet: conv 5x5/64, pool, LRN, conv 5x5/64, LRN, pool, fc 384, dropout, fc 192, logits.

  Args:
    images: float `[batch, 32, 32, 3]`.
    num_classes: logits per image; 0 or None returns the fc4 features.
    is_training: whether dropout is active.
    dropout_keep_prob: fraction of fc3 activations kept while training.
    prediction_fn: maps logits to `end_points['Predictions']`.
    scope: variable scope (`CifarNet/conv1/weights` ...).

  Returns:
    `(logits, end_points)`; end_points hold `conv1`, `pool1`, `conv2`, `pool2`, `Flatten`,
    `fc3`, `fc4`, `Logits`, `Predictions`.
  """
  end_points = {}
  with tf.compat.v1.variable_scope(scope, 'CifarNet', [images]):
    net = end_points['conv1'] = slim.conv2d(images, 64, [5, 5], scope='conv1')
    net = end_points['pool1'] = slim.max_pool2d(net, [2, 2], 2, scope='pool1')
    net = tf.nn.lrn(net, 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75, name='norm1')
    net = end_points['conv2'] = slim.conv2d(net, 64, [5, 5], scope='conv2')
    net = tf.nn.lrn(net, 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75, name='norm2')
    net = end_points['pool2'] = slim.max_pool2d(net, [2, 2], 2, scope='pool2')
    net = end_points['Flatten'] = slim.flatten(net)
    net = end_points['fc3'] = slim.fully_connected(net, 384, scope='fc3')
    net = slim.dropout(net, dropout_keep_prob, is_training=is_training, scope='dropout3')
    net = end_points['fc4'] = slim.fully_connected(net, 192, scope='fc4')
    if not num_classes:
      return net, end_points
    # The logits are not weight-decayed, and start smaller than the hidden layers.
    logits = end_points['Logits'] = slim.fully_connected(
        net, num_classes, biases_initializer=tf.compat.v1.zeros_initializer(),
        weights_initializer=_trunc_normal(1 / 192.0), weights_regularizer=None,
        activation_fn=None, scope='logits')
    end_points['Predictions'] = prediction_fn(logits, scope='Predictions')
  return logits, end_points


cifarnet.default_image_size = 32


def cifarnet_arg_scope(weight_decay=0.004):
  """CifarNet's defaults: ReLU; conv weights N(0, 0.05); fc weights N(0, 0.04), biases 0.1."""
  with slim.arg_scope([slim.conv2d], weights_initializer=_trunc_normal(5e-2),
                      activation_fn=tf.nn.relu):
    with slim.arg_scope([slim.fully_connected],
                        biases_initializer=tf.compat.v1.constant_initializer(0.1),
                        weights_initializer=_trunc_normal(0.04),
                        weights_regularizer=slim.l2_regularizer(weight_decay),
                        activation_fn=tf.nn.relu) as sc:
      return sc
