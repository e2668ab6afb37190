"""tools/inspect.py: prints sizes, class counts, image sizes; draws a contact sheet and a chart."""
import re

import numpy as np
import pytest
from PIL import Image

from descriptors import inspection
from descriptors import schema

LABEL_NAMES = ('red', 'green', 'blue')
COLORS = {0: (200, 30, 30), 1: (30, 200, 30), 2: (30, 30, 200)}
# Train: five red, three green, one blue, in this order; sizes vary per example.
TRAIN_LABELS = [0, 1, 0, 2, 0, 1, 0, 1, 0]
SIZES = [(10, 14), (20, 8), (12, 12), (9, 30), (16, 16), (11, 13), (25, 10), (14, 9), (8, 8)]


def solid(label, size):
  return np.tile(np.array(COLORS[label], np.uint8), size + (1,))


@pytest.fixture(scope='module')
def toy_dir(tmp_path_factory, write_dataset):
  path = tmp_path_factory.mktemp('toy')
  write_dataset(path, 'toy', {
      'train': [(solid(label, size), label) for label, size in zip(TRAIN_LABELS, SIZES)],
      'validation': [(solid(2, (8, 8)), 2), (solid(0, (8, 8)), 0)],
  }, label_names=LABEL_NAMES, num_shards=1)
  return path


@pytest.fixture(scope='module')
def toy_run(toy_dir, tmp_path_factory, load_tool):
  """Runs the tool once on toy's train split; returns (exit code, stdout, output dir)."""
  import contextlib
  import io
  out_dir = tmp_path_factory.mktemp('look')
  stdout = io.StringIO()
  with contextlib.redirect_stdout(stdout):
    code = load_tool('inspect').main([
        '--dataset_name', 'toy', '--dataset_dir', str(toy_dir), '--split', 'train',
        '--num_examples', '9', '--output_dir', str(out_dir)])
  return code, stdout.getvalue(), out_dir


def bar_lengths(chart):
  """Lengths of the bars in a chart, top to bottom: runs of BAR_COLOR pixels per row band."""
  pixels = np.asarray(chart.convert('RGB'))
  per_row = (pixels == inspection.BAR_COLOR).all(axis=-1).sum(axis=1)
  lengths, previous = [], 0
  for count in per_row:
    if count and not previous:
      lengths.append(int(count))
    previous = count
  return lengths


def test_prints_split_sizes_class_counts_and_image_sizes(toy_run):
  code, out, _ = toy_run
  assert code == 0, out
  assert 'splits: train 9, validation 2' in out
  assert 'split train: 9 examples read, 3 classes present' in out
  heights, widths = zip(*SIZES)
  assert f'image height {min(heights)}..{max(heights)}, width {min(widths)}..{max(widths)}' in out
  counts = {m.group(2): int(m.group(3))
            for m in re.finditer(r'^\s+(\d+)\s+(\w+)\s+(\d+)\s+[\d.]+%$', out, re.M)}
  assert counts == {name: TRAIN_LABELS.count(i) for i, name in enumerate(LABEL_NAMES)}


def test_contact_sheet_shows_each_image_with_its_label(toy_run):
  _, _, out_dir = toy_run
  sheet = Image.open(out_dir / 'toy_train_examples.png').convert('RGB')
  # 9 images: a 3 x 3 grid of 96-pixel cells, a 14-pixel label strip under each, 4-pixel margins.
  assert sheet.size == (3 * (96 + 4) + 4, 3 * (96 + 14 + 4) + 4)
  pixels = np.asarray(sheet)
  assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 5
  for i, label in enumerate(TRAIN_LABELS):
    left, top = 4 + (i % 3) * 100, 4 + (i // 3) * 114
    assert tuple(pixels[top + 48, left + 48]) == COLORS[label], f'cell {i}'
    strip = pixels[top + 96:top + 110, left:left + 96]
    assert len(np.unique(strip.reshape(-1, 3), axis=0)) > 1, f'no label text under cell {i}'
  # The name under a red image and under a green one differ.
  assert not np.array_equal(pixels[100:114, 4:100], pixels[100:114, 104:200])


def test_bar_chart_bars_are_proportional_to_class_counts(toy_run):
  _, _, out_dir = toy_run
  chart = Image.open(out_dir / 'toy_train_classes.png')
  counts = [TRAIN_LABELS.count(i) for i in range(3)]          # 5, 3, 1
  expected = [round(inspection.BAR_WIDTH * c / max(counts)) for c in counts]
  assert bar_lengths(chart) == expected
  assert expected == [300, 180, 60]


def test_boxes_are_drawn_where_the_dataset_has_them(tmp_path, load_tool, write_dataset,
                                                    make_example, capsys):
  gray = np.full((40, 60, 3), 128, np.uint8)
  boxes = {schema.BBOX_YMIN: [0.25], schema.BBOX_XMIN: [0.5], schema.BBOX_YMAX: [0.75],
           schema.BBOX_XMAX: [1.0], schema.BBOX_LABEL: [2]}
  write_dataset(tmp_path / 'imagenet', 'imagenet', {'train': [
      make_example(gray, 2, image_format='jpeg', record_schema=schema.IMAGENET, **boxes)]},
      label_names=('cat', 'dog'), label_offset=1, image_format='jpeg',
      shard_template='{split}-{index:05d}-of-{num:05d}')

  code = load_tool('inspect').main([
      '--dataset_name', 'imagenet', '--dataset_dir', str(tmp_path / 'imagenet'), '--split',
      'train', '--num_examples', '1', '--output_dir', str(tmp_path)])
  out = capsys.readouterr().out
  assert code == 0, out
  assert re.search(r'^\s+2\s+dog\s+1\s', out, re.M)
  assert re.search(r'^\s+1\s+cat\s+0\s', out, re.M)
  pixels = np.asarray(Image.open(tmp_path / 'imagenet_train_examples.png').convert('RGB'))
  assert pixels.shape == (4 + 96 + 14 + 4, 4 + 96 + 4, 3)
  # The 60 x 40 image fills the cell's width (96 x 64, 16 pixels down); the box covers
  # its right half, rows 16..48 of it.
  left, top = 4, 4 + 16
  red = (pixels == inspection.BOX_COLOR).all(axis=-1)
  assert red[top + 16:top + 48, left + 48].all()          # left edge of the box
  assert red[top + 16, left + 48:left + 95].all()         # top edge
  assert not red[top + 32, left + 10]                     # outside the box: the image
  assert abs(int(pixels[top + 32, left + 10, 0]) - 128) < 8
  assert not red[top + 32, left + 72]                     # inside the box: the image


def test_unknown_dataset_is_an_error_listing_the_known_ones(tmp_path, load_tool, capsys):
  code = load_tool('inspect').main(['--dataset_name', 'flower', '--dataset_dir', str(tmp_path)])
  assert code == 2
  assert 'flowers' in capsys.readouterr().err


def test_grayscale_images_fill_their_cell():
  digit = np.zeros((28, 28, 1), np.uint8)
  digit[4:24, 12:16] = 255
  sheet = inspection.contact_sheet([inspection.Example(image=digit, label=1)],
                                   labels_to_names={1: 'one'}, cell_size=56)
  pixels = np.asarray(sheet)
  assert sheet.size == (4 + 56 + 4, 4 + 56 + 14 + 4)
  # Enlarged 2x with nearest-neighbour sampling: the stroke stays pure white, the rest black.
  cell = pixels[4:60, 4:60]
  np.testing.assert_array_equal(cell[:, :, 0], np.kron(digit[..., 0], np.ones((2, 2), np.uint8)))


def test_max_records_counts_only_the_first_records(toy_dir, tmp_path, load_tool, capsys):
  code = load_tool('inspect').main([
      '--dataset_name', 'toy', '--dataset_dir', str(toy_dir), '--split', 'train',
      '--num_examples', '2', '--max_records', '4', '--output_dir', str(tmp_path)])
  out = capsys.readouterr().out
  assert code == 0, out
  assert 'split train: 4 examples read' in out
  counts = {m.group(1): int(m.group(2))
            for m in re.finditer(r'^\s+\d+\s+(\w+)\s+(\d+)\s+[\d.]+%$', out, re.M)}
  assert counts == {name: TRAIN_LABELS[:4].count(i) for i, name in enumerate(LABEL_NAMES)}
  # Two images: a 2 x 1 grid.
  assert Image.open(tmp_path / 'toy_train_examples.png').size == (2 * (96 + 4) + 4,
                                                                  96 + 14 + 4 + 4)
