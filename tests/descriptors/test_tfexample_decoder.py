"""TFExampleDecoder and its item handlers, in graph mode (Session) and eager mode.

Examples are written with schema.Schema.encode_example; images are real PIL-encoded bytes.
"""
import numpy as np
import pytest
import tensorflow as tf

from descriptors import schema
from descriptors import tfexample_decoder as td

import descriptors_testlib as lib

# Test-only features beside the real schema's.
IDS, VALUES, SHAPE, WORDS, MATRIX, IMAGES = (
    'test/ids', 'test/values', 'test/shape', 'test/words', 'test/matrix', 'test/images')
BBOX_KEYS = [schema.BBOX_YMIN, schema.BBOX_XMIN, schema.BBOX_YMAX, schema.BBOX_XMAX]
SCHEMA = schema.Schema(schema.IMAGENET.features + (
    schema.Feature(schema.LEGACY_BBOX_LABEL, 'int64', varlen=True),
    schema.Feature(IDS, 'int64', varlen=True),
    schema.Feature(VALUES, 'float', varlen=True),
    schema.Feature(SHAPE, 'int64', varlen=True),
    schema.Feature(WORDS, 'bytes', varlen=True),
    schema.Feature(MATRIX, 'float', varlen=True),
    schema.Feature(IMAGES, 'bytes', varlen=True),
))
RGB = lib.pixels(6, 8, 3, seed=1)


def decode_one(mode, record, handler, keys_to_features=None):
  features = keys_to_features or SCHEMA.keys_to_features()
  decoder = td.TFExampleDecoder(features, {'item': handler})
  return lib.evaluate(mode, lambda: decoder.decode(tf.constant(record), ['item'])[0])


def image_record(data, fmt, **extra):
  return SCHEMA.encode_example({schema.ENCODED: data, schema.FORMAT: fmt, **extra})


@pytest.mark.parametrize('mode,pil_format,format_value', [
    (mode, pil_format, value) for pil_format, values in [
        ('PNG', ['png', 'PNG']), ('GIF', ['gif', 'Gif']), ('BMP', ['bmp', 'BMP']),
        ('JPEG', ['jpeg', 'JPG', 'jpg'])]
    for mode in lib.MODES for value in (values if mode == 'eager' else values[:1])])
def test_image_decodes_each_format_to_pils_pixels(mode, pil_format, format_value):
  data = lib.encode(RGB, pil_format)
  # INTEGER_ACCURATE is the islow DCT PIL's libjpeg uses, so JPEG compares exactly too.
  image = decode_one(mode, image_record(data, format_value),
                     td.Image(dct_method='INTEGER_ACCURATE'))
  assert image.dtype == np.uint8 and image.shape == (6, 8, 3)
  np.testing.assert_array_equal(image, lib.pil_decode(data))


@pytest.mark.parametrize('mode', lib.MODES)
def test_jpeg_with_default_dct_is_close_to_pil(mode):
  data = lib.encode(RGB, 'JPEG', quality=90)
  image = decode_one(mode, image_record(data, 'jpeg'), td.Image())
  diff = np.abs(image.astype(int) - lib.pil_decode(data).astype(int))
  assert diff.max() <= 8 and diff.mean() < 2


@pytest.mark.parametrize('mode', lib.MODES)
def test_dct_method_reaches_the_jpeg_decoder(mode):
  data = lib.encode(lib.pixels(32, 32, 3, seed=2), 'JPEG', quality=75)
  record = image_record(data, 'jpeg')
  fast = decode_one(mode, record, td.Image(dct_method='INTEGER_FAST'))
  accurate = decode_one(mode, record, td.Image(dct_method='INTEGER_ACCURATE'))
  np.testing.assert_array_equal(fast, tf.io.decode_jpeg(data, dct_method='INTEGER_FAST'))
  np.testing.assert_array_equal(accurate, lib.pil_decode(data))
  assert not np.array_equal(fast, accurate)


@pytest.mark.parametrize('mode', lib.MODES)
@pytest.mark.parametrize('format_value', ['raw', 'RAW'])
def test_raw_image_is_reshaped_to_shape(mode, format_value):
  record = image_record(RGB.tobytes(), format_value)
  image = decode_one(mode, record, td.Image(shape=[6, 8, 3]))
  np.testing.assert_array_equal(image, RGB)


@pytest.mark.parametrize('mode', lib.MODES)
def test_raw_image_is_read_as_dtype(mode):
  values = np.linspace(0, 1, 12, dtype=np.float32).reshape(2, 2, 3)
  image = decode_one(mode, image_record(values.tobytes(), 'raw'),
                     td.Image(shape=[2, 2, 3], dtype=tf.float32))
  np.testing.assert_array_equal(image, values)


def test_raw_image_without_shape_fails_saying_so():
  with pytest.raises(tf.errors.InvalidArgumentError, match='needs Image\\(shape='):
    decode_one('eager', image_record(RGB.tobytes(), 'raw'), td.Image())


@pytest.mark.parametrize('mode', lib.MODES)
def test_encoded_image_is_cast_to_dtype(mode):
  image = decode_one(mode, image_record(lib.encode(RGB, 'PNG'), 'png'),
                     td.Image(dtype=tf.float32))
  assert image.dtype == np.float32
  np.testing.assert_array_equal(image, RGB.astype(np.float32))


def test_16_bit_png_keeps_its_depth_as_uint16():
  deep = (np.arange(30, dtype=np.uint16) * 2000).reshape(5, 6)
  image = decode_one('eager', image_record(lib.encode(deep, 'PNG'), 'png'),
                     td.Image(channels=1, dtype=tf.uint16))
  np.testing.assert_array_equal(image[..., 0], deep)


@pytest.mark.parametrize('mode', lib.MODES)
def test_channels_convert_between_gray_rgb_and_rgba(mode):
  gray = lib.pixels(6, 8, 1, seed=3)
  got = decode_one(mode, image_record(lib.encode(gray, 'PNG'), 'png'), td.Image(channels=1))
  np.testing.assert_array_equal(got[..., 0], gray)
  rgb_png = lib.encode(RGB, 'PNG')
  got = decode_one(mode, image_record(rgb_png, 'png'), td.Image(channels=1))
  np.testing.assert_array_equal(got, tf.io.decode_png(rgb_png, channels=1))
  gif = lib.encode(RGB, 'GIF')
  got = decode_one(mode, image_record(gif, 'gif'), td.Image(channels=1))
  np.testing.assert_array_equal(got, tf.image.rgb_to_grayscale(lib.pil_decode(gif)))
  got = decode_one(mode, image_record(gif, 'gif'), td.Image(channels=4))
  np.testing.assert_array_equal(got[..., :3], lib.pil_decode(gif))
  assert (got[..., 3] == 255).all()
  rgba = lib.pixels(6, 8, 4, seed=4)
  bmp = lib.encode(rgba, 'BMP')
  got = decode_one(mode, image_record(bmp, 'bmp'), td.Image(channels=4))
  np.testing.assert_array_equal(got, rgba)   # PIL reads 32-bit BMP without its alpha
  got = decode_one(mode, image_record(lib.encode(RGB, 'BMP'), 'bmp'), td.Image(channels=0))
  np.testing.assert_array_equal(got, RGB)


@pytest.mark.parametrize('mode', lib.MODES)
def test_webp_decodes_to_every_channel_count(mode):
  """WebP, which TF-Slim never read: RGB and RGBA, as stored, gray, RGB or RGBA."""
  rgb = lib.encode(RGB, 'WEBP', lossless=True)
  rgba_pixels = lib.pixels(6, 8, 4, seed=5)
  rgba = lib.encode(rgba_pixels, 'WEBP', lossless=True)
  for channels in (0, 3):
    got = decode_one(mode, image_record(rgb, 'webp'), td.Image(channels=channels))
    np.testing.assert_array_equal(got, RGB)
  got = decode_one(mode, image_record(rgb, 'webp'), td.Image(channels=1))
  np.testing.assert_array_equal(got, tf.image.rgb_to_grayscale(RGB))
  got = decode_one(mode, image_record(rgb, 'webp'), td.Image(channels=4))
  np.testing.assert_array_equal(got[..., :3], RGB)
  assert (got[..., 3] == 255).all()
  got = decode_one(mode, image_record(rgba, 'webp'), td.Image(channels=4))
  np.testing.assert_array_equal(got, rgba_pixels)
  got = decode_one(mode, image_record(rgba, 'webp'), td.Image(channels=1))
  np.testing.assert_array_equal(got, tf.image.rgb_to_grayscale(rgba_pixels[..., :3]))


def test_image_is_decoded_by_its_header_whatever_its_format_says():
  png = lib.encode(RGB, 'PNG')
  np.testing.assert_array_equal(decode_one('eager', image_record(png, 'jpg'), td.Image()), RGB)
  bmp = lib.encode(RGB, 'BMP')
  np.testing.assert_array_equal(decode_one('eager', image_record(bmp, 'jpeg'), td.Image()), RGB)


@pytest.mark.parametrize('mode', lib.MODES)
def test_bytes_that_are_no_image_fail_saying_what_could_be_decoded(mode):
  with pytest.raises(tf.errors.InvalidArgumentError, match='Unknown image file format'):
    decode_one(mode, image_record(b'TIFF or worse', 'tiff'), td.Image())


def test_graph_mode_image_has_static_channels():
  decoder = td.TFExampleDecoder(SCHEMA.keys_to_features(),
                                {'a': td.Image(), 'b': td.Image(shape=[6, 8, 3], channels=3)})
  with tf.Graph().as_default():
    a, b = decoder.decode(tf.constant(image_record(lib.encode(RGB, 'PNG'), 'png')))
    assert a.shape.as_list() == [None, None, 3]
    assert b.shape.as_list() == [6, 8, 3]


@pytest.mark.parametrize('mode', lib.MODES)
def test_repeated_images_decode_to_a_stack(mode):
  frames = [lib.pixels(4, 5, 3, seed=s) for s in range(3)]
  record = SCHEMA.encode_example({IMAGES: [lib.encode(f, 'PNG') for f in frames],
                                  schema.FORMAT: 'png'})
  stack = decode_one(mode, record, td.Image(image_key=IMAGES, repeated=True))
  np.testing.assert_array_equal(stack, np.stack(frames))
  # The same from a FixedLenSequenceFeature (dense) spec.
  features = SCHEMA.keys_to_features()
  features[IMAGES] = tf.io.FixedLenSequenceFeature((), tf.string, allow_missing=True)
  stack = decode_one(mode, record, td.Image(image_key=IMAGES, repeated=True), features)
  np.testing.assert_array_equal(stack, np.stack(frames))


def test_image_rejects_bad_arguments():
  with pytest.raises(ValueError, match='channels'):
    td.Image(channels=2)
  with pytest.raises(ValueError, match='dct_method'):
    td.Image(dct_method='FASTEST')


@pytest.mark.parametrize('mode', lib.MODES)
def test_bounding_box_stacks_sides_as_ymin_xmin_ymax_xmax(mode):
  boxes = np.array([[0.1, 0.2, 0.5, 0.6], [0.3, 0.0, 0.9, 1.0]], np.float32)
  record = SCHEMA.encode_example(dict(zip(BBOX_KEYS, boxes.T.tolist())))
  np.testing.assert_allclose(decode_one(mode, record, td.BoundingBox(BBOX_KEYS)), boxes)
  prefix = schema.BBOX_YMIN[:-len('ymin')]
  np.testing.assert_allclose(decode_one(mode, record, td.BoundingBox(prefix=prefix)), boxes)
  empty = decode_one(mode, SCHEMA.encode_example({}), td.BoundingBox(BBOX_KEYS))
  assert empty.shape == (0, 4)


def test_bounding_box_needs_four_keys():
  with pytest.raises(ValueError, match='4 keys'):
    td.BoundingBox(BBOX_KEYS[:3])


@pytest.mark.parametrize('mode', lib.MODES)
def test_tensor_returns_reshapes_and_fills(mode):
  matrix = np.arange(6, dtype=np.float32)
  record = SCHEMA.encode_example({schema.LABEL: 7, MATRIX: matrix.tolist(), schema.HEIGHT: 2,
                                  schema.WIDTH: 3, SHAPE: [3, 2]})
  assert decode_one(mode, record, td.Tensor(schema.LABEL)) == 7
  assert decode_one(mode, SCHEMA.encode_example({}), td.Tensor(schema.LABEL)) == -1
  np.testing.assert_array_equal(decode_one(mode, record, td.Tensor(MATRIX)), matrix)
  np.testing.assert_array_equal(decode_one(mode, record, td.Tensor(MATRIX, shape=[2, 3])),
                                matrix.reshape(2, 3))
  np.testing.assert_array_equal(
      decode_one(mode, record, td.Tensor(MATRIX, shape_keys=[schema.HEIGHT, schema.WIDTH])),
      matrix.reshape(2, 3))
  np.testing.assert_array_equal(decode_one(mode, record, td.Tensor(MATRIX, shape_keys=SHAPE)),
                                matrix.reshape(3, 2))
  # default_value fills the holes of a sparse feature.
  features = SCHEMA.keys_to_features()
  features['test/sparse'] = tf.io.SparseFeature(IDS, VALUES, tf.float32, size=5)
  sparse = SCHEMA.encode_example({IDS: [1, 3], VALUES: [0.5, 2.0]})
  np.testing.assert_array_equal(
      decode_one(mode, sparse, td.Tensor('test/sparse', default_value=-1.0), features),
      [-1, 0.5, -1, 2.0, -1])


def test_tensor_takes_shape_or_shape_keys_not_both():
  with pytest.raises(ValueError, match='not both'):
    td.Tensor(MATRIX, shape_keys=[schema.HEIGHT], shape=[2, 3])


@pytest.fixture(scope='module')
def vocabulary(tmp_path_factory):
  path = tmp_path_factory.mktemp('vocab') / 'words.txt'
  path.write_text('cat\ndog\nbird\n')
  return str(path)


def vocabulary_table(path):
  init = tf.lookup.TextFileInitializer(path, tf.string, tf.lookup.TextFileIndex.WHOLE_LINE,
                                       tf.int64, tf.lookup.TextFileIndex.LINE_NUMBER)
  return tf.lookup.StaticHashTable(init, default_value=-1)


@pytest.mark.parametrize('mode', lib.MODES)
def test_lookup_tensor_maps_words_through_a_vocabulary(mode, vocabulary):
  record = SCHEMA.encode_example({WORDS: ['dog', 'bird', 'fish', 'cat']})
  features = SCHEMA.keys_to_features()

  def build():
    decoder = td.TFExampleDecoder(features,
                                  {'ids': td.LookupTensor(WORDS, vocabulary_table(vocabulary))})
    return decoder.decode(tf.constant(record))[0]
  np.testing.assert_array_equal(lib.evaluate(mode, build), [1, 2, -1, 0])


@pytest.mark.parametrize('mode', lib.MODES)
def test_backup_handler_falls_back_when_the_first_item_is_empty(mode):
  handler = td.BackupHandler(td.Tensor(schema.BBOX_LABEL), td.Tensor(schema.LEGACY_BBOX_LABEL))
  both = SCHEMA.encode_example({schema.BBOX_LABEL: [3, 4], schema.LEGACY_BBOX_LABEL: [9]})
  legacy = SCHEMA.encode_example({schema.LEGACY_BBOX_LABEL: [7, 8]})
  np.testing.assert_array_equal(decode_one(mode, both, handler), [3, 4])
  np.testing.assert_array_equal(decode_one(mode, legacy, handler), [7, 8])
  assert decode_one(mode, SCHEMA.encode_example({}), handler).size == 0


def test_backup_handler_needs_handlers():
  with pytest.raises(ValueError, match='backup must be an ItemHandler'):
    td.BackupHandler(td.Tensor(schema.LABEL), 'label')


@pytest.mark.parametrize('mode', lib.MODES)
def test_sparse_tensor_places_values_at_their_ids(mode):
  record = SCHEMA.encode_example({IDS: [1, 3], VALUES: [0.5, 2.0], SHAPE: [6]})
  sparse = decode_one(mode, record, td.SparseTensor(IDS, VALUES, shape=[5]))
  np.testing.assert_array_equal(sparse.indices, [[1], [3]])
  np.testing.assert_array_equal(sparse.values, [0.5, 2.0])
  np.testing.assert_array_equal(sparse.dense_shape, [5])
  dense = decode_one(mode, record, td.SparseTensor(IDS, VALUES, shape=[5], densify=True,
                                                   default_value=-1.0))
  np.testing.assert_array_equal(dense, [-1, 0.5, -1, 2.0, -1])
  from_key = decode_one(mode, record, td.SparseTensor(IDS, VALUES, shape_key=SHAPE,
                                                      densify=True))
  np.testing.assert_array_equal(from_key, [0, 0.5, 0, 2.0, 0, 0])
  # Without a shape, TF-Slim's choice: the ids' own (list) shape.
  own = decode_one(mode, record, td.SparseTensor(IDS, VALUES))
  np.testing.assert_array_equal(own.dense_shape, [2])


@pytest.mark.parametrize('mode', lib.MODES)
def test_item_handler_callback_computes_from_its_keys(mode):
  record = SCHEMA.encode_example({schema.HEIGHT: 6, schema.WIDTH: 8})
  handler = td.ItemHandlerCallback([schema.HEIGHT, schema.WIDTH],
                                   lambda t: t[schema.HEIGHT] * t[schema.WIDTH])
  assert decode_one(mode, record, handler) == 48


def test_decoder_lists_and_decodes_items_in_order():
  decoder = td.TFExampleDecoder(SCHEMA.keys_to_features(),
                                {'label': td.Tensor(schema.LABEL), 'h': td.Tensor(schema.HEIGHT)})
  assert decoder.list_items() == ['label', 'h']
  record = tf.constant(SCHEMA.encode_example({schema.LABEL: 2, schema.HEIGHT: 9}))
  assert [int(t) for t in decoder.decode(record)] == [2, 9]
  assert [int(t) for t in decoder.decode(record, ['h', 'label'])] == [9, 2]


def test_eager_decode_names_an_input_tensorflow_cannot_parse():
  """TensorFlow's parse error quotes the raw bytes and then cannot decode its own message
  (UnicodeDecodeError); eagerly, the decoder raises InvalidArgumentError naming the input."""
  decoder = td.TFExampleDecoder(SCHEMA.keys_to_features(), {'label': td.Tensor(schema.LABEL)})
  garbage = b'\x0a\x05\x0a\x03\xff\xfe\x10'      # Features cut short, non-UTF-8 bytes
  with pytest.raises(UnicodeDecodeError):
    tf.io.parse_single_example(garbage, SCHEMA.keys_to_features())
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match=r"the input b'\\n\\x05\\n\\x03\\xff\\xfe\\x10' \(7 bytes\) is not"):
    decoder.decode(tf.constant(garbage))
  good = SCHEMA.encode_example({schema.LABEL: 1})
  with pytest.raises(tf.errors.InvalidArgumentError, match='one of the 2 inputs'):
    decoder.decode_batch(tf.constant([good, garbage]))


def test_decoder_rejects_unknown_items_and_unparsed_keys():
  decoder = td.TFExampleDecoder({schema.LABEL: tf.io.FixedLenFeature((), tf.int64)},
                                {'label': td.Tensor(schema.LABEL), 'image': td.Image()})
  record = tf.constant(schema.IMAGE.encode_example({schema.LABEL: 1}))
  with pytest.raises(ValueError, match="unknown item 'lable'; this decoder has: label, image"):
    decoder.decode(record, ['lable'])
  with pytest.raises(ValueError, match="item 'image' reads features"):
    decoder.decode(record, ['image'])
  with pytest.raises(ValueError, match='list of item names'):
    decoder.decode(record, 'label')
  with pytest.raises(ValueError, match='must be an ItemHandler'):
    td.TFExampleDecoder(SCHEMA.keys_to_features(), {'label': schema.LABEL})


# --- decode_batch --------------------------------------------------------------------------

def batch_records():
  """Six examples: PNG, raw and (4, 5) JPEG images of one shape, labels, words, matrices,
  ids. The last PNG says it is a jpg: the header decides."""
  images = [lib.pixels(6, 8, 3, seed=10 + i) for i in range(6)]
  records = []
  for i, image in enumerate(images):
    data, fmt = ((image.tobytes(), 'raw') if i in (1, 3) else
                 (lib.encode(image, 'JPEG'), 'jpeg') if i >= 4 else
                 (lib.encode(image, 'PNG'), 'jpg' if i == 2 else 'png'))
    records.append(SCHEMA.encode_example({
        schema.ENCODED: data, schema.FORMAT: fmt, schema.LABEL: i,
        MATRIX: [float(i)] * 6, WORDS: [['cat', 'dog', 'owl', 'bird'][i % 4]],
        IDS: [i % 3], VALUES: [i + 0.5]}))
  return records, images


def batch_handlers(vocabulary):
  return {
      'image': td.Image(shape=[6, 8, 3]),
      'label': td.Tensor(schema.LABEL),
      'matrix': td.Tensor(MATRIX, shape=[2, 3]),
      'word': td.LookupTensor(WORDS, vocabulary_table(vocabulary), shape=[]),
      'sparse': td.SparseTensor(IDS, VALUES, shape=[3], densify=True),
      'area': td.ItemHandlerCallback(
          [schema.HEIGHT, schema.WIDTH], lambda t: t[schema.HEIGHT] * t[schema.WIDTH],
          batch_func=lambda t: t[schema.HEIGHT] * t[schema.WIDTH]),
  }


# Graph mode: batches of a static size (PNG and JPEG decoded as straight-line ops);
# eager: a tf.function for any size (a loop).
@pytest.mark.parametrize('mode,subset', [(m, s) for m in ('graph', 'eager')
                                         for s in ('mixed', 'raw', 'png', 'jpeg')])
def test_decode_batch_equals_per_example_decode(mode, subset, vocabulary):
  records, images = batch_records()
  pick = {'mixed': [0, 1, 2, 3, 4, 5], 'raw': [1, 3], 'png': [0, 2], 'jpeg': [4, 5]}[subset]
  records = [records[i] for i in pick]
  features = SCHEMA.keys_to_features()

  def build():
    decoder = td.TFExampleDecoder(features, batch_handlers(vocabulary))
    batch = decoder.decode_batch(tf.constant(records))
    single = [decoder.decode(tf.constant(r)) for r in records]
    return batch, single
  batch, single = lib.evaluate(mode, build)
  for item, values in enumerate(batch):
    assert values.shape[0] == len(records)
    np.testing.assert_array_equal(values, np.stack([s[item] for s in single]))
  for n, i in enumerate(pick):
    if i < 4:   # PNG and raw are lossless
      np.testing.assert_array_equal(batch[0][n], images[i])
  np.testing.assert_array_equal(batch[1], pick)


@pytest.mark.parametrize('size', [2 * td._MAX_UNROLL, td._MAX_UNROLL + 3])
def test_large_static_batches_decode_in_unrolled_chunks_or_a_loop(size):
  """A multiple of the unroll size decodes as a loop over unrolled chunks, any other
  size as a loop over images; both give every image in its place."""
  records, images = batch_records()
  picks = [i % 2 * 2 for i in range(size)]    # PNG images 0 and 2, alternating
  features = SCHEMA.keys_to_features()

  def build():
    decoder = td.TFExampleDecoder(features, {'image': td.Image(shape=[6, 8, 3])})
    return decoder.decode_batch(tf.constant([records[i] for i in picks]), ['image'])[0]
  batch = lib.evaluate('graph', build)
  np.testing.assert_array_equal(batch, np.stack([images[i] for i in picks]))


def test_decode_batch_of_varlen_tensor_checks_each_example_fills_the_shape():
  short = SCHEMA.encode_example({MATRIX: [1.0] * 5})
  full = SCHEMA.encode_example({MATRIX: [1.0] * 6})
  decoder = td.TFExampleDecoder(SCHEMA.keys_to_features(), {'m': td.Tensor(MATRIX, shape=[2, 3])})
  with pytest.raises(tf.errors.InvalidArgumentError, match='exactly shape'):
    decoder.decode_batch([full, short])


@pytest.mark.parametrize('handler,why', [
    (td.Image(), 'fixed shape'),
    (td.Image(shape=[6, 8, 3], repeated=True), 'repeated'),
    (td.BoundingBox(BBOX_KEYS), 'per-example shapes can differ'),
    (td.BackupHandler(td.Tensor(schema.BBOX_LABEL), td.Tensor(schema.LEGACY_BBOX_LABEL)),
     'per-example shapes can differ'),
    (td.Tensor(MATRIX), 'VarLenFeature without a fixed shape'),
    (td.Tensor(MATRIX, shape_keys=[schema.HEIGHT, schema.WIDTH]), 'shape_keys'),
    (td.SparseTensor(IDS, VALUES), 'fixed `shape`'),
    (td.ItemHandlerCallback([schema.LABEL], lambda t: t[schema.LABEL]), 'no batch_func'),
])
def test_decode_batch_refuses_items_that_cannot_be_batched(handler, why):
  decoder = td.TFExampleDecoder(SCHEMA.keys_to_features(), {'thing': handler})
  with pytest.raises(ValueError, match=f"item 'thing'.*{why}.*decoder.decode"):
    decoder.decode_batch(tf.constant(batch_records()[0]))


def test_decode_batch_needs_a_vector_of_records():
  decoder = td.TFExampleDecoder(SCHEMA.keys_to_features(), {'label': td.Tensor(schema.LABEL)})
  with pytest.raises(ValueError, match='1-D batch'):
    decoder.decode_batch(tf.constant(batch_records()[0][0]))


# --- decode_each ---------------------------------------------------------------------------

def varying_records():
  """Four examples whose items differ in shape: JPEG and PNG images of four sizes, lists
  of 0-3 values (the first example has none)."""
  records = []
  for i in range(4):
    image = lib.pixels(5 + i, 8 - i, 3, seed=20 + i)
    data, fmt = (lib.encode(image, 'PNG'), 'png') if i % 2 else (lib.encode(image, 'JPEG'),
                                                                 'jpeg')
    records.append(SCHEMA.encode_example({
        schema.ENCODED: data, schema.FORMAT: fmt, schema.LABEL: i,
        MATRIX: [float(i)] * (2 * i), IDS: list(range(i)), VALUES: [i + 0.5] * i,
        WORDS: ['cat', 'owl', 'dog'][:i]}))
  return records


@pytest.mark.parametrize('mode', lib.MODES)
def test_decode_each_equals_per_example_decode(mode, vocabulary):
  """One parse of the batch, then each example's items as `decode` gives them, whatever
  their shapes (VarLenFeatures sliced per example, empty ones included)."""
  records = varying_records()

  def build():
    handlers = {
        'image': td.Image(),
        'label': td.Tensor(schema.LABEL),
        'matrix': td.Tensor(MATRIX),
        'sparse': td.SparseTensor(IDS, VALUES),
        'word': td.LookupTensor(WORDS, vocabulary_table(vocabulary)),
        'area': td.ItemHandlerCallback([schema.HEIGHT, schema.WIDTH],
                                       lambda t: t[schema.HEIGHT] * t[schema.WIDTH]),
    }
    decoder = td.TFExampleDecoder(SCHEMA.keys_to_features(), handlers)
    each = decoder.decode_each(tf.constant(records))
    single = [decoder.decode(tf.constant(r)) for r in records]
    dense = lambda items: [tf.sparse.to_dense(t) if isinstance(t, tf.SparseTensor) else t  # noqa: E731
                           for t in items]
    shapes = [[t.dense_shape for t in items if isinstance(t, tf.SparseTensor)]
              for items in each + single]
    return [dense(items) for items in each], [dense(items) for items in single], shapes
  each, single, shapes = lib.evaluate(mode, build)
  assert len(each) == len(records)
  for got, want in zip(each, single):
    for g, w in zip(got, want, strict=True):
      np.testing.assert_array_equal(g, w)
  np.testing.assert_array_equal(shapes[:4], shapes[4:])
  assert [e[0].shape[:2] for e in each] == [(5 + i, 8 - i) for i in range(4)]
  assert [len(e[2]) for e in each] == [0, 2, 4, 6]


def test_decode_each_needs_a_static_batch_and_features_it_can_slice():
  decoder = td.TFExampleDecoder(SCHEMA.keys_to_features(), {'label': td.Tensor(schema.LABEL)})
  traced = tf.function(lambda r: decoder.decode_each(r),
                       input_signature=[tf.TensorSpec([None], tf.string)])
  with pytest.raises(ValueError, match='static size'):
    traced.get_concrete_function()
  features = dict(SCHEMA.keys_to_features())
  features['seq'] = tf.io.FixedLenSequenceFeature([], tf.float32, allow_missing=True)
  decoder = td.TFExampleDecoder(features, {'label': td.Tensor(schema.LABEL)})
  with pytest.raises(ValueError, match="feature 'seq' is a FixedLenSequenceFeature"):
    decoder.decode_each(tf.constant(varying_records()))


def test_item_bytes_is_known_only_for_static_shapes_and_dtypes():
  """What a provider sizes its decode blocks by: fixed-shape images and fixed-length
  numeric features have a size before decoding; anything that can vary has none."""
  features = {'image/encoded': tf.io.FixedLenFeature([], tf.string),
              'image/format': tf.io.FixedLenFeature([], tf.string),
              'label': tf.io.FixedLenFeature([], tf.int64),
              'box': tf.io.FixedLenFeature([4], tf.float32),
              'name': tf.io.FixedLenFeature([], tf.string),
              'list': tf.io.VarLenFeature(tf.int64)}
  features.update({f'image/object/bbox/{k}': tf.io.VarLenFeature(tf.float32)
                   for k in ('xmin', 'ymin', 'xmax', 'ymax')})
  decoder = td.TFExampleDecoder(features, {
      'image': td.Image(shape=[28, 28, 1], channels=1),
      'floats': td.Image(shape=[2, 3, 3], dtype=tf.float32),
      'free': td.Image(),
      'images': td.Image(shape=[2, 2, 3], repeated=True),
      'label': td.Tensor('label'),
      'box': td.Tensor('box', shape=[2, 2]),
      'name': td.Tensor('name'),
      'list': td.Tensor('list'),
      'shaped': td.Tensor('box', shape_keys='label'),
      'bbox': td.BoundingBox(['xmin', 'ymin', 'xmax', 'ymax'], 'image/object/bbox/')})
  assert decoder.item_bytes(['image', 'label']) == 28 * 28 + 8
  assert decoder.item_bytes(['floats', 'box']) == 2 * 3 * 3 * 4 + 4 * 4
  for varying in ('free', 'images', 'name', 'list', 'shaped', 'bbox'):
    assert decoder.item_bytes(['image', varying]) is None, varying
  with pytest.raises(ValueError, match="unknown item 'nope'"):
    decoder.item_bytes(['nope'])
