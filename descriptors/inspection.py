"""A look at one split of a converted dataset: sizes, class counts, image sizes, two pictures.

    dataset = descriptors.get_split('flowers', 'train', '/data/flowers')
    stats = inspection.split_statistics(dataset)      # .class_counts, .min_height, ...
    inspection.contact_sheet(inspection.take_examples(dataset, num_examples=16),
                             labels_to_names=dataset.labels_to_names).save('sheet.png')

Statistics parse only the label and the stored height and width of each record
(no image decoding), so they run over a whole split; the contact sheet decodes
its few examples with the dataset's own decoder, boxes included where the
dataset has them. Pictures are drawn with PIL. TensorFlow is imported only by
the functions that read records.
"""
import collections
import dataclasses
import logging
import math

from descriptors import schema

CELL_SIZE = 96          # contact sheet: each image is scaled to fit a square this wide
MARGIN = 4              # pixels around and between cells, bars and text
LABEL_HEIGHT = 14       # contact sheet: the strip under each image holding its label name
ROW_HEIGHT = 16         # bar chart: one row per class
BAR_WIDTH = 300         # bar chart: the longest bar
BACKGROUND = (255, 255, 255)
TEXT_COLOR = (0, 0, 0)
BAR_COLOR = (70, 130, 180)
BOX_COLOR = (255, 0, 0)
_MAX_NAME_WIDTH = 240   # bar chart: longer class names are cut


@dataclasses.dataclass(frozen=True)
class SplitStatistics:
  """What one pass over a split's records found; `class_counts` maps label -> count."""
  num_examples: int
  class_counts: dict
  min_height: int
  max_height: int
  min_width: int
  max_width: int


@dataclasses.dataclass(frozen=True)
class Example:
  """One decoded example: `image` uint8 [h, w, c]; `boxes` [n, 4] (ymin, xmin, ymax, xmax
  in 0..1) or None when the dataset has no boxes."""
  image: object
  label: int
  boxes: object = None


def data_files(dataset):
  """The files of `dataset.data_sources` (a name, a glob, or a list of them), globs expanded."""
  import tensorflow as tf
  sources = dataset.data_sources
  if isinstance(sources, str):
    sources = [sources]
  files = []
  for source in sources:
    if any(c in source for c in '*?['):
      matched = sorted(tf.io.gfile.glob(source))
      if not matched:
        raise FileNotFoundError(f'no files match {source!r}')
      files.extend(matched)
    else:
      files.append(source)
  return files


def split_sizes(dataset):
  """`({split: num_examples}, where)`: the manifest's sizes, else the published ones."""
  manifest = getattr(dataset, 'manifest', None)
  if manifest is not None:
    return ({name: split.num_examples for name, split in sorted(manifest.splits.items())},
            schema.manifest_name(manifest.name))
  spec = getattr(dataset, 'spec', None)
  if spec is not None and spec.splits:
    return dict(sorted(spec.splits.items())), 'published sizes (no manifest)'
  return {}, 'unknown (no manifest)'


def split_statistics(dataset, *, max_records=None, batch_size=512):
  """Counts examples per label and the range of image heights and widths in `dataset`.

  Reads each record once (the first `max_records` only, when given), parsing
  only its label and stored size; an image without a stored size is decoded to
  learn it.
  """
  import tensorflow as tf
  if batch_size < 1:
    raise ValueError(f'batch_size must be at least 1, got {batch_size}')
  if max_records is not None and max_records < 1:
    raise ValueError(f'max_records must be at least 1 or None, got {max_records}')
  files = data_files(dataset)
  features = {key: schema.IMAGE.feature(key).parsing_spec()
              for key in (schema.LABEL, schema.HEIGHT, schema.WIDTH)}
  # Deterministic order, so that `max_records` always picks the same records.
  records = tf.data.TFRecordDataset(files, num_parallel_reads=min(4, len(files)))
  if max_records is not None:
    records = records.take(max_records)
  batches = records.batch(batch_size).map(
      lambda serialized: (serialized, tf.io.parse_example(serialized, features)),
      num_parallel_calls=tf.data.AUTOTUNE).prefetch(2)
  counts = collections.Counter()
  heights, widths = [], []
  total = 0
  for serialized, parsed in batches:
    labels = parsed[schema.LABEL].numpy()
    counts.update(labels.tolist())
    batch_heights = parsed[schema.HEIGHT].numpy()
    batch_widths = parsed[schema.WIDTH].numpy()
    for i in ((batch_heights <= 0) | (batch_widths <= 0)).nonzero()[0]:
      shape = tf.io.decode_image(serialized[i], expand_animations=False).shape
      batch_heights[i], batch_widths[i] = shape[0], shape[1]
    heights.append((batch_heights.min(), batch_heights.max()))
    widths.append((batch_widths.min(), batch_widths.max()))
    total += len(labels)
  if not total:
    return SplitStatistics(0, {}, 0, 0, 0, 0)
  return SplitStatistics(
      num_examples=total, class_counts=dict(sorted(counts.items())),
      min_height=int(min(h[0] for h in heights)), max_height=int(max(h[1] for h in heights)),
      min_width=int(min(w[0] for w in widths)), max_width=int(max(w[1] for w in widths)))


def take_examples(dataset, *, num_examples):
  """The first `num_examples` examples of `dataset`, decoded by its decoder."""
  import tensorflow as tf
  if num_examples < 0:
    raise ValueError(f'num_examples must be non-negative, got {num_examples}')
  items = ['image', 'label']
  has_boxes = 'object/bbox' in dataset.decoder.list_items()
  if has_boxes:
    items.append('object/bbox')
  examples = []
  for record in tf.data.TFRecordDataset(data_files(dataset)).take(num_examples):
    decoded = dataset.decoder.decode(record, items)
    examples.append(Example(
        image=tf.cast(decoded[0], tf.uint8).numpy(), label=int(decoded[1].numpy()),
        boxes=decoded[2].numpy().reshape(-1, 4) if has_boxes else None))
  if len(examples) < num_examples:
    logging.info('the split holds only %d examples', len(examples))
  return examples


def label_text(label, labels_to_names=None):
  """The text shown for `label`: its name when known, else the number."""
  if labels_to_names and label in labels_to_names:
    return labels_to_names[label]
  return str(label)


def contact_sheet_size(num_examples, *, cell_size=CELL_SIZE, columns=None):
  """`(width, height)` of the contact sheet of `num_examples` images."""
  columns, rows = _grid(num_examples, columns)
  return (columns * (cell_size + MARGIN) + MARGIN,
          rows * (cell_size + LABEL_HEIGHT + MARGIN) + MARGIN)


def contact_sheet(examples, *, labels_to_names=None, cell_size=CELL_SIZE, columns=None):
  """A PIL image: the examples in a grid, each scaled to fit `cell_size`, its label name below.

  Rows fill left to right; `columns` defaults to ceil(sqrt(n)). Bounding boxes
  are outlined in `BOX_COLOR`.
  """
  from PIL import Image, ImageDraw
  if cell_size < 8:
    raise ValueError(f'cell_size must be at least 8 pixels, got {cell_size}')
  columns, _ = _grid(len(examples), columns)
  sheet = Image.new('RGB', contact_sheet_size(len(examples), cell_size=cell_size,
                                              columns=columns), BACKGROUND)
  draw = ImageDraw.Draw(sheet)
  font = _font()
  for i, example in enumerate(examples):
    left = MARGIN + (i % columns) * (cell_size + MARGIN)
    top = MARGIN + (i // columns) * (cell_size + LABEL_HEIGHT + MARGIN)
    thumbnail = _thumbnail(example.image, cell_size)
    x = left + (cell_size - thumbnail.width) // 2
    y = top + (cell_size - thumbnail.height) // 2
    sheet.paste(thumbnail, (x, y))
    if example.boxes is not None:
      for ymin, xmin, ymax, xmax in example.boxes:
        box = [x + _clip(xmin) * (thumbnail.width - 1), y + _clip(ymin) * (thumbnail.height - 1),
               x + _clip(xmax) * (thumbnail.width - 1), y + _clip(ymax) * (thumbnail.height - 1)]
        draw.rectangle(box, outline=BOX_COLOR, width=2 if cell_size >= 48 else 1)
    text = _fit(label_text(example.label, labels_to_names), font, cell_size)
    draw.text((left, top + cell_size + 1), text, fill=TEXT_COLOR, font=font)
  return sheet


def class_bar_chart(class_counts, *, labels_to_names=None, title=None):
  """A PIL image: one row per class (every named class, counted or not), a bar per count.

  The longest bar, `BAR_WIDTH` pixels, is the largest count; the others are
  scaled to it. Each row shows `label name`, the bar in `BAR_COLOR`, and the count.
  """
  from PIL import Image, ImageDraw
  font = _font()
  labels = sorted(set(class_counts) | set(labels_to_names or {}))
  names = [_fit(f'{label} {label_text(label, labels_to_names)}'
                if labels_to_names else str(label), font, _MAX_NAME_WIDTH) for label in labels]
  name_width = max([int(font.getlength(n)) for n in names] + [1])
  largest = max(class_counts.values(), default=0)
  count_width = int(font.getlength(str(largest))) + 1
  width = MARGIN + name_width + MARGIN + BAR_WIDTH + MARGIN + count_width + MARGIN
  height = 2 * MARGIN + ROW_HEIGHT * (len(labels) + 1)
  chart = Image.new('RGB', (width, height), BACKGROUND)
  draw = ImageDraw.Draw(chart)
  draw.text((MARGIN, MARGIN), _fit(title or f'{sum(class_counts.values())} examples, '
                                   f'{len(class_counts)} classes', font, width - 2 * MARGIN),
            fill=TEXT_COLOR, font=font)
  bar_left = MARGIN + name_width + MARGIN
  for row, (label, name) in enumerate(zip(labels, names), 1):
    top = MARGIN + row * ROW_HEIGHT
    count = class_counts.get(label, 0)
    length = round(BAR_WIDTH * count / largest) if largest else 0
    draw.text((MARGIN, top + 1), name, fill=TEXT_COLOR, font=font)
    if length:
      draw.rectangle([bar_left, top + 2, bar_left + length - 1, top + ROW_HEIGHT - 3],
                     fill=BAR_COLOR)
    draw.text((bar_left + length + MARGIN, top + 1), str(count), fill=TEXT_COLOR, font=font)
  return chart


def _grid(num_examples, columns):
  if columns is not None and columns < 1:
    raise ValueError(f'columns must be at least 1, got {columns}')
  columns = columns or max(1, math.ceil(math.sqrt(num_examples)))
  return columns, max(1, math.ceil(num_examples / columns))


def _thumbnail(pixels, size):
  """`pixels` (uint8 [h, w, c]) as an RGB PIL image fitting `size` x `size`, aspect kept.

  Small images are enlarged with nearest-neighbour sampling, so MNIST's pixels stay sharp.
  """
  import numpy as np
  from PIL import Image
  pixels = np.asarray(pixels, dtype=np.uint8)
  if pixels.ndim == 3 and pixels.shape[-1] == 1:
    pixels = pixels[..., 0]
  image = Image.fromarray(pixels).convert('RGB')
  scale = size / max(image.width, image.height)
  target = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
  resample = Image.Resampling.NEAREST if scale >= 1 else Image.Resampling.BILINEAR
  return image.resize(target, resample)


def _clip(value):
  return min(max(float(value), 0.0), 1.0)


def _font():
  from PIL import ImageFont
  return ImageFont.load_default()


def _fit(text, font, width):
  """`text`, cut with '…' so that it is at most `width` pixels wide."""
  if font.getlength(text) <= width:
    return text
  while text and font.getlength(text + '…') > width:
    text = text[:-1]
  return text + '…'
