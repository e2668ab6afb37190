"""Random crops straight from JPEG bytes: decode only the window a training step keeps.

    image, window = jpeg_crop.decode_and_random_crop(encoded_jpeg, bbox=boxes)
    # image: uint8 [h, w, 3], the pixels of `window` = [offset_y, offset_x, h, w]

Inception-style training keeps a random 5-100% of each image. Decoding the whole JPEG and
then slicing throws most of that work away; `tf.image.decode_and_crop_jpeg` decodes only
the window, and `tf.image.extract_jpeg_shape` reads the size it is sampled from out of the
header. bench/preprocess_bench.py measures the difference.

The pixels equal those of decode-then-crop for 4:4:4 JPEGs. With chroma subsampling (4:2:0,
most photos) the window's first and last columns can differ by a few levels: libjpeg-turbo
upsamples chroma there as if the window's edge were the image's.
"""
import tensorflow as tf

# No boxes: the whole image is the object (research/slim's default).
_WHOLE_IMAGE = ((0.0, 0.0, 1.0, 1.0),)


def sample_crop_window(image_shape, bbox=None, *, min_object_covered=0.1,
                       aspect_ratio_range=(0.75, 1.33), area_range=(0.05, 1.0),
                       max_attempts=100, seed=None):
  """Samples a crop window for an image of `image_shape` ([height, width, channels]).

  Args:
    image_shape: int32 `[3]` tensor (from `tf.shape` or `tf.image.extract_jpeg_shape`).
    bbox: float `[1, num_boxes, 4]` boxes `[ymin, xmin, ymax, xmax]` in [0, 1]; None for
      the whole image.
    min_object_covered, aspect_ratio_range, area_range, max_attempts: as
      `tf.image.sample_distorted_bounding_box`; research/slim's Inception defaults.
    seed: op seed, for reproducible windows (with the graph seed).

  Returns:
    `(window, distorted_bbox)`: int32 `[offset_y, offset_x, height, width]`, and the
    window as a float `[1, 1, 4]` box (for summaries).
  """
  if bbox is None:
    bbox = tf.constant([_WHOLE_IMAGE], dtype=tf.float32)
  # The v1 op follows the graph-level seed (tf.compat.v1.set_random_seed) when `seed` is
  # None, as research/slim's did; the v2 op would ignore it.
  begin, size, distorted_bbox = tf.compat.v1.image.sample_distorted_bounding_box(
      image_shape, bounding_boxes=bbox, seed=seed,
      min_object_covered=min_object_covered, aspect_ratio_range=aspect_ratio_range,
      area_range=area_range, max_attempts=max_attempts, use_image_if_no_bounding_boxes=True)
  window = tf.stack([begin[0], begin[1], size[0], size[1]])
  return window, distorted_bbox


def decode_and_random_crop(image_buffer, bbox=None, *, channels=3, min_object_covered=0.1,
                           aspect_ratio_range=(0.75, 1.33), area_range=(0.05, 1.0),
                           max_attempts=100, seed=None):
  """Decodes a random crop of the JPEG in `image_buffer` without decoding the rest.

  The window is sampled as `sample_crop_window` does, on the shape read from the JPEG
  header.

  Returns:
    `(image, window)`: uint8 `[height, width, channels]` and int32
    `[offset_y, offset_x, height, width]`.
  """
  shape = tf.image.extract_jpeg_shape(image_buffer)
  window, _ = sample_crop_window(shape, bbox, min_object_covered=min_object_covered,
                                 aspect_ratio_range=aspect_ratio_range, area_range=area_range,
                                 max_attempts=max_attempts, seed=seed)
  image = tf.image.decode_and_crop_jpeg(image_buffer, window, channels=channels)
  image.set_shape([None, None, channels])
  return image, window
