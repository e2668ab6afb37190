"""Variables: creation, collections, look-ups, restoring from values and checkpoints."""
import numpy as np
import pytest
import tensorflow as tf

import slimdata as slim

_v1 = tf.compat.v1
_Keys = _v1.GraphKeys


def _names(variables):
  return [v.op.name for v in variables]


def test_variable_collections_and_initial_values():
  with tf.Graph().as_default():
    with _v1.variable_scope('net'):
      w = slim.variable('w', shape=[2, 3], initializer=tf.ones_initializer())
      m = slim.model_variable('m', shape=[3], initializer=tf.constant_initializer(2.0),
                              collections=['mine'])
      frozen = slim.variable('frozen', shape=[], trainable=False,
                             initializer=tf.zeros_initializer())
      local = slim.local_variable(np.arange(3.0), name='local')
      glob = slim.global_variable([1.0, 2.0], name='glob')
    assert w.op.name == 'net/w' and m.op.name == 'net/m'
    assert _names(slim.get_variables()) == ['net/w', 'net/m', 'net/frozen', 'net/glob']
    assert _names(slim.get_model_variables()) == ['net/m']
    assert _names(slim.get_trainable_variables()) == ['net/w', 'net/m']
    assert _names(slim.get_local_variables()) == ['net/local']
    assert _names(_v1.get_collection('mine')) == ['net/m']
    assert frozen not in _v1.trainable_variables() and glob not in _v1.trainable_variables()
    with _v1.Session() as sess:
      sess.run([_v1.global_variables_initializer(), _v1.local_variables_initializer()])
      np.testing.assert_array_equal(sess.run(w), np.ones([2, 3]))
      np.testing.assert_array_equal(sess.run(m), [2.0, 2.0, 2.0])
      np.testing.assert_array_equal(sess.run(local), [0.0, 1.0, 2.0])


def test_reuse_returns_the_same_variable_and_regularizes_once():
  with tf.Graph().as_default():
    with _v1.variable_scope('s'):
      a = slim.model_variable('w', shape=[2], initializer=tf.constant_initializer(3.0),
                              regularizer=slim.l2_regularizer(0.5))
    with _v1.variable_scope('s', reuse=True):
      b = slim.model_variable('w', shape=[2])
    assert a is b
    losses = _v1.get_collection(_Keys.REGULARIZATION_LOSSES)
    assert len(losses) == 1
    with _v1.Session() as sess:
      sess.run(_v1.global_variables_initializer())
      assert sess.run(losses[0]) == pytest.approx(0.5 * (9.0 + 9.0) / 2)


def test_device_custom_getter_and_arg_scope():
  seen = []

  def getter(name, reuse=None, **kwargs):
    # Replaces get_variable (same signature), as TF-Slim's custom_getter did.
    seen.append((name, reuse))
    return _v1.get_variable(name, **kwargs)

  with tf.Graph().as_default():
    with slim.arg_scope([slim.model_variable], device='/cpu:0'):
      v = slim.model_variable('v', shape=[1], custom_getter=getter)
      placed = slim.model_variable('placed', shape=[1], device='/device:CPU:0')
    assert seen == [('v', _v1.get_variable_scope().reuse)]
    assert v.device.endswith('CPU:0') and placed.device.endswith('CPU:0')


def test_partitioned_variable_and_its_checkpoint_name(tmp_path):
  with tf.Graph().as_default():
    parts = slim.variable('p', shape=[4, 2], initializer=tf.ones_initializer(),
                          partitioner=_v1.fixed_size_partitioner(2))
    slices = list(parts)
    assert [s.op.name for s in slices] == ['p/part_0', 'p/part_1']
    assert [slim.get_variable_full_name(s) for s in slices] == ['p', 'p']
    with _v1.Session() as sess:
      sess.run(_v1.global_variables_initializer())
      path = _v1.train.Saver({'p': parts}).save(sess, str(tmp_path / 'parts'))
  with tf.Graph().as_default():
    parts = slim.variable('p', shape=[4, 2], initializer=tf.zeros_initializer(),
                          partitioner=_v1.fixed_size_partitioner(2))
    op, feed = slim.assign_from_checkpoint(path, list(parts))
    restore = slim.assign_from_checkpoint_fn(path, list(parts), ignore_missing_vars=True)
    with _v1.Session() as sess:
      sess.run(_v1.global_variables_initializer())
      sess.run(op, feed)
      np.testing.assert_array_equal(sess.run(parts.as_tensor()), np.ones([4, 2]))
      sess.run(_v1.global_variables_initializer())
      restore(sess)
      np.testing.assert_array_equal(sess.run(parts.as_tensor()), np.ones([4, 2]))


def test_lookups_by_scope_suffix_and_name():
  with tf.Graph().as_default():
    with _v1.variable_scope('a'):
      aw = slim.variable('weights', shape=[1])
      ab = slim.variable('biases', shape=[1])
    with _v1.variable_scope('b'):
      bw = slim.variable('weights', shape=[1])
      bw2 = slim.variable('my_weights', shape=[1])
    assert slim.get_variables('a') == [aw, ab]
    assert slim.get_variables(scope=_v1.VariableScope(False, name='b')) == [bw, bw2]
    assert slim.get_variables(suffix='weights') == [aw, bw, bw2]
    assert slim.get_variables_by_suffix('biases') == [ab]
    assert slim.get_variables_by_name('weights') == [aw, bw]
    assert slim.get_variables_by_name('weights', scope='b') == [bw]
    assert slim.get_unique_variable('b/weights') is bw
    with pytest.raises(ValueError, match="couldn't find variable 'c/weights'"):
      slim.get_unique_variable('c/weights')


def test_variables_to_restore_include_exclude():
  with tf.Graph().as_default():
    for scope in ('vgg/conv1', 'vgg/fc8', 'other'):
      with _v1.variable_scope(scope):
        slim.variable('w', shape=[1])
    assert _names(slim.get_variables_to_restore()) == ['vgg/conv1/w', 'vgg/fc8/w', 'other/w']
    assert _names(slim.get_variables_to_restore(include=['vgg'], exclude=['vgg/fc8'])) == [
        'vgg/conv1/w']
    with pytest.raises(TypeError, match='exclude must be a list or tuple'):
      slim.get_variables_to_restore(exclude='vgg/fc8')


def test_filter_variables():
  with tf.Graph().as_default():
    for scope in ('Conv1', 'Conv2', 'Logits'):
      with _v1.variable_scope(scope):
        slim.variable('weights', shape=[1])
        slim.variable('biases', shape=[1])
    got = slim.filter_variables(slim.get_variables(), include_patterns=['Conv'],
                                exclude_patterns=['biases'])
    assert _names(got) == ['Conv1/weights', 'Conv2/weights']
    assert _names(slim.filter_variables(slim.get_variables(), include_patterns=['weights'],
                                        reg_search=False)) == []


def test_global_step():
  with tf.Graph().as_default():
    assert slim.get_global_step() is None
    step = slim.get_or_create_global_step()
    assert step is slim.get_or_create_global_step() is slim.get_global_step()
    assert step.dtype.base_dtype == tf.int64 and step.op.name == 'global_step'
    assert slim.assert_or_get_global_step() is step
    with pytest.raises(ValueError):
      slim.create_global_step()


def test_assign_from_values():
  with tf.Graph().as_default():
    with _v1.variable_scope('s'):
      v = slim.variable('v', shape=[2, 2], initializer=tf.zeros_initializer())
    op, feed = slim.assign_from_values({'s/v': np.arange(4.0).reshape(2, 2)})
    fn = slim.assign_from_values_fn({'s/v': np.full((2, 2), 5.0)})
    with _v1.Session() as sess:
      sess.run(_v1.global_variables_initializer())
      sess.run(op, feed)
      np.testing.assert_array_equal(sess.run(v), [[0.0, 1.0], [2.0, 3.0]])
      fn(sess)
      np.testing.assert_array_equal(sess.run(v), np.full((2, 2), 5.0))
    with pytest.raises(ValueError, match="'s/missing' wasn't found"):
      slim.assign_from_values({'s/missing': np.zeros(1)})


def test_assign_from_checkpoint_and_fn(tmp_path):
  with tf.Graph().as_default():
    a = slim.variable('a', initializer=tf.constant([1.0, 2.0]))
    with _v1.Session() as sess:
      sess.run(_v1.global_variables_initializer())
      path = _v1.train.Saver().save(sess, str(tmp_path / 'model'))
  with tf.Graph().as_default():
    a = slim.variable('a', initializer=tf.constant([0.0, 0.0]))
    renamed = slim.variable('renamed', initializer=tf.constant([0.0, 0.0]))
    missing = slim.variable('missing', initializer=tf.constant([7.0]))
    with pytest.raises(ValueError, match=r'missing variable \[missing\]'):
      slim.assign_from_checkpoint(path, [a, missing])
    op, feed = slim.assign_from_checkpoint(path, {'a': renamed, 'missing': missing},
                                           ignore_missing_vars=True)
    fn = slim.assign_from_checkpoint_fn(path, [a, missing], ignore_missing_vars=True)
    assert slim.assign_from_checkpoint_fn(path, [missing], ignore_missing_vars=True) is None
    with pytest.raises(ValueError, match='var_list is empty'):
      slim.assign_from_checkpoint_fn(path, [])
    with _v1.Session() as sess:
      sess.run(_v1.global_variables_initializer())
      sess.run(op, feed)
      fn(sess)
      got_a, got_renamed, got_missing = sess.run([a, renamed, missing])
    np.testing.assert_array_equal(got_a, [1.0, 2.0])
    np.testing.assert_array_equal(got_renamed, [1.0, 2.0])
    np.testing.assert_array_equal(got_missing, [7.0])


def test_add_model_variable_once():
  with tf.Graph().as_default():
    v = slim.variable('v', shape=[1])
    slim.add_model_variable(v)
    slim.add_model_variable(v)
    assert slim.get_model_variables() == [v]


def test_variable_device_chooser_round_robin():
  chooser = slim.VariableDeviceChooser(num_tasks=2)
  devices = [chooser(None) for _ in range(3)]
  assert devices == ['/job:ps/task:0/device:CPU:0', '/job:ps/task:1/device:CPU:0',
                     '/job:ps/task:0/device:CPU:0']
  assert slim.VariableDeviceChooser(device_type='GPU')(None) == '/device:GPU:0'
  with tf.Graph().as_default():
    with _v1.device(slim.VariableDeviceChooser(num_tasks=2)):
      v0 = slim.variable('v0', shape=[1])
      v1 = slim.variable('v1', shape=[1])
    assert v0.device.startswith('/job:ps/task:0') and v1.device.startswith('/job:ps/task:1')
