"""Summaries: names, prefixes, the SUMMARIES collection, and the values they record."""
import numpy as np
import tensorflow as tf

import slimdata as slim

_v1 = tf.compat.v1


def _summary_values(serialized):
  """{tag: value} of a serialized Summary proto (simple_value, or the histogram's count)."""
  summary = tf.compat.v1.Summary.FromString(serialized)
  out = {}
  for value in summary.value:
    kind = value.WhichOneof('value')
    out[value.tag] = {'simple_value': value.simple_value,
                      'histo': value.histo.num if kind == 'histo' else None,
                      'image': (value.image.height, value.image.width) if kind == 'image'
                               else None}[kind]
  return out


def test_scalar_histogram_image_and_zero_fraction():
  with tf.Graph().as_default():
    loss = tf.constant(2.5, name='loss')
    acts = tf.constant([[0.0, 1.0, 0.0, 3.0]], name='acts')
    images = tf.zeros([2, 4, 5, 3], name='images')
    ops = [
        slim.summaries.add_scalar_summary(loss, 'Total_Loss', prefix='losses'),
        slim.summaries.add_histogram_summary(acts, prefix='hist'),
        slim.summaries.add_image_summary(images, prefix='input'),
        slim.summaries.add_zero_fraction_summary(acts),
    ]
    assert _v1.get_collection(_v1.GraphKeys.SUMMARIES) == ops
    with _v1.Session() as sess:
      merged = _summary_values(sess.run(_v1.summary.merge_all()))
  assert merged['losses/Total_Loss'] == 2.5
  assert merged['hist/acts'] == 4  # named after the op
  assert merged['input/images/image/0'] == (4, 5)
  assert merged['acts/Fraction_of_Zero_Values'] == 0.5


def test_plural_forms_and_print_summary():
  with tf.Graph().as_default():
    a = tf.constant(1.0, name='a')
    b = tf.constant(2.0, name='b')
    scalars = slim.summaries.add_scalar_summaries([a, b], prefix='p', print_summary=True)
    hists = slim.summaries.add_histogram_summaries([a, b])
    zeros = slim.summaries.add_zero_fraction_summaries([a, b], prefix='z')
    images = slim.summaries.add_image_summaries([tf.zeros([1, 2, 2, 1], name='img')])
    assert len(scalars) == len(hists) == len(zeros) == 2 and len(images) == 1
    # Printing summaries replace (not duplicate) their plain op in the collection.
    assert len(_v1.get_collection(_v1.GraphKeys.SUMMARIES)) == 7
    with _v1.Session() as sess:
      values = _summary_values(sess.run(_v1.summary.merge_all()))
  assert values['p/a'] == 1.0 and values['p/b'] == 2.0
  assert values['z/a/Fraction_of_Zero_Values'] == 0.0


def test_summarize_helpers():
  with tf.Graph().as_default():
    pre = tf.constant([-1.0, 2.0, 7.0, -3.0])
    act = tf.nn.relu6(pre, name='act')
    slim.summarize_activation(act)
    assert slim.summarize_tensor(tf.constant(['s'])) is None
    slim.summarize_tensors([tf.constant(3.0, name='three')])
    with _v1.Session() as sess:
      values = _summary_values(sess.run(_v1.summary.merge_all()))
  assert values['act/zeros'] == 0.5 and values['act/sixes'] == 0.25
  assert values['act/activation'] == 4
  assert values['three_summary'] == 3.0
  np.testing.assert_equal(sorted(values), ['act/activation', 'act/sixes', 'act/zeros',
                                           'three_summary'])
