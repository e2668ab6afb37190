"""Decodes serialized `tf.train.Example`s into item tensors, as TF-Slim's `slim.tfexample_decoder`.

    handlers = {'image': Image(shape=[28, 28, 1], channels=1), 'label': Tensor(schema.LABEL)}
    decoder = TFExampleDecoder(schema.IMAGE.keys_to_features(), handlers)
    image, label = decoder.decode(serialized, ['image', 'label'])        # one example
    images, labels = decoder.decode_batch(serialized_batch)              # a batch, vectorised

A decoder is a parsing spec (`keys_to_features`) and a dict of item handlers;
each handler turns some parsed features into one item. Everything runs in the
graph with public TensorFlow ops, in graph mode (`tf.compat.v1.Session`),
eager mode and inside `tf.data` / `tf.function`.

Images: the format key tells raw pixels (`raw`, any case; decoded with
`tf.io.decode_raw` and reshaped to `Image(shape=...)`) from encoded images,
which are decoded by what their header says (`tf.io.decode_image`: JPEG, PNG,
GIF, BMP and WebP), so a PNG labelled `jpg` still decodes, as in TF-Slim. JPEGs
honour `dct_method`; GIFs yield their first frame.

Batches: `decode_batch` parses a 1-D batch with one `tf.io.parse_example` and
returns each item with a leading batch dimension. Images of a fixed `shape`
decode a batch at a time: raw ones with one `decode_raw` and one reshape; a
batch of one encoding (all PNG, all JPEG) with that decoder per image, as
straight-line ops when the batch's size is static (up to 128), else in one
`tf.map_fn`; mixed batches image by image as `decode` would. Items
whose per-example shapes can differ (images without `shape`, repeated images,
variable-length lists, boxes, `BackupHandler`, callbacks without `batch_func`)
raise `ValueError`: decode those per example with `decode`.

Bad records raise `tf.errors.InvalidArgumentError` (eagerly, one TensorFlow's parser
cannot read is named; see `_parse`). TensorFlow 2.21's parser can crash the process
on some malformed bytes: pass records of unknown origin through
`providers.validation.checked_examples` first.
"""
import abc
import math

from descriptors import data_decoder
from descriptors import schema

_DEFAULT_IMAGE_KEY = schema.ENCODED
_DEFAULT_FORMAT_KEY = schema.FORMAT
# Batches of a static size decode as one op per image, not a loop (a map_fn iteration
# costs more than decoding a small PNG), in chunks of up to this many images: more ops
# per graph cost more memory (+40 MiB for 128) than they save.
_MAX_UNROLL = 32
_PNG_HEAD = b'\x89PNG'
_JPEG_HEAD = b'\xff\xd8\xff'   # what tf.io.is_jpeg checks
_GIF_HEAD = b'GIF8'
_BMP_HEAD = b'BM'
_WEBP_TAG = b'WEBP'   # at byte 8, after RIFF and the size


def _tf():
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  return tf


def _is_sparse(tensor):
  return isinstance(tensor, _tf().sparse.SparseTensor)


def _batch_error(item_kind, why):
  return ValueError(f'{item_kind} cannot be decoded as a batch: {why}; decode it per example '
                    f'with decoder.decode(serialized, items)')


class ItemHandler(abc.ABC):
  """Maps the parsed features named by `keys` to one item."""

  def __init__(self, keys):
    if not isinstance(keys, (tuple, list)):
      keys = [keys]
    self._keys = list(keys)

  @property
  def keys(self):
    return self._keys

  @abc.abstractmethod
  def tensors_to_item(self, keys_to_tensors):
    """The item for one example, from `{key: parsed tensor}`."""

  def tensors_to_batch(self, keys_to_tensors, keys_to_features):
    """The item for a batch, from `{key: tensor parsed by tf.io.parse_example}`.

    Handlers that can batch override this; the rest raise ValueError.
    """
    del keys_to_tensors, keys_to_features
    raise _batch_error(type(self).__name__, 'its per-example shapes can differ')

  def item_bytes(self, keys_to_features):
    """Bytes of one example's item where its shape and dtype are known before decoding,
    else None (the default)."""
    del keys_to_features
    return None


class ItemHandlerCallback(ItemHandler):
  """An item computed by `func({key: tensor})`; `batch_func` does the same for a batch."""

  def __init__(self, keys, func, batch_func=None):
    super().__init__(keys)
    if not callable(func):
      raise ValueError(f'ItemHandlerCallback: func must be callable, got {func!r}')
    self._func = func
    self._batch_func = batch_func

  def tensors_to_item(self, keys_to_tensors):
    return self._func(keys_to_tensors)

  def tensors_to_batch(self, keys_to_tensors, keys_to_features):
    if self._batch_func is None:
      raise _batch_error('ItemHandlerCallback', 'it was given no batch_func')
    return self._batch_func(keys_to_tensors)


class BoundingBox(ItemHandler):
  """`[num_boxes, 4]` boxes, one per row as `[ymin, xmin, ymax, xmax]`, from four list features.

  Args:
    keys: the four keys in that order; default `['ymin', 'xmin', 'ymax', 'xmax']`.
    prefix: prepended to each key (e.g. `'image/object/bbox/'`).
  """

  def __init__(self, keys=None, prefix=''):
    if keys is None:
      keys = ['ymin', 'xmin', 'ymax', 'xmax']
    elif len(keys) != 4:
      raise ValueError(f'BoundingBox expects 4 keys (ymin, xmin, ymax, xmax), got {keys!r}')
    self._prefix = prefix
    self._full_keys = [prefix + k for k in keys]
    super().__init__(self._full_keys)

  def tensors_to_item(self, keys_to_tensors):
    tf = _tf()
    sides = []
    for key in self._full_keys:
      side = keys_to_tensors[key]
      sides.append(side.values if _is_sparse(side) else tf.reshape(side, [-1]))
    return tf.stack(sides, axis=1)


class Tensor(ItemHandler):
  """A parsed feature as a dense tensor, optionally reshaped.

  Args:
    tensor_key: the feature to read.
    shape_keys: a key or list of keys holding the shape (one dimension each, or one
      key holding all of them); exclusive with `shape`.
    shape: a fixed shape to reshape to.
    default_value: fills positions of a list feature (`VarLenFeature`) without values.
  """

  def __init__(self, tensor_key, shape_keys=None, shape=None, default_value=0):
    if shape_keys and shape is not None:
      raise ValueError(f'Tensor({tensor_key!r}): give shape_keys or shape, not both')
    if shape_keys and not isinstance(shape_keys, (list, tuple)):
      shape_keys = [shape_keys]
    self._tensor_key = tensor_key
    self._shape_keys = list(shape_keys) if shape_keys else None
    self._shape = shape
    self._default_value = default_value
    super().__init__([tensor_key] + (self._shape_keys or []))

  def tensors_to_item(self, keys_to_tensors):
    tf = _tf()
    tensor = keys_to_tensors[self._tensor_key]
    shape = self._shape
    if self._shape_keys:
      dims = []
      for key in self._shape_keys:
        dim = keys_to_tensors[key]
        if _is_sparse(dim):
          dim = tf.sparse.to_dense(dim)
        dims.append(tf.reshape(tf.cast(dim, tf.int64), [-1]))
      shape = tf.concat(dims, axis=0)
    if _is_sparse(tensor):
      if shape is not None:
        tensor = tf.sparse.reshape(tensor, shape)
      return tf.sparse.to_dense(tensor, default_value=self._default_value)
    if shape is not None:
      tensor = tf.reshape(tensor, shape)
    return tensor

  def item_bytes(self, keys_to_features):
    tf = _tf()
    spec = keys_to_features.get(self._tensor_key)
    if (self._shape_keys or not isinstance(spec, tf.io.FixedLenFeature) or
        spec.dtype == tf.string):
      return None
    shape = spec.shape if self._shape is None else self._shape
    if any(d is None or d < 0 for d in shape):
      return None
    return math.prod(shape) * spec.dtype.size

  def tensors_to_batch(self, keys_to_tensors, keys_to_features):
    tf = _tf()
    name = f'Tensor({self._tensor_key!r})'
    if self._shape_keys:
      raise _batch_error(name, 'its shape comes from shape_keys, per example')
    spec = keys_to_features[self._tensor_key]
    tensor = keys_to_tensors[self._tensor_key]
    if isinstance(spec, tf.io.FixedLenFeature):
      if self._shape is None:
        return tensor
      return tf.reshape(tensor, _batch_shape(tensor, self._shape))
    if isinstance(spec, tf.io.VarLenFeature) and self._shape is not None:
      # Per example, sparse_reshape demands exactly prod(shape) values; check the same.
      size = tf.reduce_prod(tf.constant(self._shape, tf.int64))
      rows = tf.shape(tensor, out_type=tf.int64)[0]
      counts = tf.math.bincount(tensor.indices[:, 0], minlength=rows, maxlength=rows,
                                dtype=tf.int64)
      check = tf.debugging.assert_equal(
          counts, size, message=f'{name}: an example does not hold exactly shape={self._shape} '
          f'values')
      with tf.control_dependencies([check]):
        dense = tf.sparse.to_dense(tensor, default_value=self._default_value)
      return tf.reshape(dense, _batch_shape(dense, self._shape))
    raise _batch_error(name, f'its feature is {type(spec).__name__} without a fixed shape')


def _first_of(cases, default):
  """The branch of the first true `(condition, branch)` of `cases`, else `default()`, as
  nested `tf.cond`s (each traced once)."""
  tf = _tf()
  if not cases:
    return default()
  (condition, branch), rest = cases[0], cases[1:]
  return tf.cond(condition, branch, lambda: _first_of(rest, default))


def _batch_shape(batch, shape):
  """`[batch size] + shape` as a tensor."""
  tf = _tf()
  return tf.concat([tf.shape(batch, out_type=tf.int64)[:1],
                    tf.cast(tf.reshape(shape, [-1]), tf.int64)], axis=0)


class LookupTensor(Tensor):
  """A `Tensor` item mapped through `table` (a `tf.lookup` table, e.g. a vocabulary)."""

  def __init__(self, tensor_key, table, shape_keys=None, shape=None, default_value=''):
    self._table = table
    super().__init__(tensor_key, shape_keys=shape_keys, shape=shape,
                     default_value=default_value)

  def tensors_to_item(self, keys_to_tensors):
    return self._table.lookup(super().tensors_to_item(keys_to_tensors))

  def tensors_to_batch(self, keys_to_tensors, keys_to_features):
    return self._table.lookup(super().tensors_to_batch(keys_to_tensors, keys_to_features))

  def item_bytes(self, keys_to_features):
    return None   # the table's values, of any size


class BackupHandler(ItemHandler):
  """`handler`'s item, or `backup`'s where `handler` gives an empty tensor."""

  def __init__(self, handler, backup):
    for role, h in (('handler', handler), ('backup', backup)):
      if not isinstance(h, ItemHandler):
        raise ValueError(f'BackupHandler: {role} must be an ItemHandler, got {type(h).__name__}')
    self._handler = handler
    self._backup = backup
    super().__init__(handler.keys + [k for k in backup.keys if k not in handler.keys])

  def tensors_to_item(self, keys_to_tensors):
    tf = _tf()
    item = self._handler.tensors_to_item(keys_to_tensors)
    return tf.cond(tf.equal(tf.size(item), 0),
                   lambda: self._backup.tensors_to_item(keys_to_tensors),
                   lambda: item)


class SparseTensor(ItemHandler):
  """A `tf.SparseTensor` whose last index column comes from the ids in `indices_key`.

  Args:
    indices_key: the list feature of ids (default 'indices').
    values_key: the list feature of values (default 'values').
    shape_key: a feature holding the dense shape; else `shape`; else the ids' own shape.
    shape: the dense shape, when `shape_key` is not given.
    densify: return a dense tensor, filled with `default_value`.
    default_value: the value of positions without an id.
  """

  def __init__(self, indices_key=None, values_key=None, shape_key=None, shape=None,
               densify=False, default_value=0):
    self._indices_key = indices_key or 'indices'
    self._values_key = values_key or 'values'
    self._shape_key = shape_key
    self._shape = shape
    self._densify = densify
    self._default_value = default_value
    keys = [self._indices_key, self._values_key]
    if shape_key:
      keys.append(shape_key)
    super().__init__(keys)

  def tensors_to_item(self, keys_to_tensors):
    tf = _tf()
    indices = keys_to_tensors[self._indices_key]
    values = keys_to_tensors[self._values_key]
    if self._shape_key:
      shape = keys_to_tensors[self._shape_key]
      if _is_sparse(shape):
        shape = tf.sparse.to_dense(shape)
    elif self._shape is not None:
      shape = self._shape
    else:
      shape = indices.dense_shape
    return self._build(indices, values, shape)

  def _build(self, indices, values, shape):
    tf = _tf()
    # Keep every index column but the last (the example's row in a batch), which
    # becomes the id itself.
    ids = tf.reshape(tf.cast(indices.values, tf.int64), [-1, 1])
    new_indices = tf.concat([indices.indices[:, :-1], ids], axis=1)
    tensor = tf.sparse.SparseTensor(new_indices, values.values,
                                    tf.cast(tf.reshape(shape, [-1]), tf.int64))
    if self._densify:
      tensor = tf.sparse.to_dense(tf.sparse.reorder(tensor), default_value=self._default_value)
    return tensor

  def tensors_to_batch(self, keys_to_tensors, keys_to_features):
    if self._shape_key or self._shape is None:
      raise _batch_error(f'SparseTensor({self._indices_key!r})',
                         'its dense shape is not a fixed `shape`')
    indices = keys_to_tensors[self._indices_key]
    return self._build(indices, keys_to_tensors[self._values_key],
                       _batch_shape(indices.indices, self._shape))


class Image(ItemHandler):
  """An image decoded from an encoded (JPEG, PNG, GIF, BMP) or raw feature.

  Args:
    image_key: the feature with the image bytes (default `image/encoded`).
    format_key: the feature with the format (default `image/format`); `raw` in any case
      means pixels stored as `dtype`, anything else an encoded image.
    shape: `[height, width, channels]` to reshape to; required for raw images and for
      `decode_batch`. Give it only if every image has that shape.
    channels: channels to decode to (0: as stored); 1 and 3 convert between gray and RGB.
    dtype: the item's dtype; encoded images are decoded as uint8 (uint16 for 16-bit PNGs
      when `dtype` is uint16) and cast, raw ones are read as `dtype`.
    repeated: the feature holds a list of images of one size; the item is `[n, h, w, c]`.
    dct_method: JPEG decoding hint, '' (default), 'INTEGER_FAST' or 'INTEGER_ACCURATE'.
  """

  def __init__(self, image_key=None, format_key=None, shape=None, channels=3, dtype=None,
               repeated=False, dct_method=''):
    if channels not in (0, 1, 3, 4, None):
      raise ValueError(f'Image: channels must be 0, 1, 3 or 4, got {channels!r}')
    if dct_method not in ('', 'INTEGER_FAST', 'INTEGER_ACCURATE'):
      raise ValueError(f"Image: dct_method must be '', 'INTEGER_FAST' or 'INTEGER_ACCURATE', "
                       f'got {dct_method!r}')
    self._image_key = image_key or _DEFAULT_IMAGE_KEY
    self._format_key = format_key or _DEFAULT_FORMAT_KEY
    super().__init__([self._image_key, self._format_key])
    self._shape = None if shape is None else [int(d) for d in shape]
    self._channels = channels or 0
    self._dtype = dtype
    self._repeated = repeated
    self._dct_method = dct_method
    self._eager_decode_batch = None

  @property
  def dtype(self):
    return self._dtype if self._dtype is not None else _tf().uint8

  def item_bytes(self, keys_to_features):
    del keys_to_features
    if self._shape is None or self._repeated:
      return None
    return math.prod(self._shape) * self.dtype.size

  def _static_shape(self):
    if self._shape is not None:
      return self._shape
    return [None, None, self._channels or None]

  def tensors_to_item(self, keys_to_tensors):
    tf = _tf()
    buffers = keys_to_tensors[self._image_key]
    formats = keys_to_tensors[self._format_key]
    if not self._repeated:
      return self._decode(buffers, formats)
    if _is_sparse(buffers):
      buffers = buffers.values
    if _is_sparse(formats):
      formats = formats.values
    spec = tf.TensorSpec(self._static_shape(), self.dtype)
    if formats.shape.rank == 0:
      return tf.map_fn(lambda b: self._decode(b, formats), buffers, fn_output_signature=spec)
    return tf.map_fn(lambda bf: self._decode(bf[0], bf[1]), (buffers, formats),
                     fn_output_signature=spec)

  def tensors_to_batch(self, keys_to_tensors, keys_to_features):
    tf = _tf()
    name = f'Image({self._image_key!r})'
    if self._repeated:
      raise _batch_error(name, 'repeated images vary in number per example')
    if self._shape is None or any(d < 0 for d in self._shape):
      raise _batch_error(name, 'images without a fixed shape=[height, width, channels] can '
                         'differ in size')
    for key in (self._image_key, self._format_key):
      spec = keys_to_features.get(key)
      if not isinstance(spec, tf.io.FixedLenFeature) or list(spec.shape) not in ([], [1]):
        raise _batch_error(name, f'feature {key!r} is not a scalar FixedLenFeature')
    buffers = tf.reshape(keys_to_tensors[self._image_key], [-1])
    formats = tf.reshape(keys_to_tensors[self._format_key], [-1])
    if not tf.executing_eagerly():
      return self._decode_batch(buffers, formats)
    # Eagerly, map_fn would call back into Python per image; run it as a graph.
    if self._eager_decode_batch is None:
      self._eager_decode_batch = tf.function(
          self._decode_batch, input_signature=[tf.TensorSpec([None], tf.string)] * 2)
    return self._eager_decode_batch(buffers, formats)

  def _decode_batch(self, buffers, formats):
    """A batch of fixed-shape images: one decode_raw if all are raw; if all are PNG (or
    all JPEG), that decoder for each; else `_decode` for each."""
    tf = _tf()
    spec = tf.TensorSpec(self._shape, self.dtype)

    def decode_raw_batch():
      pixels = tf.io.decode_raw(buffers, out_type=self.dtype)
      return tf.reshape(pixels, _batch_shape(buffers, self._shape))

    def unrolled(decode_one, chunk):
      return tf.stack([decode_one(chunk[i]) for i in range(chunk.shape[0])])

    def each(decode_one):
      size = buffers.shape[0]
      if size is not None and 0 < size <= _MAX_UNROLL:
        return lambda: unrolled(decode_one, buffers)
      if size is not None and size % _MAX_UNROLL == 0:
        chunks = tf.reshape(buffers, [size // _MAX_UNROLL, _MAX_UNROLL])
        chunk_spec = tf.TensorSpec([_MAX_UNROLL] + self._shape, self.dtype)
        return lambda: tf.reshape(
            tf.map_fn(lambda chunk: unrolled(decode_one, chunk), chunks,
                      fn_output_signature=chunk_spec), [size] + self._shape)
      return lambda: tf.map_fn(decode_one, buffers, fn_output_signature=spec,
                               parallel_iterations=16)

    def decode_mixed():
      return tf.map_fn(lambda bf: self._decode(bf[0], bf[1]), (buffers, formats),
                       fn_output_signature=spec, parallel_iterations=16)

    encoded = tf.not_equal(tf.strings.lower(formats), 'raw')
    heads = tf.strings.substr(buffers, 0, 4)
    images = _first_of([
        (tf.reduce_all(tf.logical_not(encoded)), decode_raw_batch),
        (tf.reduce_all(tf.logical_and(encoded, tf.equal(heads, _PNG_HEAD))),
         each(self._decode_png)),
        (tf.reduce_all(tf.logical_and(encoded, tf.equal(tf.strings.substr(heads, 0, 3),
                                                        _JPEG_HEAD))),
         each(self._decode_jpeg))], decode_mixed)
    images.set_shape([None] + self._shape)
    return images

  def _finish(self, image):
    """`image` in the handler's dtype and shape."""
    tf = _tf()
    image = tf.cast(image, self.dtype)
    if self._shape is not None:
      image = tf.reshape(image, self._shape)
    image.set_shape(self._static_shape())
    return image

  def _decode_png(self, image_buffer):
    tf = _tf()
    png_dtype = tf.uint16 if self.dtype == tf.uint16 else tf.uint8
    return self._finish(tf.io.decode_png(image_buffer, channels=self._channels,
                                         dtype=png_dtype))

  def _decode_jpeg(self, image_buffer):
    tf = _tf()
    return self._finish(tf.io.decode_jpeg(image_buffer, channels=self._channels,
                                          dct_method=self._dct_method))

  def _decode(self, image_buffer, image_format):
    """One image: raw by its format key, encoded by its header.

    One cond per image, and no check that could build an error message per image: each
    cond, assert or nested cond is more memory where tf.data decodes many images in one
    call (32 images through a cond per format held ~120 MiB more). `decode_image`
    decodes JPEG, PNG, GIF, BMP and WebP (and rejects other bytes, saying which formats it
    reads); `_decode_encoded` refines it where the format's own decoder differs.
    """
    tf = _tf()

    def decode_raw():
      if self._shape is None:
        failed = tf.debugging.Assert(False, [
            f'raw image in feature {self._image_key!r} needs Image(shape=[h, w, c]) to be '
            f'reshaped'])
        with tf.control_dependencies([failed]):
          return tf.zeros([0, 0, self._channels or 1], self.dtype)
      return self._finish(tf.io.decode_raw(image_buffer, out_type=self.dtype))

    image = tf.cond(tf.not_equal(tf.strings.lower(image_format), 'raw'),
                    lambda: self._decode_encoded(image_buffer), decode_raw)
    image.set_shape(self._static_shape())
    return image

  def _decode_encoded(self, image_buffer):
    """A JPEG, PNG, GIF, BMP or WebP image: `decode_image`, except where the format's own
    decoder does what the handler asks (JPEG's `dct_method`, 16-bit PNG) or `decode_image`
    cannot (gray GIF, BMP and WebP, RGBA from GIF and RGB WebP: decoded as they are and
    converted)."""
    tf = _tf()
    channels = self._channels

    def starts(head, at=0):
      return tf.equal(tf.strings.substr(image_buffer, at, len(head)), head)

    def fitted(decoded_channels):
      """Decoded with `decoded_channels` (0: as stored), then made gray or RGBA."""
      def fit():
        image = tf.io.decode_image(image_buffer, channels=decoded_channels,
                                   expand_animations=False)
        if channels == 1:
          return self._finish(tf.image.rgb_to_grayscale(image[..., :3]))
        shape = tf.shape(image)
        opaque = tf.fill(tf.stack([shape[0], shape[1], 4 - shape[2]]),
                         tf.constant(255, image.dtype))   # none where it has alpha
        return self._finish(tf.concat([image, opaque], axis=-1))
      return fit

    cases = []
    if self._dct_method:
      cases.append((tf.io.is_jpeg(image_buffer), lambda: self._decode_jpeg(image_buffer)))
    if self.dtype == tf.uint16:
      cases.append((starts(_PNG_HEAD), lambda: self._decode_png(image_buffer)))
    if channels == 1:
      cases.append((tf.logical_or(starts(_GIF_HEAD), starts(_BMP_HEAD)), fitted(3)))
    if channels == 4:
      cases.append((starts(_GIF_HEAD), fitted(3)))
    if channels in (1, 4):
      cases.append((starts(_WEBP_TAG, at=8), fitted(0)))
    return _first_of(cases, lambda: self._finish(tf.io.decode_image(
        image_buffer, channels=channels, expand_animations=False)))


class TFExampleDecoder(data_decoder.DataDecoder):
  """Parses Examples with `keys_to_features` and builds items with `items_to_handlers`.

  Args:
    keys_to_features: `{key: tf.io.FixedLenFeature | VarLenFeature | ...}`, e.g.
      `schema.IMAGE.keys_to_features()`.
    items_to_handlers: `{item name: ItemHandler}`.
  """

  def __init__(self, keys_to_features, items_to_handlers):
    if not isinstance(keys_to_features, dict) or not keys_to_features:
      raise ValueError(f'keys_to_features must be a non-empty dict, got {keys_to_features!r}')
    if not isinstance(items_to_handlers, dict):
      raise ValueError(f'items_to_handlers must be a dict, got {items_to_handlers!r}')
    for item, handler in items_to_handlers.items():
      if not isinstance(handler, ItemHandler):
        raise ValueError(f'item {item!r}: handler must be an ItemHandler, got '
                         f'{type(handler).__name__}')
    self._keys_to_features = dict(keys_to_features)
    self._items_to_handlers = dict(items_to_handlers)

  @property
  def keys_to_features(self):
    return dict(self._keys_to_features)

  def list_items(self):
    return list(self._items_to_handlers)

  def _handlers(self, items):
    """The handlers of `items` (all when empty), checked before any op is built."""
    if not items:
      items = list(self._items_to_handlers)
    elif isinstance(items, str):
      raise ValueError(f'items must be a list of item names, got the string {items!r}')
    handlers = []
    for item in items:
      if item not in self._items_to_handlers:
        raise ValueError(f'unknown item {item!r}; this decoder has: '
                         f'{", ".join(self._items_to_handlers)}')
      handler = self._items_to_handlers[item]
      missing = [k for k in handler.keys if k not in self._keys_to_features]
      if missing:
        raise ValueError(f'item {item!r} reads features {missing} that keys_to_features '
                         f'does not parse')
      handlers.append((item, handler))
    return handlers

  def item_bytes(self, items=None):
    """Bytes of one example's decoded `items` where every one has a static shape and
    dtype (fixed-shape images, fixed-length numeric features), else None: what sizes
    the blocks a provider decodes together."""
    sizes = [handler.item_bytes(self._keys_to_features)
             for _, handler in self._handlers(items)]
    return None if None in sizes else sum(sizes)

  def decode(self, serialized_example, items=None):
    """Decodes one serialized Example (a scalar string) into a list of item tensors."""
    tf = _tf()
    handlers = self._handlers(items)
    example = _parse(tf.io.parse_single_example, serialized_example, self._keys_to_features)
    # Reshape dense features once, in a fixed order, so graphs are deterministic.
    for key in sorted(self._keys_to_features):
      spec = self._keys_to_features[key]
      if isinstance(spec, tf.io.FixedLenFeature):
        example[key] = tf.reshape(example[key], spec.shape)
    return [handler.tensors_to_item({k: example[k] for k in handler.keys})
            for _, handler in handlers]

  def decode_batch(self, serialized_batch, items=None):
    """Decodes a 1-D batch of serialized Examples; each item gets a leading batch dimension.

    Equal to stacking `decode` over the batch, but vectorised. Raises ValueError, naming
    the item, for items that cannot be batched (see the module docstring).
    """
    tf = _tf()
    handlers = self._handlers(items)
    serialized_batch = tf.convert_to_tensor(serialized_batch, dtype=tf.string)
    if serialized_batch.shape.rank is not None and serialized_batch.shape.rank != 1:
      raise ValueError(f'decode_batch takes a 1-D batch of serialized Examples, got shape '
                       f'{serialized_batch.shape}; use decode for a single one')
    example = _parse(tf.io.parse_example, serialized_batch, self._keys_to_features)
    outputs = []
    for item, handler in handlers:
      try:
        outputs.append(handler.tensors_to_batch({k: example[k] for k in handler.keys},
                                                self._keys_to_features))
      except ValueError as e:
        raise ValueError(f'item {item!r}: {e}') from None
    return outputs

  def decode_each(self, serialized_batch, items=None):
    """Decodes a 1-D batch of a static size example by example after one parse: a list
    with each example's list of item tensors, whose shapes may differ between examples.

    Equal to `decode` on each record, for one parse of the batch (~15 us per record
    against ~45 us one by one). Raises ValueError for a batch without a static size and
    for features other than FixedLenFeature and VarLenFeature (they parse differently
    in a batch): decode those with `decode`.
    """
    tf = _tf()
    handlers = self._handlers(items)
    size = tf.convert_to_tensor(serialized_batch, dtype=tf.string).shape
    if size.rank != 1 or size[0] is None:
      raise ValueError(f'decode_each takes a 1-D batch of a static size, got shape {size}')
    for key, spec in self._keys_to_features.items():
      if not isinstance(spec, (tf.io.FixedLenFeature, tf.io.VarLenFeature)):
        raise ValueError(f'decode_each: feature {key!r} is a {type(spec).__name__}, which '
                         f'parses differently in a batch; use decode')
    parsed = _parse(tf.io.parse_example, serialized_batch, self._keys_to_features)
    examples = []
    for i in range(size[0]):
      example = {key: _sparse_row(value, i) if _is_sparse(value) else value[i]
                 for key, value in parsed.items()}
      examples.append([handler.tensors_to_item({k: example[k] for k in handler.keys})
                       for _, handler in handlers])
    return examples


def _sparse_row(batch, i):
  """Row `i` of a parsed batch's VarLenFeature, as `parse_single_example` gives it."""
  tf = _tf()
  values = tf.boolean_mask(batch.values, tf.equal(batch.indices[:, 0], i))
  size = tf.size(values, out_type=tf.int64)
  return tf.SparseTensor(tf.expand_dims(tf.range(size), 1), values, tf.reshape(size, [1]))


def _parse(parse, serialized, keys_to_features):
  """`parse(serialized, keys_to_features)`. Eagerly, an input TensorFlow's parser cannot
  read raises InvalidArgumentError naming it: TensorFlow's own error quotes the raw bytes
  and its Python fails to decode that message (UnicodeDecodeError). Inside a graph or
  tf.function it surfaces where the graph runs; `providers.validation` prevents it."""
  try:
    return parse(serialized, keys_to_features)
  except UnicodeDecodeError:
    tf = _tf()
    inputs = tf.reshape(serialized, [-1]).numpy()
    first = f'{inputs[0][:48]!r}{"..." if len(inputs[0]) > 48 else ""} ({len(inputs[0])} bytes)'
    which = (f'the input {first} is' if len(inputs) == 1 else
             f'one of the {len(inputs)} inputs (the first: {first}) is')
    raise tf.errors.InvalidArgumentError(
        None, None, f'TFExampleDecoder: {which} not a serialized tf.train.Example that '
        f'TensorFlow can parse; check the records with tools/verify.py, or pass them through '
        f'providers.validation.checked_examples first') from None
