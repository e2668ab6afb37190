"""Feature schemas: one definition serves the converter that writes and the decoder that reads.

    from descriptors import schema
    record = schema.IMAGE.encode_example({'image/encoded': png, 'image/format': b'png', ...})
    keys_to_features = schema.IMAGE.keys_to_features()   # tf.io parsing spec for TFExampleDecoder

Encoding is pure Python (no TensorFlow import), so Beam workers start fast; the
bytes it produces are a valid serialized `tf.train.Example` with its features in
sorted key order, so equal inputs always give equal bytes.
"""
import dataclasses
import struct

SCHEMA_VERSION = 1

# Feature keys, spelled once.
ENCODED = 'image/encoded'
FORMAT = 'image/format'
LABEL = 'image/class/label'
HEIGHT = 'image/height'
WIDTH = 'image/width'
COLORSPACE = 'image/colorspace'
CHANNELS = 'image/channels'
SYNSET = 'image/class/synset'
TEXT = 'image/class/text'
FILENAME = 'image/filename'
BBOX_XMIN = 'image/object/bbox/xmin'
BBOX_YMIN = 'image/object/bbox/ymin'
BBOX_XMAX = 'image/object/bbox/xmax'
BBOX_YMAX = 'image/object/bbox/ymax'
BBOX_LABEL = 'image/object/bbox/label'
# research/slim's ImageNet descriptor read box labels from this key, which its
# converter never wrote; readers fall back to it for old files.
LEGACY_BBOX_LABEL = 'image/object/class/label'

_KINDS = ('bytes', 'int64', 'float')


@dataclasses.dataclass(frozen=True)
class Feature:
  """One feature key: its kind, whether it holds a list, and its default when absent."""
  key: str
  kind: str
  varlen: bool = False
  default: object = None

  def __post_init__(self):
    if self.kind not in _KINDS:
      raise ValueError(f'feature {self.key!r}: kind must be one of {_KINDS}, got {self.kind!r}')

  def parsing_spec(self):
    """The tf.io parsing spec for this feature (imports TensorFlow)."""
    import tensorflow as tf
    dtype = {'bytes': tf.string, 'int64': tf.int64, 'float': tf.float32}[self.kind]
    if self.varlen:
      return tf.io.VarLenFeature(dtype)
    default = self.default
    if default is None:
      default = {'bytes': '', 'int64': 0, 'float': 0.0}[self.kind]
    return tf.io.FixedLenFeature((), dtype, default_value=default)


@dataclasses.dataclass(frozen=True)
class Schema:
  """An ordered set of features; writes Examples and hands readers their parsing spec."""
  features: tuple

  def __post_init__(self):
    keys = [f.key for f in self.features]
    if len(set(keys)) != len(keys):
      raise ValueError(f'duplicate feature keys in schema: {keys}')

  @property
  def keys(self):
    return tuple(f.key for f in self.features)

  def feature(self, key):
    for f in self.features:
      if f.key == key:
        return f
    raise KeyError(f'feature {key!r} is not in the schema; known: {", ".join(self.keys)}')

  def keys_to_features(self):
    """`{key: tf.io.FixedLenFeature | VarLenFeature}` for `TFExampleDecoder`."""
    return {f.key: f.parsing_spec() for f in self.features}

  def encode_example(self, values):
    """Serializes `values` (`{key: value or list}`) as a `tf.train.Example`.

    Every key must belong to the schema; scalar features take one value,
    list features a sequence. Strings are encoded as UTF-8.
    """
    unknown = set(values) - set(self.keys)
    if unknown:
      raise ValueError(f'keys not in the schema: {sorted(unknown)}; known: {", ".join(self.keys)}')
    parts, length = [], 0
    for f in sorted(self.features, key=lambda f: f.key):
      if f.key not in values:
        continue
      value = values[f.key]
      items = list(value) if f.varlen else [value]
      entry, size = _map_entry(f.key, _feature(f.kind, items, f.key))
      parts += entry
      length += size
    # Chunks are joined once: an image's bytes are copied once, not once per nesting level.
    return b''.join(_field_parts(1, parts, length)[0])


IMAGE = Schema((
    Feature(ENCODED, 'bytes'),
    Feature(FORMAT, 'bytes', default='png'),
    Feature(LABEL, 'int64', default=-1),
    Feature(HEIGHT, 'int64'),
    Feature(WIDTH, 'int64'),
))

IMAGENET = Schema(IMAGE.features[:2] + (
    Feature(LABEL, 'int64', default=-1),
    Feature(HEIGHT, 'int64'),
    Feature(WIDTH, 'int64'),
    Feature(COLORSPACE, 'bytes', default='RGB'),
    Feature(CHANNELS, 'int64', default=3),
    Feature(SYNSET, 'bytes'),
    Feature(TEXT, 'bytes'),
    Feature(FILENAME, 'bytes'),
    Feature(BBOX_XMIN, 'float', varlen=True),
    Feature(BBOX_YMIN, 'float', varlen=True),
    Feature(BBOX_XMAX, 'float', varlen=True),
    Feature(BBOX_YMAX, 'float', varlen=True),
    Feature(BBOX_LABEL, 'int64', varlen=True),
))


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
  """What a converted dataset is, shared by its converter and its descriptor.

  `shard_template` names one shard of a split sharded `num` ways;
  `single_template`, when set, names the only shard of a one-shard split
  (research/slim's `mnist_train.tfrecord`).
  """
  name: str
  schema: Schema
  splits: dict             # split name -> published number of examples
  num_shards: dict         # split name -> default number of shards
  shard_template: str      # e.g. '{name}_{split}-{index:05d}-of-{num:05d}.tfrecord'
  single_template: str = None
  image_format: str = 'png'
  label_offset: int = 0    # ImageNet's labels start at 1; 0 is background
  num_classes: int = None  # research/slim's `num_classes` (ImageNet: 1001, background included)
  image_shape: tuple = None  # (height, width, channels) when every image has it (MNIST, CIFAR)
  items_to_descriptions: dict = dataclasses.field(default_factory=lambda: {
      'image': 'A color image of varying size.',
      'label': 'A single integer label.'})

  def shard_name(self, split, index, num):
    """The file name of shard `index` of `num` of `split`."""
    if num == 1 and self.single_template:
      return self.single_template.format(name=self.name, split=split)
    return self.shard_template.format(name=self.name, split=split, index=index, num=num)

  def shard_glob(self, split):
    """A glob matching every shard name of `split`, for files without a manifest."""
    return self.shard_template.format(name=self.name, split=split, index=0, num=0).replace(
        '00000-of-00000', '*-of-*')

  def manifest_name(self):
    return manifest_name(self.name)


def manifest_name(dataset_name):
  """The manifest's file name inside a dataset directory."""
  return f'{dataset_name}_manifest.json'


LABELS_FILENAME = 'labels.txt'


def format_labels(labels_to_names):
  """`labels.txt` content: one `index:name` line per class, in index order."""
  return ''.join(f'{i}:{labels_to_names[i]}\n' for i in sorted(labels_to_names))


def parse_labels(text, filename=LABELS_FILENAME):
  """Parses `labels.txt` content into `{index: name}`; names the bad line on error."""
  labels = {}
  for lineno, line in enumerate(text.splitlines(), 1):
    if not line.strip():
      continue
    index, sep, name = line.partition(':')
    if not sep or not index.strip().isdigit():
      raise ValueError(f'{filename}:{lineno}: expected "index:name", got {line!r}')
    labels[int(index)] = name.strip()
  return labels


# --- Protocol-buffer wire format for tf.train.Example -----------------------

_SMALL_VARINTS = tuple(bytes((i,)) for i in range(128))


def _varint(n):
  if 0 <= n < 128:
    return _SMALL_VARINTS[n]   # field tags and short lengths: most calls
  if n < 0:
    n += 1 << 64
  out = bytearray()
  while True:
    byte = n & 0x7F
    n >>= 7
    if n:
      out.append(byte | 0x80)
    else:
      out.append(byte)
      return bytes(out)


def _field(number, payload):
  """A length-delimited field."""
  return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _field_parts(number, parts, length):
  """A length-delimited field around `parts` (chunks of `length` bytes in all), as chunks."""
  head = _varint(number << 3 | 2) + _varint(length)
  return [head] + parts, len(head) + length


def _feature(kind, items, key):
  """A `tf.train.Feature` as `(chunks, length)`."""
  try:
    if kind == 'bytes':
      parts, length = [], 0
      for v in items:
        data = v.encode('utf-8') if isinstance(v, str) else bytes(v)
        chunks, size = _field_parts(1, [data], len(data))
        parts += chunks
        length += size
      return _field_parts(1, parts, length)
    if kind == 'float':
      packed = struct.pack(f'<{len(items)}f', *items)
      body = _field(1, packed) if items else b''
      return _field_parts(2, [body], len(body))
    packed = b''.join(_varint(int(v)) for v in items)
    body = _field(1, packed) if items else b''
    return _field_parts(3, [body], len(body))
  except (TypeError, ValueError, struct.error) as e:
    raise ValueError(f'feature {key!r}: cannot encode {items!r} as {kind}: {e}') from None


def _map_entry(key, feature):
  """One entry of the Features map, `key` -> `feature` (chunks, length), as chunks."""
  name = _field(1, key.encode('utf-8'))
  chunks, size = _field_parts(2, *feature)
  return _field_parts(1, [name] + chunks, len(name) + size)
