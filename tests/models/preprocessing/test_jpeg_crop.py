"""The fused decode-and-crop path: the same pixels as decode-then-crop, the whole image never
decoded, windows that follow research/slim's Inception constraints."""
import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from models.preprocessing import jpeg_crop


def _jpeg(height, width, *, subsampling, seed=0):
  """A textured photo-like JPEG (PIL), so that crops at wrong offsets would differ."""
  rng = np.random.default_rng(seed)
  yy, xx = np.mgrid[0:height, 0:width]
  channels = [np.sin(yy / (7 + c) + xx / (11 + c)) * 100 + 128 + rng.normal(0, 15, yy.shape)
              for c in range(3)]
  pixels = np.stack(channels, -1).clip(0, 255).astype(np.uint8)
  buffer = io.BytesIO()
  Image.fromarray(pixels).save(buffer, 'JPEG', quality=90, subsampling=subsampling)
  return buffer.getvalue()


def _crop_and_full_decode(data, seed, bbox=None):
  """Runs the fused crop and a full decode of the same bytes in one session step."""
  with tf.Graph().as_default():
    crop, window = jpeg_crop.decode_and_random_crop(
        tf.constant(data), None if bbox is None else tf.constant(bbox, tf.float32), seed=seed)
    full = tf.io.decode_jpeg(tf.constant(data), channels=3)
    with tf.compat.v1.Session() as sess:
      return sess.run([crop, window, full])


@pytest.mark.parametrize('seed', range(4))
def test_crop_equals_decode_then_crop_for_444_jpegs(seed):
  data = _jpeg(301, 437, subsampling=0, seed=seed)  # 4:4:4
  crop, (y, x, h, w), full = _crop_and_full_decode(data, seed=seed + 1)
  assert crop.dtype == np.uint8 and crop.shape == (h, w, 3)
  np.testing.assert_array_equal(crop, full[y:y + h, x:x + w])


@pytest.mark.parametrize('seed', range(4))
def test_crop_equals_decode_then_crop_inside_the_edge_columns_for_420_jpegs(seed):
  data = _jpeg(333, 250, subsampling=2, seed=seed)  # 4:2:0, as most photos
  crop, (y, x, h, w), full = _crop_and_full_decode(data, seed=seed + 1)
  expected = full[y:y + h, x:x + w]
  assert crop.shape == expected.shape
  # Chroma upsampling may differ only in the window's outermost columns (module docstring).
  np.testing.assert_array_equal(crop[:, 1:-1], expected[:, 1:-1])
  assert np.abs(crop.astype(int) - expected.astype(int)).mean() < 1


def test_the_whole_image_is_never_decoded():
  with tf.Graph().as_default() as graph:
    jpeg_crop.decode_and_random_crop(tf.compat.v1.placeholder(tf.string, []))
    op_types = {op.type for op in graph.get_operations()}
  assert {'ExtractJpegShape', 'DecodeAndCropJpeg'} <= op_types
  assert not op_types & {'DecodeJpeg', 'DecodeImage'}


def test_windows_keep_the_area_and_aspect_ratio_ranges():
  data = _jpeg(400, 300, subsampling=2)
  with tf.Graph().as_default():
    _, window = jpeg_crop.decode_and_random_crop(tf.constant(data), seed=3)
    with tf.compat.v1.Session() as sess:
      windows = np.array([sess.run(window) for _ in range(30)])
  y, x, h, w = windows.T
  assert (y >= 0).all() and (x >= 0).all() and (y + h <= 400).all() and (x + w <= 300).all()
  area = h * w / (400 * 300)
  assert (area >= 0.05 - 1e-3).all() and (area <= 1).all()
  # Integer rounding of the sides bends the ratio a little past (0.75, 1.33).
  assert ((w / h > 0.7) & (w / h < 1.4)).all()
  assert len({tuple(w) for w in windows}) > 20  # random, not one fixed window


def test_window_covers_part_of_the_given_box():
  data = _jpeg(400, 400, subsampling=2)
  box = [[[0.5, 0.5, 1.0, 1.0]]]  # the bottom-right quarter
  for seed in range(5):
    _, (y, x, h, w), _ = _crop_and_full_decode(data, seed=seed, bbox=box)
    overlap = max(0, min(y + h, 400) - max(y, 200)) * max(0, min(x + w, 400) - max(x, 200))
    assert overlap >= 0.1 * 200 * 200 - 1  # min_object_covered=0.1
