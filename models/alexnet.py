"""AlexNet v2 ("One weird trick", arXiv:1404.5997), research/slim's `alexnet_v2`.

    with slim.arg_scope(alexnet_v2_arg_scope()):
      logits, end_points = alexnet_v2(images, num_classes=1000, is_training=True)
    end_points['alexnet_v2/conv1']      # end points are named by scope, as in research/slim

The fully connected layers are convolutions (`fc6` is 5x5 VALID on the 5x5 pool5 map of a
224x224 image), so larger images give a spatial map of logits unless `global_pool` is set.
"""
import tensorflow as tf

import slimdata as slim


def _trunc_normal(stddev):
  return tf.compat.v1.truncated_normal_initializer(stddev=stddev)


def alexnet_v2(inputs, num_classes=1000, is_training=True, dropout_keep_prob=0.5,
               spatial_squeeze=True, scope='alexnet_v2', global_pool=False):
  """AlexNet v2 for `[batch, 224, 224, 3]` images.

  Args:
    inputs: float `[batch, height, width, 3]`.
    num_classes: logits per image; 0 or None returns the fc7 features.
    is_training: whether dropout is active.
    dropout_keep_prob: fraction of fc activations kept while training.
    spatial_squeeze: squeeze the 1x1 spatial dimensions of the logits.
    scope: variable scope (`alexnet_v2/conv1/weights` ...).
    global_pool: average fc7 over space, so any image size gives `[batch, num_classes]`.

  Returns:
    `(net, end_points)`: the logits (or features) and every layer's output by scope name.
  """
  with tf.compat.v1.variable_scope(scope, 'alexnet_v2', [inputs]) as sc:
    end_points_collection = sc.original_name_scope + '_end_points'
    with slim.arg_scope([slim.conv2d, slim.fully_connected, slim.max_pool2d],
                        outputs_collections=[end_points_collection]):
      net = slim.conv2d(inputs, 64, [11, 11], 4, padding='VALID', scope='conv1')
      net = slim.max_pool2d(net, [3, 3], 2, scope='pool1')
      net = slim.conv2d(net, 192, [5, 5], scope='conv2')
      net = slim.max_pool2d(net, [3, 3], 2, scope='pool2')
      net = slim.conv2d(net, 384, [3, 3], scope='conv3')
      net = slim.conv2d(net, 384, [3, 3], scope='conv4')
      net = slim.conv2d(net, 256, [3, 3], scope='conv5')
      net = slim.max_pool2d(net, [3, 3], 2, scope='pool5')
      with slim.arg_scope([slim.conv2d], weights_initializer=_trunc_normal(0.005),
                          biases_initializer=tf.compat.v1.constant_initializer(0.1)):
        net = slim.conv2d(net, 4096, [5, 5], padding='VALID', scope='fc6')
        net = slim.dropout(net, dropout_keep_prob, is_training=is_training, scope='dropout6')
        net = slim.conv2d(net, 4096, [1, 1], scope='fc7')
        end_points = slim.utils.convert_collection_to_dict(end_points_collection)
        if global_pool:
          net = end_points['global_pool'] = tf.reduce_mean(
              net, [1, 2], keepdims=True, name='global_pool')
        if num_classes:
          net = slim.dropout(net, dropout_keep_prob, is_training=is_training,
                             scope='dropout7')
          net = slim.conv2d(net, num_classes, [1, 1], activation_fn=None, normalizer_fn=None,
                            biases_initializer=tf.compat.v1.zeros_initializer(), scope='fc8')
          if spatial_squeeze:
            net = tf.squeeze(net, [1, 2], name='fc8/squeezed')
          end_points[sc.name + '/fc8'] = net
  return net, end_points


alexnet_v2.default_image_size = 224


def alexnet_v2_arg_scope(weight_decay=0.0005):
  """AlexNet v2's defaults: ReLU, biases 0.1, L2 decay; SAME convolutions, VALID pools."""
  with slim.arg_scope([slim.conv2d, slim.fully_connected], activation_fn=tf.nn.relu,
                      biases_initializer=tf.compat.v1.constant_initializer(0.1),
                      weights_regularizer=slim.l2_regularizer(weight_decay)):
    with slim.arg_scope([slim.conv2d], padding='SAME'):
      with slim.arg_scope([slim.max_pool2d], padding='VALID') as sc:
        return sc
