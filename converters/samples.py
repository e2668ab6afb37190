"""An embedded MNIST-like sample: the four official .gz files, in idx format, with learnable digits.

    paths = samples.write_mnist_sample('/tmp/mnist_raw', num_train=6000, num_test=1000, seed=0)
    # then: python tools/convert.py --dataset mnist --source /tmp/mnist_raw --dataset_dir /tmp/mnist

Digits 0-9 are drawn with PIL's built-in font at random sizes, stroke widths,
rotations and offsets (centred as MNIST's are, give or take 3 pixels), then
blurred lightly and given noise, so a small net learns them like MNIST. The
files are byte-for-byte the same for a seed (gzip headers carry no time
stamp), so the demo, tests and benchmarks share inputs without downloading.
"""
import gzip
import os
import struct

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
SIZE = 28
FILES = {
    'train': ('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'),
    'test': ('t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'),
}
_FONT_SIZES = (22, 26, 30, 34)
_CANVAS = 64


def _glyphs():
  """`{(digit, font size, stroke): white-on-black L image cropped to the ink}`."""
  glyphs = {}
  for size in _FONT_SIZES:
    font = ImageFont.load_default(size=size)
    for digit in range(10):
      for stroke in (0, 1):
        canvas = Image.new('L', (_CANVAS, _CANVAS), 0)
        ImageDraw.Draw(canvas).text((_CANVAS // 4, _CANVAS // 8), str(digit), fill=255,
                                    font=font, stroke_width=stroke, stroke_fill=255)
        glyphs[digit, size, stroke] = canvas.crop(canvas.getbbox())
  return glyphs


def render_digits(labels, *, seed=0):
  """uint8 images `[len(labels), 28, 28]`, one drawn digit per label; deterministic for a seed."""
  rng = np.random.default_rng(seed)
  glyphs = _glyphs()
  images = np.zeros((len(labels), SIZE, SIZE), np.uint8)
  for i, digit in enumerate(labels):
    size = _FONT_SIZES[rng.integers(len(_FONT_SIZES))]
    glyph = glyphs[int(digit), size, int(rng.integers(2))]
    angle = float(rng.uniform(-18, 18))
    glyph = glyph.rotate(angle, resample=Image.BILINEAR, expand=True)
    glyph = glyph.crop(glyph.getbbox())
    # Fit the ink into a box of 14..22 pixels, as MNIST centres digits in 20x20.
    box = float(rng.uniform(14, 22))
    scale = box / max(glyph.size)
    sx = scale * float(rng.uniform(0.8, 1.15))   # a little shear of proportions
    w = max(1, min(SIZE - 2, round(glyph.width * sx)))
    h = max(1, min(SIZE - 2, round(glyph.height * scale)))
    glyph = glyph.resize((w, h), Image.BILINEAR)
    # Centred like MNIST's digits, then shifted by up to 3 pixels.
    x = min(max(0, (SIZE - w) // 2 + int(rng.integers(-3, 4))), SIZE - w)
    y = min(max(0, (SIZE - h) // 2 + int(rng.integers(-3, 4))), SIZE - h)
    canvas = Image.new('L', (SIZE, SIZE), 0)
    canvas.paste(glyph, (x, y))
    canvas = canvas.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.0, 0.8))))
    pixels = np.asarray(canvas, np.float32) * float(rng.uniform(0.7, 1.0))
    pixels += rng.normal(0.0, 12.0, pixels.shape)
    images[i] = np.clip(pixels, 0, 255).astype(np.uint8)
  return images


def idx_images_bytes(images):
  """An idx3 file's content: magic 2051, count, rows, columns (big endian), pixels."""
  images = np.asarray(images, np.uint8)
  return struct.pack('>IIII', IMAGES_MAGIC, *images.shape) + images.tobytes()


def idx_labels_bytes(labels):
  """An idx1 file's content: magic 2049, count (big endian), one byte per label."""
  labels = np.asarray(labels, np.uint8)
  return struct.pack('>II', LABELS_MAGIC, len(labels)) + labels.tobytes()


def write_gzip(path, data):
  """Writes `data` gzip-compressed with no name or time stamp, so equal data give equal files."""
  with open(path, 'wb') as raw:
    with gzip.GzipFile(filename='', mode='wb', fileobj=raw, mtime=0) as f:
      f.write(data)


def write_mnist_sample(directory, num_train=6000, num_test=1000, seed=0):
  """Writes the four MNIST .gz files into `directory`; returns `{file name: path}`.

  Labels are balanced (every digit equally often, in shuffled order); train
  and test are drawn from independent streams of the seed.
  """
  for name, n in (('num_train', num_train), ('num_test', num_test)):
    if not isinstance(n, int) or n < 1:
      raise ValueError(f'{name} must be a positive int, got {n!r}')
  os.makedirs(directory, exist_ok=True)
  paths = {}
  for offset, (split, n) in enumerate((('train', num_train), ('test', num_test))):
    rng = np.random.default_rng([seed, offset])
    labels = rng.permutation(np.arange(n) % 10).astype(np.uint8)
    images = render_digits(labels, seed=int(rng.integers(2**31)))
    images_file, labels_file = FILES[split]
    for file, data in ((images_file, idx_images_bytes(images)),
                       (labels_file, idx_labels_bytes(labels))):
      path = os.path.join(directory, file)
      write_gzip(path, data)
      paths[file] = path
  return paths
