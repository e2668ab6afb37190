"""Checkpoints interchange between slimdata and the `tf_slim` package (TF-Slim 1.1.0).

The same small network (conv2d + batch_norm + separable_conv2d + fully_connected,
inside arg_scope) is built with each library; a checkpoint saved by one restores
into the other and gives the same outputs, and one training step (batch statistics
and moving-average updates) matches too. Then every layer, one at a time: the same
variables and collections, and the same outputs from the same variable values.

tf_slim 1.1.0 on TF 2.21: its layers are tf.compat.v1.layers (Keras 2) classes.
Conv, dense and pooling come from TF's bundled copy, but BatchNormalization is
lazily imported from `tf_keras.legacy_tf_layers`, a module that tf_keras 2.21
ships as `tf_keras.src.legacy_tf_layers`. With the `tf-keras` package installed
(tests only), aliasing that one module is the whole workaround. Only its default
batch_norm path works (rank-4 inputs, UPDATE_OPS): its own fused path uses the
removed `ops.Tensor`.
"""
import importlib
import sys

import numpy as np
import pytest
import tensorflow as tf

import slimdata

_v1 = tf.compat.v1


def _import_tf_slim():
  legacy = pytest.importorskip(
      'tf_keras.src.legacy_tf_layers',
      reason='tf_slim 1.1.0 needs the tf-keras package for batch_norm on TF 2.21')
  sys.modules.setdefault('tf_keras.legacy_tf_layers', legacy)
  sys.modules.setdefault('tf_keras.legacy_tf_layers.normalization',
                         importlib.import_module('tf_keras.src.legacy_tf_layers.normalization'))
  return importlib.import_module('tf_slim')


@pytest.fixture(scope='module')
def tf_slim():
  return _import_tf_slim()


def _net(slim, images, is_training):
  """The network, written once for both libraries."""
  with slim.arg_scope([slim.conv2d, slim.separable_conv2d], normalizer_fn=slim.batch_norm,
                      normalizer_params={
                          'is_training': is_training,
                          'scale': True,
                          'decay': 0.5,
                          'param_initializers': {
                              'beta': _v1.random_normal_initializer(seed=1),
                              'gamma': _v1.random_uniform_initializer(0.5, 1.5, seed=2)
                          }
                      }):
    net = slim.conv2d(images, 4, [3, 3], scope='conv1')
    net = slim.separable_conv2d(net, 6, [3, 3], depth_multiplier=2, scope='sep')
    net = slim.separable_conv2d(net, None, [3, 3], stride=2, scope='dw')
    net = slim.max_pool2d(net, [2, 2], scope='pool')
    net = slim.flatten(net)
    net = slim.fully_connected(net, 5, activation_fn=None,
                               biases_initializer=_v1.random_normal_initializer(seed=3),
                               weights_regularizer=slim.l2_regularizer(0.01), scope='logits')
  return net


def _model(slim):
  """Training and inference outputs sharing variables, in the current graph."""
  images = _v1.placeholder(tf.float32, [4, 8, 8, 3])
  with _v1.variable_scope('model'):
    train_out = _net(slim, images, is_training=True)
  with _v1.variable_scope('model', reuse=True):
    eval_out = _net(slim, images, is_training=False)
  update_ops = _v1.get_collection(_v1.GraphKeys.UPDATE_OPS)
  return images, train_out, eval_out, update_ops


def _moving_stats():
  return sorted((v for v in _v1.global_variables() if 'moving_' in v.op.name),
                key=lambda v: v.op.name)


def _variable_table():
  return {v.op.name: tuple(v.shape.as_list()) for v in _v1.global_variables()}


@pytest.fixture(scope='module')
def batches():
  rng = np.random.default_rng(0)
  return [rng.normal(size=(4, 8, 8, 3)).astype(np.float32) for _ in range(3)]


def _save_after_training(slim, batches, path):
  """Builds with `slim`, runs one training step on batch 0, saves; returns names/shapes."""
  with tf.Graph().as_default():
    _v1.set_random_seed(7)
    images, train_out, _, update_ops = _model(slim)
    with _v1.Session() as sess:
      sess.run(_v1.global_variables_initializer())
      sess.run([train_out] + update_ops, {images: batches[0]})
      _v1.train.Saver().save(sess, path)
    return _variable_table()


def _restore_and_run(slim, batches, path):
  """Builds with `slim`, restores `path`; returns eval outputs on batch 1, then the training
  outputs on batch 2 and the moving statistics after that step."""
  with tf.Graph().as_default():
    images, train_out, eval_out, update_ops = _model(slim)
    with _v1.Session() as sess:
      _v1.train.Saver().restore(sess, path)
      evaluated = sess.run(eval_out, {images: batches[1]})
      trained = sess.run([train_out] + update_ops, {images: batches[2]})[0]
      stats = sess.run(_moving_stats())
    return _variable_table(), evaluated, trained, stats


def test_variable_names_and_shapes_are_the_same(tf_slim, batches, tmp_path):
  ours = _save_after_training(slimdata, batches, str(tmp_path / 'ours'))
  theirs = _save_after_training(tf_slim, batches, str(tmp_path / 'theirs'))
  assert ours == theirs
  assert ours['model/conv1/BatchNorm/moving_variance'] == (4,)
  assert ours['model/sep/depthwise_weights'] == (3, 3, 4, 2)
  assert ours['model/sep/pointwise_weights'] == (1, 1, 8, 6)
  assert ours['model/dw/depthwise_weights'] == (3, 3, 6, 1)
  assert ours['model/logits/weights'] == (24, 5)
  assert 'model/conv1/biases' not in ours  # normalizer_fn replaces biases


def test_tf_slim_checkpoint_restores_into_slimdata(tf_slim, batches, tmp_path):
  path = str(tmp_path / 'tf_slim.ckpt')
  _save_after_training(tf_slim, batches, path)
  _, ref_eval, ref_train, ref_stats = _restore_and_run(tf_slim, batches, path)
  _, eval_out, train_out, stats = _restore_and_run(slimdata, batches, path)
  np.testing.assert_allclose(eval_out, ref_eval, rtol=1e-4, atol=1e-4)
  np.testing.assert_allclose(train_out, ref_train, rtol=1e-4, atol=1e-4)
  for got, want in zip(stats, ref_stats):
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_slimdata_checkpoint_restores_into_tf_slim(tf_slim, batches, tmp_path):
  path = str(tmp_path / 'slimdata.ckpt')
  _save_after_training(slimdata, batches, path)
  _, ref_eval, ref_train, ref_stats = _restore_and_run(slimdata, batches, path)
  _, eval_out, train_out, stats = _restore_and_run(tf_slim, batches, path)
  np.testing.assert_allclose(eval_out, ref_eval, rtol=1e-4, atol=1e-4)
  np.testing.assert_allclose(train_out, ref_train, rtol=1e-4, atol=1e-4)
  for got, want in zip(stats, ref_stats):
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def _renorm_steps(slim, batches):
  """Two training steps of a renormalized batch_norm; returns outputs and variables."""
  with tf.Graph().as_default():
    images = _v1.placeholder(tf.float32, [4, 8, 8, 3])
    out = slim.batch_norm(images, decay=0.8, scale=True, renorm=True, renorm_decay=0.7,
                          renorm_clipping={'rmax': 1.3, 'rmin': 0.8, 'dmax': 0.4},
                          scope='bn')
    update_ops = _v1.get_collection(_v1.GraphKeys.UPDATE_OPS)
    variables = sorted(_v1.global_variables(), key=lambda v: v.op.name)
    with _v1.Session() as sess:
      sess.run(_v1.global_variables_initializer())
      outputs = [sess.run([out] + update_ops, {images: 3 * batch + 1})[0]
                 for batch in batches[:2]]
      return outputs, {v.op.name: value for v, value in zip(variables, sess.run(variables))}


def test_batch_renorm_matches_tf_slim(tf_slim, batches):
  ours, our_variables = _renorm_steps(slimdata, batches)
  theirs, their_variables = _renorm_steps(tf_slim, batches)
  assert sorted(our_variables) == sorted(their_variables) == [
      'bn/beta', 'bn/gamma', 'bn/moving_mean', 'bn/moving_stddev', 'bn/moving_variance',
      'bn/renorm_mean', 'bn/renorm_stddev']
  for got, want in zip(ours, theirs):
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
  for name, value in their_variables.items():
    np.testing.assert_allclose(our_variables[name], value, rtol=1e-5, atol=1e-5, err_msg=name)


# Every layer, built by both libraries: the same variables (names, shapes, collections)
# and, given the same variable values, the same outputs.
_CASES = {
    'conv2d': lambda s, x: s.conv2d(x['4d'], 3, [3, 2], stride=2,
                                    weights_regularizer=s.l2_regularizer(0.1)),
    'conv2d_rate_valid': lambda s, x: s.conv2d(x['4d'], 2, 3, rate=2, padding='VALID',
                                               activation_fn=None),
    'conv2d_nchw': lambda s, x: s.conv2d(x['nchw'], 2, 3, data_format='NCHW'),
    'conv1d': lambda s, x: s.convolution(x['3d'], 4, 3, stride=2),
    'conv3d': lambda s, x: s.conv3d(x['5d'], 2, [2, 3, 3], biases_initializer=None),
    'conv2d_in_plane': lambda s, x: s.conv2d_in_plane(x['4d'], [3, 2], stride=2),
    'conv2d_transpose': lambda s, x: s.conv2d_transpose(x['4d'], 2, 3, stride=2),
    'conv2d_transpose_valid': lambda s, x: s.conv2d_transpose(x['4d'], 2, [3, 2], stride=2,
                                                              padding='VALID'),
    'conv3d_transpose': lambda s, x: s.conv3d_transpose(x['5d'], 2, 2, stride=2),
    'separable_conv2d': lambda s, x: s.separable_conv2d(x['4d'], 4, 3, depth_multiplier=2,
                                                        rate=2, variables_collections=['W']),
    'separable_depthwise': lambda s, x: s.separable_conv2d(x['4d'], None, 3, stride=2,
                                                           depth_multiplier=2),
    'fully_connected': lambda s, x: s.fully_connected(x['2d'], 4, variables_collections={
        'weights': ['W'], 'biases': ['B']}),
    'fully_connected_3d': lambda s, x: s.fully_connected(x['3d'], 2, activation_fn=None),
    'conv2d_with_batch_norm': lambda s, x: s.conv2d(
        x['4d'], 3, 3, normalizer_fn=s.batch_norm, normalizer_params={
            'scale': True, 'variables_collections': ['BN'], 'param_initializers': {
                'moving_mean': _v1.constant_initializer(0.5)}}),
    'batch_norm_inference': lambda s, x: s.batch_norm(x['4d'], is_training=False, center=False,
                                                      scale=True, activation_fn=tf.nn.relu),
    'bias_add': lambda s, x: s.bias_add(x['nchw'], data_format='NCHW'),
    'layer_norm': lambda s, x: s.layer_norm(x['4d'], begin_norm_axis=2),
    'pools': lambda s, x: s.avg_pool2d(s.max_pool2d(x['4d'], 2, stride=1, padding='SAME'), 3),
    'pool3d': lambda s, x: s.max_pool3d(s.avg_pool3d(x['5d'], 2, stride=1), 2, padding='SAME'),
    'flatten_dropout': lambda s, x: s.dropout(s.flatten(x['4d']), is_training=False),
    'one_hot': lambda s, x: s.one_hot_encoding(tf.constant([2, 0, 1]), 4),
    'softmax_unit_norm': lambda s, x: s.unit_norm(s.softmax(x['3d']), dim=2),
    'repeat_stack': lambda s, x: s.stack(s.repeat(x['4d'], 2, s.conv2d, 3, 3, scope='r'),
                                         s.conv2d, [(4, 1), (2, 3)]),
}


def _inputs():
  rng = np.random.default_rng(5)
  x4 = rng.normal(size=(2, 6, 6, 3)).astype(np.float32)
  return {'4d': tf.constant(x4), 'nchw': tf.constant(x4.transpose(0, 3, 1, 2)),
          '2d': tf.constant(rng.normal(size=(3, 5)).astype(np.float32)),
          '3d': tf.constant(rng.normal(size=(2, 7, 3)).astype(np.float32)),
          '5d': tf.constant(rng.normal(size=(1, 4, 4, 4, 2)).astype(np.float32))}


def _build_case(slim, case, values=None):
  """Builds a case; returns its variable table, collections, output and variable values."""
  with tf.Graph().as_default():
    _v1.set_random_seed(3)
    with _v1.variable_scope('case'):
      out = _CASES[case](slim, _inputs())
    trainable = set(_v1.trainable_variables())
    model = set(_v1.model_variables())
    table = [(v.op.name, v.shape.as_list(), v in trainable, v in model)
             for v in _v1.global_variables()]
    collections = {key: sorted(v.op.name for v in _v1.get_collection(key))
                   for key in ('W', 'B', 'BN')}
    collections['losses'] = len(_v1.get_collection(_v1.GraphKeys.REGULARIZATION_LOSSES))
    collections['updates'] = len(_v1.get_collection(_v1.GraphKeys.UPDATE_OPS))
    with _v1.Session() as sess:
      sess.run(_v1.global_variables_initializer())
      for var in _v1.global_variables():
        if values is not None:
          var.load(values[var.op.name], sess)
      values = {v.op.name: sess.run(v) for v in _v1.global_variables()}
      return table, collections, out.shape.as_list(), sess.run(out), values


@pytest.mark.parametrize('case', sorted(_CASES))
def test_layer_matches_tf_slim(tf_slim, case):
  their_table, their_collections, their_shape, theirs, values = _build_case(tf_slim, case)
  our_table, our_collections, our_shape, ours, _ = _build_case(slimdata, case, values)
  assert sorted(our_table) == sorted(their_table)
  assert our_collections == their_collections
  assert our_shape == their_shape
  np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
