"""Core layers against NumPy: fully_connected, bias_add, dropout, flatten, one-hot,
softmax, unit_norm, pooling, and the composition helpers repeat and stack."""
import numpy as np
import pytest
import tensorflow as tf

import slimdata as slim

import layers_testlib as lib

_v1 = tf.compat.v1
_rng = np.random.default_rng(3)


def _x(*shape):
  return _rng.normal(size=shape).astype(np.float32)


def _names(variables):
  return [v.op.name for v in variables]


def test_fully_connected_matches_numpy_for_rank_2_and_3():
  x2, x3 = _x(4, 5), _x(2, 3, 5)
  with tf.Graph().as_default():
    out2 = slim.fully_connected(tf.constant(x2), 3,
                                biases_initializer=tf.constant_initializer(0.1))
    ph = _v1.placeholder(tf.float32, [None, 3, 5])
    out3 = slim.fully_connected(ph, 2, activation_fn=None, scope='fc3')
    assert out3.shape.as_list() == [None, 3, 2]
    assert _names(slim.get_model_variables()) == ['fully_connected/weights',
                                                  'fully_connected/biases', 'fc3/weights',
                                                  'fc3/biases']
    got2, got3, w2, w3 = lib.run([out2, out3, slim.get_unique_variable('fully_connected/weights'),
                                  slim.get_unique_variable('fc3/weights')], {ph: x3})
  np.testing.assert_allclose(got2, np.maximum(x2 @ w2 + 0.1, 0), rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(got3, x3 @ w3, rtol=1e-5, atol=1e-6)


def test_fully_connected_options():
  with tf.Graph().as_default():
    x = tf.ones([2, 3])
    slim.fully_connected(x, 4, biases_initializer=None, scope='nobias')
    slim.fully_connected(x, 4, normalizer_fn=slim.batch_norm, scope='bn')
    out = slim.linear(x, 2, scope='lin', weights_initializer=tf.constant_initializer(-1.0))
    assert _names(slim.get_variables('nobias')) == ['nobias/weights']
    assert _names(slim.get_variables('bn')) == ['bn/weights', 'bn/BatchNorm/beta',
                                                'bn/BatchNorm/moving_mean',
                                                'bn/BatchNorm/moving_variance']
    np.testing.assert_allclose(lib.run(out), np.full([2, 2], -3.0))  # linear: no ReLU
    with pytest.raises(ValueError, match='num_outputs must be an int'):
      slim.fully_connected(x, 4.0)
    with pytest.raises(ValueError, match='last dimension|channels dimension'):
      slim.fully_connected(_v1.placeholder(tf.float32, [2, None]), 4)


def test_bias_add_nhwc_and_nchw():
  x = _x(2, 3, 2, 2)
  with tf.Graph().as_default():
    nhwc = slim.bias_add(tf.constant(x), initializer=tf.constant_initializer([1.0, -1.0]))
    nchw = slim.bias_add(tf.constant(x), data_format='NCHW', activation_fn=tf.nn.relu,
                         initializer=tf.constant_initializer([1.0, 2.0, 3.0]))
    assert _names(slim.get_model_variables()) == ['BiasAdd/biases', 'BiasAdd_1/biases']
    got_nhwc, got_nchw = lib.run([nhwc, nchw])
  np.testing.assert_allclose(got_nhwc, x + np.array([1.0, -1.0]), rtol=1e-6)
  np.testing.assert_allclose(got_nchw, np.maximum(x + np.array([1.0, 2.0, 3.0])[:, None, None],
                                                  0), rtol=1e-6)


def test_dropout_in_training_and_inference():
  x = np.ones([200, 50], np.float32)
  with tf.Graph().as_default():
    training = _v1.placeholder(tf.bool, [])
    out = slim.dropout(tf.constant(x), keep_prob=0.75, is_training=training, seed=1)
    rows = slim.dropout(tf.constant(x), keep_prob=0.5, noise_shape=[None, 1], seed=2)
    off = slim.dropout(tf.constant(x), is_training=False)
    with _v1.Session() as sess:
      trained, by_row, untouched = sess.run([out, rows, off], {training: True})
      inferred = sess.run(out, {training: False})
  np.testing.assert_allclose(np.unique(trained), [0.0, 1.0 / 0.75], rtol=1e-6)
  assert abs((trained > 0).mean() - 0.75) < 0.03  # 10,000 draws: ~7 standard deviations
  np.testing.assert_array_equal(inferred, x)
  np.testing.assert_array_equal(untouched, x)
  assert all(len(np.unique(row)) == 1 for row in by_row)  # one mask value per row
  assert 0 < (by_row[:, 0] > 0).mean() < 1


def test_flatten():
  x = _x(2, 3, 4, 5)
  with tf.Graph().as_default():
    ph = _v1.placeholder(tf.float32, [None, 3, 4, 5])
    out = slim.flatten(ph)
    partly = slim.flatten(_v1.placeholder(tf.float32, [2, None, 3]))
    single = slim.flatten(tf.constant([1.0, 2.0]))
    assert out.shape.as_list() == [None, 60]
    assert partly.shape.as_list() == [2, None]
    got, got_single = lib.run([out, single], {ph: x})
  np.testing.assert_array_equal(got, x.reshape(2, 60))
  np.testing.assert_array_equal(got_single, [[1.0], [2.0]])


def test_one_hot_encoding_softmax_unit_norm():
  logits = _x(2, 3, 4)
  with tf.Graph().as_default():
    one_hot = slim.one_hot_encoding(tf.constant([0, 2, 1]), 3, on_value=5.0, off_value=-1.0)
    probs = slim.softmax(tf.constant(logits))
    normed = slim.unit_norm(tf.constant(logits), dim=1)
    with pytest.raises(ValueError, match='dim must be in'):
      slim.unit_norm(tf.constant(logits), dim=3)
    got_one_hot, got_probs, got_normed = lib.run([one_hot, probs, normed])
  np.testing.assert_array_equal(got_one_hot, [[5, -1, -1], [-1, -1, 5], [-1, 5, -1]])
  exp = np.exp(logits - logits.max(-1, keepdims=True))
  np.testing.assert_allclose(got_probs, exp / exp.sum(-1, keepdims=True), rtol=1e-5)
  norms = np.sqrt(1e-7 + (logits ** 2).sum(1, keepdims=True))
  np.testing.assert_allclose(got_normed, logits / norms, rtol=1e-5)


@pytest.mark.parametrize('kernel,stride,padding', [([2, 2], 2, 'VALID'), (3, 1, 'SAME'),
                                                   ([3, 2], [2, 1], 'SAME')])
def test_pooling_matches_numpy(kernel, stride, padding):
  x = _x(2, 5, 4, 3)
  kernel2 = kernel if isinstance(kernel, list) else [kernel] * 2
  stride2 = stride if isinstance(stride, list) else [stride] * 2
  with tf.Graph().as_default():
    max_out = slim.max_pool2d(tf.constant(x), kernel, stride=stride, padding=padding)
    avg_out = slim.avg_pool2d(tf.constant(x), kernel, stride=stride, padding=padding)
    nchw = slim.max_pool2d(tf.constant(x.transpose(0, 3, 1, 2)), kernel, stride=stride,
                           padding=padding, data_format='NCHW')
    got_max, got_avg, got_nchw = lib.run([max_out, avg_out, nchw])
  np.testing.assert_allclose(got_max, lib.np_pool(x, kernel2, stride2, padding, 'max'),
                             rtol=1e-6)
  np.testing.assert_allclose(got_avg, lib.np_pool(x, kernel2, stride2, padding, 'avg'),
                             rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(got_nchw.transpose(0, 2, 3, 1), got_max, rtol=1e-6)


def test_pool3d_and_generic_pool():
  x = _x(1, 4, 4, 4, 2)
  with tf.Graph().as_default():
    max3 = slim.max_pool3d(tf.constant(x), 2)
    avg3 = slim.avg_pool3d(tf.constant(x), [2, 2, 2])
    generic = slim.pool(tf.constant(x[:, 0]), [2, 2], 'MAX', stride=2)
    got_max, got_avg, got_generic = lib.run([max3, avg3, generic])
  blocks = x.reshape(1, 2, 2, 2, 2, 2, 2, 2).transpose(0, 1, 3, 5, 2, 4, 6, 7)
  np.testing.assert_allclose(got_max, blocks.reshape(1, 2, 2, 2, 8, 2).max(4), rtol=1e-6)
  np.testing.assert_allclose(got_avg, blocks.reshape(1, 2, 2, 2, 8, 2).mean(4), rtol=1e-5)
  np.testing.assert_allclose(got_generic, lib.np_pool(x[:, 0], [2, 2], [2, 2], 'VALID', 'max'))


def test_end_points_are_collected_under_scope_names():
  with tf.Graph().as_default():
    with _v1.variable_scope('net'):
      net = slim.conv2d(tf.zeros([1, 4, 4, 1]), 2, 3, scope='conv1', outputs_collections='ep')
      net = slim.max_pool2d(net, 2, scope='pool1', outputs_collections='ep')
      net = slim.flatten(net, outputs_collections='ep')
      net = slim.fully_connected(net, 3, scope='fc', outputs_collections=['ep', 'other'])
    end_points = slim.utils.convert_collection_to_dict('ep')
    assert list(end_points) == ['net/conv1', 'net/pool1', 'net/Flatten', 'net/fc']
    assert end_points['net/fc'] is net
    assert slim.utils.convert_collection_to_dict('other', clear_collection=True) == {
        'net/fc': net}
    assert _v1.get_collection('other') == []


def test_repeat_and_stack_scopes():
  with tf.Graph().as_default():
    x = tf.zeros([1, 4, 4, 2])
    slim.repeat(x, 2, slim.conv2d, 3, [3, 3], scope='conv3')
    slim.repeat(x, 2, slim.conv2d, 3, [3, 3])
    slim.stack(tf.zeros([1, 5]), slim.fully_connected, [4, 6], scope='fc')
    slim.stack(x, slim.conv2d, [(2, [3, 3]), (4, [1, 1])], scope='convs')
    weights = slim.get_variables_by_name('weights')
    with pytest.raises(ValueError, match='stack_args must be a list'):
      slim.stack(x, slim.conv2d, 3)
  assert [(v.op.name, v.shape.as_list()) for v in weights] == [
      ('conv3/conv3_1/weights', [3, 3, 2, 3]), ('conv3/conv3_2/weights', [3, 3, 3, 3]),
      ('Repeat/convolution2d_1/weights', [3, 3, 2, 3]),
      ('Repeat/convolution2d_2/weights', [3, 3, 3, 3]), ('fc/fc_1/weights', [5, 4]),
      ('fc/fc_2/weights', [4, 6]), ('convs/convs_1/weights', [3, 3, 2, 2]),
      ('convs/convs_2/weights', [1, 1, 2, 4])
  ]
