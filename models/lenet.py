"""LeNet, as research/slim defined it (scope `LeNet`), for 28x28 MNIST digits.

    with slim.arg_scope(lenet_arg_scope()):
      logits, end_points = lenet(images, num_classes=10, is_training=True)
    end_points['Predictions']        # softmax over the 10 classes
"""
import tensorflow as tf

import slimdata as slim


def lenet(images, num_classes=10, is_training=False, dropout_keep_prob=0.5,
          prediction_fn=slim.softmax, scope='LeNet'):
  """LeNet: conv 5x5/32, pool, conv 5x5/64, pool, fc 1024, dropout, fc logits.

  Args:
    images: float `[batch, 28, 28, channels]`.
    num_classes: logits per image; 0 or None returns the fc3 features (pre-dropout).
    is_training: whether dropout is active.
    dropout_keep_prob: fraction of fc3 activations kept while training.
    prediction_fn: maps logits to `end_points['Predictions']`.
    scope: variable scope of every variable (`LeNet/conv1/weights` ...).

  Returns:
    `(logits, end_points)`: logits `[batch, num_classes]` and a dict of every named
    activation (`conv1`, `pool1`, `conv2`, `pool2`, `Flatten`, `fc3`, `dropout3`, `Logits`,
    `Predictions`).
  """
  end_points = {}
  with tf.compat.v1.variable_scope(scope, 'LeNet', [images]):
    net = end_points['conv1'] = slim.conv2d(images, 32, [5, 5], scope='conv1')
    net = end_points['pool1'] = slim.max_pool2d(net, [2, 2], 2, scope='pool1')
    net = end_points['conv2'] = slim.conv2d(net, 64, [5, 5], scope='conv2')
    net = end_points['pool2'] = slim.max_pool2d(net, [2, 2], 2, scope='pool2')
    net = end_points['Flatten'] = slim.flatten(net)
    net = end_points['fc3'] = slim.fully_connected(net, 1024, scope='fc3')
    if not num_classes:
      return net, end_points
    net = end_points['dropout3'] = slim.dropout(
        net, dropout_keep_prob, is_training=is_training, scope='dropout3')
    logits = end_points['Logits'] = slim.fully_connected(
        net, num_classes, activation_fn=None, scope='fc4')
  end_points['Predictions'] = prediction_fn(logits, scope='Predictions')
  return logits, end_points


lenet.default_image_size = 28


def lenet_arg_scope(weight_decay=0.0):
  """LeNet's defaults: ReLU, truncated-normal(0.1) weights, L2 weight decay."""
  with slim.arg_scope(
      [slim.conv2d, slim.fully_connected],
      weights_regularizer=slim.l2_regularizer(weight_decay),
      weights_initializer=tf.compat.v1.truncated_normal_initializer(stddev=0.1),
      activation_fn=tf.nn.relu) as sc:
    return sc
