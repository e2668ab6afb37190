"""Test inputs for the image sources, made with PIL and tarfile in the published layouts."""
import io
import os
import tarfile

import numpy as np
from PIL import Image


def pixels(seed, width=48, height=40):
  """A smooth RGB image with a little noise (compresses like a photo), deterministic per seed."""
  rng = np.random.default_rng(seed)
  y, x = np.mgrid[0:height, 0:width]
  base = np.stack([x * 255 / width, y * 255 / height, (x + y) * 127 / (width + height)], -1)
  base = base + rng.uniform(0, 80, 3)
  return np.clip(base + rng.normal(0, 3, base.shape), 0, 255).astype(np.uint8)


def encode(array_or_image, fmt, mode=None, **kwargs):
  im = array_or_image if isinstance(array_or_image, Image.Image) else Image.fromarray(
      array_or_image)
  if mode:
    im = im.convert(mode)
  out = io.BytesIO()
  im.save(out, format=fmt, **kwargs)
  return out.getvalue()


def jpeg(seed, width=48, height=40, mode=None, quality=90):
  return encode(pixels(seed, width, height), 'JPEG', mode=mode, quality=quality)


def png(seed, width=48, height=40, mode=None):
  return encode(pixels(seed, width, height), 'PNG', mode=mode)


def pil_rgb(data):
  """What PIL decodes from image bytes, as RGB uint8 [h, w, 3]."""
  with Image.open(io.BytesIO(data)) as im:
    return np.asarray(im.convert('RGB'))


def write_files(root, files):
  """Writes `{relative path: bytes}` under `root`; returns `root`."""
  for rel, data in files.items():
    path = os.path.join(root, *rel.split('/'))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
      f.write(data)
  return str(root)


def write_tar(path, files, mode='w:gz', extra=()):
  """A tar of `{member name: bytes}` (sorted), plus `extra` raw TarInfo members (links...)."""
  opened = (tarfile.open(fileobj=path, mode=mode) if hasattr(path, 'write')
            else tarfile.open(path, mode))
  with opened as tar:
    for name in sorted(files):
      info = tarfile.TarInfo(name)
      info.size = len(files[name])
      info.mtime = 0
      tar.addfile(info, io.BytesIO(files[name]))
    for info in extra:
      tar.addfile(info, io.BytesIO(b'x' * info.size) if info.isfile() else None)
  return str(path)


def symlink_member(name, target):
  info = tarfile.TarInfo(name)
  info.type = tarfile.SYMTYPE
  info.linkname = target
  return info


def file_member(name, size=1):
  info = tarfile.TarInfo(name)
  info.size = size
  return info


def read_examples(path, keys_to_features):
  """Every record of a TFRecord file parsed with `keys_to_features`, as NumPy values."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  out = []
  for record in tf.data.TFRecordDataset(path):
    ex = tf.io.parse_single_example(record, keys_to_features)
    out.append({k: (tf.sparse.to_dense(v) if isinstance(v, tf.SparseTensor) else v).numpy()
                for k, v in ex.items()})
  return out


def tf_decode(data, channels=3):
  """TensorFlow's decode of stored image bytes, as the readers do it."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  return tf.io.decode_image(data, channels=channels, expand_animations=False).numpy()


# research/slim's keys_to_features for flowers, cifar10 and mnist (datasets/flowers.py).
def research_slim_keys_to_features():
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  return {
      'image/encoded': tf.io.FixedLenFeature((), tf.string, default_value=''),
      'image/format': tf.io.FixedLenFeature((), tf.string, default_value='png'),
      'image/class/label': tf.io.FixedLenFeature(
          [], tf.int64, default_value=tf.zeros([], dtype=tf.int64)),
  }


def research_slim_decode(encoded, image_format):
  """research/slim's Image handler with plain TF ops: `png`/`PNG` -> PNG, `raw`, else JPEG."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  if image_format in (b'png', b'PNG'):
    return tf.io.decode_png(encoded, channels=3).numpy()
  assert image_format not in (b'raw', b'RAW')
  return tf.io.decode_jpeg(encoded, channels=3).numpy()
