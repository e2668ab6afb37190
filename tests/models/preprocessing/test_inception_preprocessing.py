"""Inception preprocessing: [-1, 1] float images of the asked size, from pixels or JPEG bytes."""
import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from models.preprocessing import inception_preprocessing


def _pixels(shape, seed=0):
  return np.random.default_rng(seed).integers(0, 256, shape).astype(np.uint8)


def _jpeg(pixels):
  buffer = io.BytesIO()
  Image.fromarray(pixels).save(buffer, 'JPEG', quality=95)
  return buffer.getvalue()


def test_eval_keeps_the_central_fraction_and_scales_to_minus_one_one():
  image = _pixels([16, 16, 3])
  with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
    # Central half of 16x16 is [4:12, 4:12]; resizing 8x8 to 8x8 is the identity.
    output = inception_preprocessing.preprocess_for_eval(tf.constant(image), 8, 8,
                                                         central_fraction=0.5)
    got = sess.run(output)
  assert output.dtype == tf.float32 and got.shape == (8, 8, 3)
  np.testing.assert_allclose(got, (image[4:12, 4:12] / 255.0 - 0.5) * 2, atol=1e-6)


def test_eval_of_jpeg_bytes_equals_eval_of_their_pixels():
  data = _jpeg(_pixels([120, 90, 3]))
  with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
    from_bytes = inception_preprocessing.preprocess_image(tf.constant(data), 64, 64)
    from_pixels = inception_preprocessing.preprocess_image(
        tf.io.decode_jpeg(tf.constant(data), channels=3), 64, 64)
    a, b = sess.run([from_bytes, from_pixels])
  np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize('fast_mode', [True, False])
@pytest.mark.parametrize('encoded', [False, True])
def test_train_gives_the_asked_size_in_minus_one_one(fast_mode, encoded):
  pixels = _pixels([240, 320, 3])
  with tf.Graph().as_default():
    image = tf.constant(_jpeg(pixels)) if encoded else tf.constant(pixels)
    output = inception_preprocessing.preprocess_image(image, 96, 128, is_training=True,
                                                      fast_mode=fast_mode)
    op_types = {op.type for op in tf.compat.v1.get_default_graph().get_operations()}
    with tf.compat.v1.Session() as sess:
      outputs = [sess.run(output) for _ in range(3)]
  assert output.shape.as_list() == [96, 128, 3] and output.dtype == tf.float32
  for got in outputs:
    assert got.min() >= -1 and got.max() <= 1
  assert not np.allclose(outputs[0], outputs[1])
  # JPEG bytes take the fused path: only the crop window is decoded.
  assert ('DecodeAndCropJpeg' in op_types) == encoded
  assert 'DecodeJpeg' not in op_types


def test_distort_color_rejects_an_unknown_ordering():
  with tf.Graph().as_default(), pytest.raises(ValueError, match='color_ordering'):
    inception_preprocessing.distort_color(tf.zeros([4, 4, 3]), color_ordering=2, fast_mode=True)
