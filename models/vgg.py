"""VGG (arXiv:1409.1556) as research/slim built it: `vgg_a`, `vgg_16`, `vgg_19`.

    with slim.arg_scope(vgg_arg_scope()):
      logits, end_points = vgg_16(images, num_classes=1000, is_training=True)
    end_points['vgg_16/conv1/conv1_1']   # every layer, by scope name

The three variants differ only in how many 3x3 convolutions each of the five blocks
repeats, so one builder takes that count from `REPEATS`. Fully connected layers are
convolutions, as in research/slim, so its checkpoints load (`vgg_16/fc6/weights` is
`[7, 7, 512, 4096]`).
"""
import tensorflow as tf

import slimdata as slim

# Depth of the 3x3 convolutions in each of the five blocks (all variants).
BLOCK_DEPTHS = (64, 128, 256, 512, 512)
# How many convolutions each block repeats, per variant (configurations A, D and E).
REPEATS = {
    'vgg_a': (1, 1, 2, 2, 2),
    'vgg_16': (2, 2, 3, 3, 3),
    'vgg_19': (2, 2, 4, 4, 4),
}


def _vgg(inputs, *, variant, num_classes, is_training, dropout_keep_prob, spatial_squeeze,
         reuse, scope, fc_conv_padding, global_pool):
  """Five blocks of `repeat(conv 3x3)` + 2x2 max pool, then fc6, fc7, fc8 as convolutions."""
  with tf.compat.v1.variable_scope(scope, variant, [inputs], reuse=reuse) as sc:
    end_points_collection = sc.original_name_scope + '_end_points'
    with slim.arg_scope([slim.conv2d, slim.fully_connected, slim.max_pool2d],
                        outputs_collections=end_points_collection):
      net = inputs
      for block, (repeats, depth) in enumerate(zip(REPEATS[variant], BLOCK_DEPTHS), start=1):
        net = slim.repeat(net, repeats, slim.conv2d, depth, [3, 3], scope=f'conv{block}')
        net = slim.max_pool2d(net, [2, 2], scope=f'pool{block}')
      net = slim.conv2d(net, 4096, [7, 7], padding=fc_conv_padding, scope='fc6')
      net = slim.dropout(net, dropout_keep_prob, is_training=is_training, scope='dropout6')
      net = slim.conv2d(net, 4096, [1, 1], scope='fc7')
      end_points = slim.utils.convert_collection_to_dict(end_points_collection)
      if global_pool:
        net = end_points['global_pool'] = tf.reduce_mean(
            net, [1, 2], keepdims=True, name='global_pool')
      if num_classes:
        net = slim.dropout(net, dropout_keep_prob, is_training=is_training, scope='dropout7')
        net = slim.conv2d(net, num_classes, [1, 1], activation_fn=None, normalizer_fn=None,
                          scope='fc8')
        if spatial_squeeze:
          net = tf.squeeze(net, [1, 2], name='fc8/squeezed')
        end_points[sc.name + '/fc8'] = net
  return net, end_points


def _variant(variant, description):
  """The public function for one variant: research/slim's signature, `scope=variant`."""

  def network(inputs, num_classes=1000, is_training=True, dropout_keep_prob=0.5,
              spatial_squeeze=True, reuse=None, scope=variant, fc_conv_padding='VALID',
              global_pool=False):
    return _vgg(inputs, variant=variant, num_classes=num_classes, is_training=is_training,
                dropout_keep_prob=dropout_keep_prob, spatial_squeeze=spatial_squeeze,
                reuse=reuse, scope=scope, fc_conv_padding=fc_conv_padding,
                global_pool=global_pool)

  network.__name__ = network.__qualname__ = variant
  network.__doc__ = f"""{description}

  Args:
    inputs: float `[batch, 224, 224, 3]` (other sizes with `global_pool` or
      `fc_conv_padding='SAME'`).
    num_classes: logits per image; 0 or None returns the fc7 features.
    is_training: whether dropout is active.
    dropout_keep_prob: fraction of fc activations kept while training.
    spatial_squeeze: squeeze the 1x1 spatial dimensions of the logits.
    reuse: reuse the variables of an earlier call (needs `scope`).
    scope: variable scope, `{variant}` by default.
    fc_conv_padding: padding of fc6, the 7x7 convolution that replaces a dense layer.
    global_pool: average fc7 over space, so any image size gives `[batch, num_classes]`.

  Returns:
    `(net, end_points)`: the logits (or features) and every layer's output by scope name.
  """
  network.default_image_size = 224
  return network


vgg_a = _variant('vgg_a', 'VGG configuration A: 11 weight layers.')
vgg_16 = _variant('vgg_16', 'VGG configuration D: 16 weight layers.')
vgg_19 = _variant('vgg_19', 'VGG configuration E: 19 weight layers.')

# research/slim's aliases.
vgg_d = vgg_16
vgg_e = vgg_19


def vgg_arg_scope(weight_decay=0.0005):
  """VGG's defaults: ReLU, L2 weight decay, zero biases, SAME convolutions."""
  with slim.arg_scope([slim.conv2d, slim.fully_connected], activation_fn=tf.nn.relu,
                      weights_regularizer=slim.l2_regularizer(weight_decay),
                      biases_initializer=tf.compat.v1.zeros_initializer()):
    with slim.arg_scope([slim.conv2d], padding='SAME') as sc:
      return sc
