"""The model-definition snippets of TF-Slim's README, run with only the import changed.

TF-Slim's code read `slim = tf.contrib.slim` under TF 1.x; here it is
`import slimdata as slim` and `tf = tf.compat.v1`. The snippet bodies are the
README's, except three typos that never ran anywhere, each marked TYPO below.
The nested arg_scope example also never ran in TF-Slim (an arg_scope bug fixed here).
"""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import slimdata as slim

_Keys = tf.GraphKeys


def _table(variables):
  return [(v.op.name, v.shape.as_list()) for v in variables]


def test_variables_snippet():
  with tf.Graph().as_default():
    weights = slim.variable('weights',
                            shape=[10, 10, 3, 3],
                            initializer=tf.truncated_normal_initializer(stddev=0.1),
                            regularizer=slim.l2_regularizer(0.05),
                            device='/CPU:0')
    assert weights.op.name == 'weights' and weights.device.endswith('CPU:0')
    assert weights not in slim.get_model_variables()
    assert len(tf.get_collection(_Keys.REGULARIZATION_LOSSES)) == 1


def test_model_variables_snippet():
  with tf.Graph().as_default():
    # Model Variables
    weights = slim.model_variable('weights',
                                  shape=[10, 10, 3, 3],
                                  initializer=tf.truncated_normal_initializer(stddev=0.1),
                                  regularizer=slim.l2_regularizer(0.05),
                                  device='/CPU:0')
    model_variables = slim.get_model_variables()

    # Regular variables
    my_var = slim.variable('my_var',
                           shape=[20, 1],
                           initializer=tf.zeros_initializer())
    regular_variables_and_model_variables = slim.get_variables()

    def CreateViaCustomCode():  # pylint: disable=invalid-name
      return tf.get_variable('custom', shape=[2])

    my_model_variable = CreateViaCustomCode()

    # Letting TF-Slim know about the additional variable.
    slim.add_model_variable(my_model_variable)

    assert model_variables == [weights]
    assert regular_variables_and_model_variables == [weights, my_var]
    assert slim.get_model_variables() == [weights, my_model_variable]
    assert _table(slim.get_trainable_variables()) == [('weights', [10, 10, 3, 3]),
                                                      ('my_var', [20, 1]), ('custom', [2])]
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      values = sess.run(weights)
    # Truncated at two standard deviations.
    assert np.abs(values).max() <= 0.2 and 0.07 < values.std() < 0.1


def test_layers_snippets_with_repeat_and_stack():
  with tf.Graph().as_default():
    input = tf.placeholder(tf.float32, [None, 16, 16, 64])  # pylint: disable=redefined-builtin
    net = slim.conv2d(input, 128, [3, 3], scope='conv1_1')
    assert _table(slim.get_variables('conv1_1')) == [('conv1_1/weights', [3, 3, 64, 128]),
                                                     ('conv1_1/biases', [128])]

    net = slim.conv2d(net, 256, [3, 3], scope='conv3_1')
    net = slim.conv2d(net, 256, [3, 3], scope='conv3_2')
    net = slim.conv2d(net, 256, [3, 3], scope='conv3_3')
    net = slim.max_pool2d(net, [2, 2], scope='pool3')

    for i in range(3):
      # TYPO: the README has `'conv3_' % (i+1)`, a TypeError in any Python.
      net = slim.conv2d(net, 256, [3, 3], scope='loop/conv3_%d' % (i + 1))
    net = slim.max_pool2d(net, [2, 2], scope='pool3')

    net = slim.repeat(net, 3, slim.conv2d, 256, [3, 3], scope='conv3')
    # TYPO: the README calls `slim.max_pool`, which TF-Slim never had.
    net = slim.max_pool2d(net, [2, 2], scope='pool2')
    assert net.shape.as_list() == [None, 2, 2, 256]
    assert [v.op.name for v in slim.get_variables('conv3/')] == [
        'conv3/conv3_1/weights', 'conv3/conv3_1/biases', 'conv3/conv3_2/weights',
        'conv3/conv3_2/biases', 'conv3/conv3_3/weights', 'conv3/conv3_3/biases'
    ]

    x = tf.placeholder(tf.float32, [None, 20])
    # Equivalent, TF-Slim way using slim.stack:
    mlp = slim.stack(x, slim.fully_connected, [32, 64, 128], scope='fc')
    assert mlp.shape.as_list() == [None, 128]
    assert _table(slim.get_variables('fc/', suffix='weights')) == [
        ('fc/fc_1/weights', [20, 32]), ('fc/fc_2/weights', [32, 64]),
        ('fc/fc_3/weights', [64, 128])
    ]

    x = tf.placeholder(tf.float32, [None, 8, 8, 3])
    # Using stack:
    slim.stack(x, slim.conv2d, [(32, [3, 3]), (32, [1, 1]), (64, [3, 3]), (64, [1, 1])],
               scope='core')
    assert _table(slim.get_variables('core/', suffix='weights')) == [
        ('core/core_1/weights', [3, 3, 3, 32]), ('core/core_2/weights', [1, 1, 32, 32]),
        ('core/core_3/weights', [3, 3, 32, 64]), ('core/core_4/weights', [1, 1, 64, 64])
    ]
    # Every layer's variables are model variables; nothing is regularized.
    assert slim.get_model_variables() == slim.get_variables()
    assert tf.get_collection(_Keys.REGULARIZATION_LOSSES) == []


def test_first_arg_scope_example():
  with tf.Graph().as_default():
    inputs = tf.placeholder(tf.float32, [None, 64, 64, 3])
    # TYPO: the README misses the comma after the initializer (a SyntaxError).
    with slim.arg_scope([slim.conv2d], padding='SAME',
                        weights_initializer=tf.truncated_normal_initializer(stddev=0.01),
                        weights_regularizer=slim.l2_regularizer(0.0005)):
      net = slim.conv2d(inputs, 64, [11, 11], scope='conv1')
      net = slim.conv2d(net, 128, [11, 11], padding='VALID', scope='conv2')
      net = slim.conv2d(net, 256, [11, 11], scope='conv3')
    assert net.shape.as_list() == [None, 54, 54, 256]  # only conv2 is VALID: 64 - 10
    assert len(tf.get_collection(_Keys.REGULARIZATION_LOSSES)) == 3
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      conv3 = sess.run(slim.get_unique_variable('conv3/weights'))
    assert np.abs(conv3).max() <= 0.02 and 0.007 < conv3.std() < 0.01


def test_nested_arg_scope_example():
  # tf_slim raises "convolution2d() got multiple values for argument 'stride'" on this
  # example (the positional 4 and the scope's stride=1); slimdata lets the call win.
  with tf.Graph().as_default():
    inputs = tf.placeholder(tf.float32, [None, 47, 47, 3])
    with slim.arg_scope([slim.conv2d, slim.fully_connected],
                        activation_fn=tf.nn.relu,
                        weights_initializer=tf.truncated_normal_initializer(stddev=0.01),
                        weights_regularizer=slim.l2_regularizer(0.0005)):
      with slim.arg_scope([slim.conv2d], stride=1, padding='SAME'):
        net = slim.conv2d(inputs, 64, [11, 11], 4, padding='VALID', scope='conv1')
        net = slim.conv2d(net, 256, [5, 5],
                          weights_initializer=tf.truncated_normal_initializer(stddev=0.03),
                          scope='conv2')
        net = slim.fully_connected(net, 1000, activation_fn=None, scope='fc')
    assert net.shape.as_list() == [None, 10, 10, 1000]  # (47 - 11) / 4 + 1, then SAME
    assert _table(slim.get_model_variables()) == [
        ('conv1/weights', [11, 11, 3, 64]), ('conv1/biases', [64]),
        ('conv2/weights', [5, 5, 64, 256]), ('conv2/biases', [256]),
        ('fc/weights', [256, 1000]), ('fc/biases', [1000])
    ]
    assert len(tf.get_collection(_Keys.REGULARIZATION_LOSSES)) == 3
    assert net.op.type == 'BiasAdd'  # activation_fn=None overrides the scope's relu
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      conv2, fc = sess.run([slim.get_unique_variable('conv2/weights'),
                            slim.get_unique_variable('fc/weights')])
    assert 0.02 < conv2.std() < 0.03 and 0.007 < fc.std() < 0.01


def vgg16(inputs):
  with slim.arg_scope([slim.conv2d, slim.fully_connected],
                      activation_fn=tf.nn.relu,
                      weights_initializer=tf.truncated_normal_initializer(0.0, 0.01),
                      weights_regularizer=slim.l2_regularizer(0.0005)):
    net = slim.repeat(inputs, 2, slim.conv2d, 64, [3, 3], scope='conv1')
    net = slim.max_pool2d(net, [2, 2], scope='pool1')
    net = slim.repeat(net, 2, slim.conv2d, 128, [3, 3], scope='conv2')
    net = slim.max_pool2d(net, [2, 2], scope='pool2')
    net = slim.repeat(net, 3, slim.conv2d, 256, [3, 3], scope='conv3')
    net = slim.max_pool2d(net, [2, 2], scope='pool3')
    net = slim.repeat(net, 3, slim.conv2d, 512, [3, 3], scope='conv4')
    net = slim.max_pool2d(net, [2, 2], scope='pool4')
    net = slim.repeat(net, 3, slim.conv2d, 512, [3, 3], scope='conv5')
    net = slim.max_pool2d(net, [2, 2], scope='pool5')
    net = slim.fully_connected(net, 4096, scope='fc6')
    net = slim.dropout(net, 0.5, scope='dropout6')
    net = slim.fully_connected(net, 4096, scope='fc7')
    net = slim.dropout(net, 0.5, scope='dropout7')
    net = slim.fully_connected(net, 1000, activation_fn=None, scope='fc8')
  return net


def test_vgg16_definition():
  with tf.Graph().as_default():
    with tf.variable_scope('vgg_16'):
      logits = vgg16(tf.placeholder(tf.float32, [None, 224, 224, 3]))
    # fully_connected on a 7x7 map acts per position, as it did in TF-Slim.
    assert logits.shape.as_list() == [None, 7, 7, 1000]
    table = _table(slim.get_model_variables())
    depths = [(1, 64, 2), (2, 128, 2), (3, 256, 3), (4, 512, 3), (5, 512, 3)]
    want, previous = [], 3
    for block, depth, count in depths:
      for i in range(1, count + 1):
        scope = f'vgg_16/conv{block}/conv{block}_{i}'
        want += [(f'{scope}/weights', [3, 3, previous, depth]), (f'{scope}/biases', [depth])]
        previous = depth
    want += [('vgg_16/fc6/weights', [512, 4096]), ('vgg_16/fc6/biases', [4096]),
             ('vgg_16/fc7/weights', [4096, 4096]), ('vgg_16/fc7/biases', [4096]),
             ('vgg_16/fc8/weights', [4096, 1000]), ('vgg_16/fc8/biases', [1000])]
    assert table == want
    assert slim.get_trainable_variables() == slim.get_model_variables()
    assert len(tf.get_collection(_Keys.REGULARIZATION_LOSSES)) == 16
    restore = slim.get_variables_to_restore(exclude=['vgg_16/fc8'])
    assert len(restore) == len(want) - 2


@pytest.mark.parametrize('is_training', [True, False])
def test_vgg_style_net_runs_forward(is_training):
  # A tiny VGG-shaped net actually computes: ReLU outputs, dropout only in training.
  with tf.Graph().as_default():
    images = tf.constant(np.random.default_rng(0).random((2, 8, 8, 3)), tf.float32)
    with slim.arg_scope([slim.conv2d], padding='SAME'):
      net = slim.repeat(images, 2, slim.conv2d, 4, [3, 3], scope='conv1')
      net = slim.max_pool2d(net, [2, 2], scope='pool1')
      net = slim.flatten(net)
      net = slim.dropout(net, 0.5, is_training=is_training)
      net = slim.fully_connected(net, 3, activation_fn=None, scope='logits')
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      out = sess.run(net)
  assert out.shape == (2, 3) and np.isfinite(out).all()
