"""Convolution layers against NumPy: values, variable names and shapes, options."""
import numpy as np
import pytest
import tensorflow as tf

import slimdata as slim

import layers_testlib as lib

_v1 = tf.compat.v1
_rng = np.random.default_rng(42)


def _x(*shape):
  return _rng.normal(size=shape).astype(np.float32)


def _var(name):
  return slim.get_unique_variable(name)


@pytest.mark.parametrize('stride,padding,rate', [(1, 'SAME', 1), (2, 'SAME', 1),
                                                 (2, 'VALID', 1), (1, 'SAME', 2)])
def test_conv2d_matches_numpy(stride, padding, rate):
  x = _x(2, 7, 6, 3)
  with tf.Graph().as_default():
    out = slim.conv2d(tf.constant(x), 4, [3, 2], stride=stride, padding=padding, rate=rate,
                      biases_initializer=tf.constant_initializer(0.5))
    weights, biases = _var('Conv/weights'), _var('Conv/biases')
    assert weights.shape.as_list() == [3, 2, 3, 4] and biases.shape.as_list() == [4]
    got, w = lib.run([out, weights])
  want = np.maximum(lib.np_conv(x, w, (stride, stride), padding, (rate, rate)) + 0.5, 0)
  np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('layer,args', [
    (slim.conv2d, (4, 3)), (slim.separable_conv2d, (4, 3)), (slim.separable_conv2d, (None, 3)),
    (slim.conv2d_transpose, (4, 3))])
def test_nchw_equals_nhwc(layer, args):
  x = _x(2, 5, 5, 3)
  with tf.Graph().as_default():
    nhwc = layer(tf.constant(x), *args, stride=2, activation_fn=None, scope='c',
                 biases_initializer=tf.random_normal_initializer())
    nchw = layer(tf.constant(x.transpose(0, 3, 1, 2)), *args, stride=2, activation_fn=None,
                 data_format='NCHW', scope='c', reuse=True)
    a, b = lib.run([nhwc, nchw])
  np.testing.assert_allclose(a, b.transpose(0, 2, 3, 1), rtol=1e-4, atol=1e-5)


def test_kernel_sizes_and_strides_may_be_numpy_ints():
  with tf.Graph().as_default():
    out = slim.conv2d(tf.zeros([1, 6, 6, 1]), np.int64(2), np.int32(3), stride=(np.int64(2), 1))
    assert out.shape.as_list() == [1, 3, 6, 2]
    with pytest.raises(ValueError, match='positive integer'):
      slim.conv2d(tf.zeros([1, 6, 6, 1]), 2, [3, 0])


def test_conv1d_and_conv3d_via_convolution():
  x1, x3 = _x(2, 9, 3), _x(1, 4, 5, 4, 2)
  with tf.Graph().as_default():
    out1 = slim.convolution(tf.constant(x1), 4, 3, stride=2, activation_fn=None)
    out3 = slim.conv3d(tf.constant(x3), 3, [2, 3, 3], padding='VALID', activation_fn=None)
    assert _var('Conv/weights').shape.as_list() == [3, 3, 4]
    assert _var('Conv_1/weights').shape.as_list() == [2, 3, 3, 2, 3]
    got1, got3, w1, w3 = lib.run([out1, out3, _var('Conv/weights'), _var('Conv_1/weights')])
  np.testing.assert_allclose(got1, lib.np_conv(x1, w1, (2,), 'SAME'), rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(got3, lib.np_conv(x3, w3, (1, 1, 1), 'VALID'), rtol=1e-4,
                             atol=1e-5)


def test_fixed_rank_convolutions_reject_other_ranks():
  with tf.Graph().as_default():
    with pytest.raises(ValueError, match='expected inputs of rank 4'):
      slim.conv2d(tf.zeros([1, 4, 3]), 2, 3)
    with pytest.raises(ValueError, match='data_format'):
      slim.convolution(tf.zeros([1, 4, 4, 3]), 2, 3, data_format='HWCN')


def test_default_scopes_are_unique_and_named_as_tf_slim():
  with tf.Graph().as_default():
    x = tf.zeros([1, 4, 4, 2])
    slim.conv2d(x, 2, 3)
    slim.conv2d(x, 2, 3)
    slim.separable_conv2d(x, 2, 3)
    slim.conv2d_transpose(x, 2, 3)
    slim.conv2d_in_plane(x, 3)
    names = [v.op.name for v in slim.get_model_variables()]
  assert names == ['Conv/weights', 'Conv/biases', 'Conv_1/weights', 'Conv_1/biases',
                   'SeparableConv2d/depthwise_weights', 'SeparableConv2d/pointwise_weights',
                   'SeparableConv2d/biases', 'Conv2d_transpose/weights',
                   'Conv2d_transpose/biases', 'ConvInPlane/weights', 'ConvInPlane/biases']


def test_normalizer_replaces_biases_and_gets_its_params():
  seen = {}

  def normalizer(inputs, **params):
    seen.update(params)
    return inputs * 10.0

  x = _x(1, 3, 3, 2)
  with tf.Graph().as_default():
    out = slim.conv2d(tf.constant(x), 2, 1, normalizer_fn=normalizer,
                      normalizer_params={'k': 1}, activation_fn=None)
    assert [v.op.name for v in slim.get_variables()] == ['Conv/weights']
    got, w = lib.run([out, _var('Conv/weights')])
  assert seen == {'k': 1}
  np.testing.assert_allclose(got, 10.0 * lib.np_conv(x, w, (1, 1), 'SAME'), rtol=1e-4,
                             atol=1e-5)


def test_options_collections_regularizers_trainable_reuse():
  with tf.Graph().as_default():
    x = tf.ones([1, 3, 3, 1])
    out = slim.conv2d(x, 2, 3, scope='conv', trainable=False,
                      weights_initializer=tf.ones_initializer(),
                      weights_regularizer=slim.l2_regularizer(1.0),
                      biases_regularizer=slim.l1_regularizer(1.0),
                      biases_initializer=tf.constant_initializer(-1.0),
                      variables_collections={'weights': ['W'], 'biases': ['B']},
                      outputs_collections='ends')
    again = slim.conv2d(x, 2, 3, scope='conv', reuse=True)
    assert slim.get_trainable_variables() == []
    assert [v.op.name for v in _v1.get_collection('W')] == ['conv/weights']
    assert [v.op.name for v in _v1.get_collection('B')] == ['conv/biases']
    assert list(slim.utils.convert_collection_to_dict('ends')) == ['conv']
    losses = _v1.get_collection(_v1.GraphKeys.REGULARIZATION_LOSSES)
    got, got_again, loss_values = lib.run([out, again, losses])
  # Centre pixel sees all 9 ones, corners 4; minus the bias of 1.
  assert got[0, 1, 1, 0] == pytest.approx(8.0) and got[0, 0, 0, 0] == pytest.approx(3.0)
  np.testing.assert_array_equal(got, got_again)
  assert sorted(loss_values) == pytest.approx([2.0, 9.0])  # |b| * 2; sum(w^2)/2 * 18


def test_conv2d_transpose_matches_numpy():
  x = _x(2, 3, 4, 3)
  with tf.Graph().as_default():
    ph = _v1.placeholder(tf.float32, [None, 3, 4, 3])
    same = slim.conv2d_transpose(ph, 2, 3, stride=2, activation_fn=None, scope='same')
    valid = slim.conv2d_transpose(ph, 2, [3, 2], stride=2, padding='VALID',
                                  activation_fn=None, scope='valid')
    assert same.shape.as_list() == [None, 6, 8, 2]
    assert valid.shape.as_list() == [None, 7, 8, 2]
    assert _var('same/weights').shape.as_list() == [3, 3, 2, 3]
    got_same, got_valid, w_same, w_valid = lib.run(
        [same, valid, _var('same/weights'), _var('valid/weights')], {ph: x})
  np.testing.assert_allclose(got_same, lib.np_conv2d_transpose(x, w_same, 2, 'SAME'),
                             rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(got_valid, lib.np_conv2d_transpose(x, w_valid, 2, 'VALID'),
                             rtol=1e-4, atol=1e-5)


def test_conv2d_transpose_is_the_gradient_of_conv2d():
  # The other way to compute it: d(sum(conv2d(y) * x))/dy.
  x = _x(1, 3, 3, 2)
  with tf.Graph().as_default():
    out = slim.conv2d_transpose(tf.constant(x), 4, 3, stride=2, activation_fn=None,
                                biases_initializer=None)
    w = _var('Conv2d_transpose/weights')
    y = tf.zeros([1, 6, 6, 4])
    grad = tf.gradients(tf.reduce_sum(tf.nn.conv2d(y, w, 2, 'SAME') * x), y)[0]
    got, want = lib.run([out, grad])
  np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_conv3d_transpose_shape():
  with tf.Graph().as_default():
    out = slim.conv3d_transpose(tf.zeros([1, 2, 3, 3, 2]), 4, 3, stride=2)
    assert out.shape.as_list() == [1, 4, 6, 6, 4]
    assert _var('Conv3d_transpose/weights').shape.as_list() == [3, 3, 3, 4, 2]


@pytest.mark.parametrize('multiplier,stride,rate', [(1, 1, 1), (2, 2, 1), (1, 1, 2)])
def test_separable_conv2d_matches_numpy(multiplier, stride, rate):
  x = _x(2, 6, 5, 3)
  with tf.Graph().as_default():
    out = slim.separable_conv2d(tf.constant(x), 4, [3, 3], depth_multiplier=multiplier,
                                stride=stride, rate=rate, activation_fn=None,
                                biases_initializer=tf.constant_initializer(0.25))
    dw, pw = _var('SeparableConv2d/depthwise_weights'), _var('SeparableConv2d/pointwise_weights')
    assert dw.shape.as_list() == [3, 3, 3, multiplier]
    assert pw.shape.as_list() == [1, 1, 3 * multiplier, 4]
    got, dw_value, pw_value = lib.run([out, dw, pw])
  depthwise = lib.np_depthwise(x, dw_value, (stride, stride), 'SAME', (rate, rate))
  want = lib.np_conv(depthwise, pw_value, (1, 1), 'SAME') + 0.25
  np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_separable_conv2d_depthwise_only():
  x = _x(1, 5, 5, 2)
  with tf.Graph().as_default():
    out = slim.separable_conv2d(tf.constant(x), None, 3, depth_multiplier=3, stride=2,
                                padding='VALID', scope='dw')
    assert [v.op.name for v in slim.get_variables()] == ['dw/depthwise_weights', 'dw/biases']
    assert _var('dw/biases').shape.as_list() == [6]
    got, dw = lib.run([out, _var('dw/depthwise_weights')])
  want = np.maximum(lib.np_depthwise(x, dw, (2, 2), 'VALID'), 0)
  np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_conv2d_in_plane_shares_one_filter_across_channels():
  x = _x(1, 4, 4, 3)
  with tf.Graph().as_default():
    out = slim.conv2d_in_plane(tf.constant(x), [2, 3], activation_fn=None)
    assert _var('ConvInPlane/weights').shape.as_list() == [2, 3, 1, 1]
    assert _var('ConvInPlane/biases').shape.as_list() == [3]
    got, w = lib.run([out, _var('ConvInPlane/weights')])
  want = np.concatenate([lib.np_conv(x[..., c:c + 1], w, (1, 1), 'SAME') for c in range(3)],
                        axis=-1)
  np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
