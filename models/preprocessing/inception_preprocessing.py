"""Inception preprocessing: random box crop, resize, flip, colour distortion; scale to [-1, 1].

    image = inception_preprocessing.preprocess_image(image, 299, 299, is_training=True)
    image = inception_preprocessing.preprocess_image(jpeg_bytes, 299, 299, is_training=True)

Training crops a random window covering part of the image (or of its bounding boxes),
resizes it to the output size, flips and distorts colours. Evaluation keeps the central
87.5% and resizes. Pixels end in [-1, 1] as float32.

Given the encoded JPEG bytes (a string tensor) instead of pixels, training decodes only the
crop window (`jpeg_crop.decode_and_random_crop`); evaluation decodes the whole image.
"""
import tensorflow as tf

from models.preprocessing import jpeg_crop

# tf.compat.v1.image.ResizeMethod values, in research/slim's case order.
_RESIZE_METHODS = (
    tf.compat.v1.image.ResizeMethod.BILINEAR,
    tf.compat.v1.image.ResizeMethod.NEAREST_NEIGHBOR,
    tf.compat.v1.image.ResizeMethod.BICUBIC,
    tf.compat.v1.image.ResizeMethod.AREA,
)


def apply_with_random_selector(x, func, num_cases):
  """`func(x, case)` for one case in [0, num_cases) picked at random per call."""
  selector = tf.random.uniform([], maxval=num_cases, dtype=tf.int32)
  return tf.switch_case(selector, [lambda case=case: func(x, case) for case in range(num_cases)])


def distort_color(image, color_ordering=0, fast_mode=True, scope=None):
  """Random brightness, saturation (and in slow mode hue, contrast) in one of four orders.

  Args:
    image: float `[height, width, 3]` in [0, 1].
    color_ordering: which order, 0-3 (0-1 in fast mode).
    fast_mode: only brightness and saturation.
    scope: name scope.

  Returns:
    The distorted image, clipped to [0, 1].
  """
  with tf.name_scope(scope or 'distort_color'):
    brightness = lambda im: tf.image.random_brightness(im, max_delta=32. / 255.)
    saturation = lambda im: tf.image.random_saturation(im, lower=0.5, upper=1.5)
    hue = lambda im: tf.image.random_hue(im, max_delta=0.2)
    contrast = lambda im: tf.image.random_contrast(im, lower=0.5, upper=1.5)
    if fast_mode:
      orders = ((brightness, saturation), (saturation, brightness))
    else:
      orders = ((brightness, saturation, hue, contrast), (saturation, brightness, contrast, hue),
                (contrast, hue, brightness, saturation), (hue, saturation, contrast, brightness))
    if not 0 <= color_ordering < len(orders):
      raise ValueError(f'color_ordering must be in [0, {len(orders)}) with '
                       f'fast_mode={fast_mode}, got {color_ordering}')
    for distortion in orders[color_ordering]:
      image = distortion(image)
    return tf.clip_by_value(image, 0.0, 1.0)


def distorted_bounding_box_crop(image, bbox, min_object_covered=0.1,
                                aspect_ratio_range=(0.75, 1.33), area_range=(0.05, 1.0),
                                max_attempts=100, scope=None):
  """A random crop of decoded `image` covering part of `bbox`; returns (crop, crop's box)."""
  with tf.name_scope(scope or 'distorted_bounding_box_crop'):
    window, distorted_bbox = jpeg_crop.sample_crop_window(
        tf.shape(image), bbox, min_object_covered=min_object_covered,
        aspect_ratio_range=aspect_ratio_range, area_range=area_range,
        max_attempts=max_attempts)
    cropped = tf.slice(image, tf.stack([window[0], window[1], 0]),
                       tf.stack([window[2], window[3], -1]))
    return cropped, distorted_bbox


def _is_encoded(image):
  return image.dtype == tf.string


def preprocess_for_train(image, height, width, bbox, fast_mode=True, scope=None,
                         add_image_summaries=True, random_crop=True, use_grayscale=False):
  """Inception training preprocessing of one image (pixels, or JPEG bytes).

  Args:
    image: `[height, width, 3]` pixels (uint8 or float in [0, 1]), or a scalar string of
      JPEG bytes (then only the crop window is decoded).
    height, width: output size.
    bbox: float `[1, num_boxes, 4]` object boxes `[ymin, xmin, ymax, xmax]`; None for the
      whole image.
    fast_mode: one resize method and two colour distortions instead of four each.
    scope: name scope.
    add_image_summaries: add image summaries of the input (pixels only) and the crop.
    random_crop: crop a random box (else resize the whole image).
    use_grayscale: convert the result to one channel.

  Returns:
    float32 `[height, width, 3]` (or 1 channel with use_grayscale) in [-1, 1].
  """
  with tf.name_scope(scope or 'distort_image'):
    if bbox is None:
      bbox = tf.constant([[[0.0, 0.0, 1.0, 1.0]]], dtype=tf.float32)
    if _is_encoded(image):
      if random_crop:
        distorted, _ = jpeg_crop.decode_and_random_crop(image, bbox)
      else:
        distorted = tf.image.decode_jpeg(image, channels=3)
      distorted = tf.image.convert_image_dtype(distorted, dtype=tf.float32)
    else:
      if image.dtype != tf.float32:
        image = tf.image.convert_image_dtype(image, dtype=tf.float32)
      if add_image_summaries:
        boxed = tf.compat.v1.image.draw_bounding_boxes(tf.expand_dims(image, 0), bbox)
        tf.compat.v1.summary.image('image_with_bounding_boxes', boxed)
      distorted = distorted_bounding_box_crop(image, bbox)[0] if random_crop else image
    distorted.set_shape([None, None, 3])
    num_resize_cases = 1 if fast_mode else len(_RESIZE_METHODS)
    distorted = apply_with_random_selector(
        distorted,
        lambda x, method: tf.compat.v1.image.resize(x, [height, width],
                                                    _RESIZE_METHODS[method]),
        num_cases=num_resize_cases)
    distorted.set_shape([height, width, 3])
    if add_image_summaries:
      tf.compat.v1.summary.image('cropped_resized_image', tf.expand_dims(distorted, 0))
    distorted = tf.image.random_flip_left_right(distorted)
    num_distort_cases = 1 if fast_mode else 4
    distorted = apply_with_random_selector(
        distorted, lambda x, ordering: distort_color(x, ordering, fast_mode),
        num_cases=num_distort_cases)
    if use_grayscale:
      distorted = tf.image.rgb_to_grayscale(distorted)
    if add_image_summaries:
      tf.compat.v1.summary.image('final_distorted_image', tf.expand_dims(distorted, 0))
    return (distorted - 0.5) * 2.0


def preprocess_for_eval(image, height, width, central_fraction=0.875, scope=None,
                        central_crop=True, use_grayscale=False):
  """Central `central_fraction` of the image, resized (bilinear) to `[height, width]`, in [-1, 1].

  `image` may be pixels or encoded bytes (decoded whole: the central crop needs its size).
  """
  with tf.name_scope(scope or 'eval_image'):
    if _is_encoded(image):
      image = tf.io.decode_image(image, channels=3, expand_animations=False)
    if image.dtype != tf.float32:
      image = tf.image.convert_image_dtype(image, dtype=tf.float32)
    if use_grayscale:
      image = tf.image.rgb_to_grayscale(image)
    if central_crop and central_fraction:
      image = tf.image.central_crop(image, central_fraction=central_fraction)
    if height and width:
      image = tf.compat.v1.image.resize_bilinear(tf.expand_dims(image, 0), [height, width],
                                                 align_corners=False)
      image = tf.squeeze(image, [0])
    return (image - 0.5) * 2.0


def preprocess_image(image, height, width, is_training=False, bbox=None, fast_mode=True,
                     add_image_summaries=True, crop_image=True, use_grayscale=False):
  """Train or eval Inception preprocessing; see `preprocess_for_train`/`preprocess_for_eval`."""
  if is_training:
    return preprocess_for_train(image, height, width, bbox, fast_mode,
                                add_image_summaries=add_image_summaries,
                                random_crop=crop_image, use_grayscale=use_grayscale)
  return preprocess_for_eval(image, height, width, central_crop=crop_image,
                             use_grayscale=use_grayscale)
