"""Shows what a converted split holds: sizes, class counts, image sizes, a contact sheet, a chart.

    python tools/inspect.py --dataset_name flowers --dataset_dir /data/flowers --split train \
        --num_examples 25 --output_dir /tmp/look

Prints the sizes of every split, the examples per class (by label name) and the
range of image heights and widths, and writes `<name>_<split>_examples.png`
(the first --num_examples images with their label names, and their bounding
boxes where the dataset has them) and `<name>_<split>_classes.png` (a bar chart
of the class counts) into --output_dir.
"""
import argparse
import os
import sys

# A checkout's tools run without installing: the repository root takes the place
# of tools/ on the path (where tools/inspect.py would shadow the standard library).
_TOOLS = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or os.curdir) == _TOOLS:
  sys.path[0] = os.path.dirname(_TOOLS)
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')


def build_parser():
  p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  p.add_argument('--dataset_name', required=True,
                 help='A registered dataset (mnist, cifar10, flowers, imagenet) or a folder '
                      "dataset's name.")
  p.add_argument('--dataset_dir', required=True, help='The folder tools/convert.py wrote.')
  p.add_argument('--split', '--dataset_split_name', dest='split', default='train',
                 help='The split to look at.')
  p.add_argument('--num_examples', type=int, default=16,
                 help='Images on the contact sheet (the first ones of the split).')
  p.add_argument('--max_records', type=int, default=None,
                 help='Count only the first this many records (default: the whole split).')
  p.add_argument('--output_dir', default='.', help='Where the two PNG files are written.')
  p.add_argument('--cell_size', type=int, default=96,
                 help='Contact sheet: each image is scaled to fit this many pixels square.')
  return p


def format_class_counts(class_counts, labels_to_names):
  """A table: label, name, count, share; every named class, counted or not."""
  from descriptors import inspection
  labels = sorted(set(class_counts) | set(labels_to_names or {}))
  total = sum(class_counts.values()) or 1
  names = {label: inspection.label_text(label, labels_to_names) for label in labels}
  name_width = max([len(n) for n in names.values()] + [4])
  lines = [f'  {"label":>5}  {"name":<{name_width}}  {"count":>8}  share']
  for label in labels:
    count = class_counts.get(label, 0)
    lines.append(f'  {label:>5}  {names[label]:<{name_width}}  {count:>8}  '
                 f'{100 * count / total:5.1f}%')
  return '\n'.join(lines)


def save_png(image, path):
  """Writes a PIL image as PNG to a local or `gs://` path."""
  import io
  import tensorflow as tf
  buffer = io.BytesIO()
  image.save(buffer, format='PNG')
  with tf.io.gfile.GFile(path, 'wb') as f:
    f.write(buffer.getvalue())


def main(argv=None):
  args = build_parser().parse_args(argv)
  if args.num_examples < 0:
    raise SystemExit(f'--num_examples must be 0 or more, got {args.num_examples}')
  if args.max_records is not None and args.max_records < 1:
    raise SystemExit(f'--max_records must be at least 1, got {args.max_records}')
  if args.cell_size < 8:
    raise SystemExit(f'--cell_size must be at least 8, got {args.cell_size}')
  import tensorflow as tf
  import descriptors
  from descriptors import errors, inspection
  try:
    dataset = descriptors.get_split(args.dataset_name, args.split, args.dataset_dir)
  except (errors.DescriptorError, errors.ManifestError) as e:
    print(f'inspect: {e}', file=sys.stderr)
    return 2

  sizes, where = inspection.split_sizes(dataset)
  print(f'{args.dataset_name} in {args.dataset_dir}')
  print('splits: ' + ', '.join(f'{name} {n}' for name, n in sizes.items()) + f'  ({where})')
  stats = inspection.split_statistics(dataset, max_records=args.max_records)
  print(f'split {args.split}: {stats.num_examples} examples read, {len(stats.class_counts)} '
        f'classes present')
  if (args.max_records is None and dataset.num_samples is not None and
      dataset.num_samples != stats.num_examples):
    print(f'WARNING: the descriptor says {dataset.num_samples} examples; run tools/verify.py')
  print(f'image height {stats.min_height}..{stats.max_height}, '
        f'width {stats.min_width}..{stats.max_width}')
  print('class counts:')
  print(format_class_counts(stats.class_counts, dataset.labels_to_names))

  tf.io.gfile.makedirs(args.output_dir)
  prefix = os.path.join(args.output_dir, f'{args.dataset_name}_{args.split}')
  examples = inspection.take_examples(dataset, num_examples=args.num_examples)
  sheet = inspection.contact_sheet(examples, labels_to_names=dataset.labels_to_names,
                                   cell_size=args.cell_size)
  save_png(sheet, f'{prefix}_examples.png')
  chart = inspection.class_bar_chart(
      stats.class_counts, labels_to_names=dataset.labels_to_names,
      title=f'{args.dataset_name} {args.split}: {stats.num_examples} examples')
  save_png(chart, f'{prefix}_classes.png')
  print(f'wrote {prefix}_examples.png ({len(examples)} examples) and {prefix}_classes.png')
  return 0


if __name__ == '__main__':
  sys.exit(main())
