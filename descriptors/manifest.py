"""The manifest: what a conversion wrote, written last by the converter, trusted by descriptors.

    manifest = Manifest.from_json(text)
    manifest.splits['train'].num_examples      # 6000
    [s.file for s in manifest.splits['train'].shards]

File format (`<name>_manifest.json`)::

    {"name": "mnist", "schema_version": 1, "slimdata_version": "0.1.0",
     "image_format": "png", "label_offset": 0, "label_names": ["zero", ...],
     "seed": 0, "source": {"files": {"train-images-idx3-ubyte.gz": "<sha256>", ...}},
     "options": {...},
     "splits": {"train": {"num_examples": 6000, "skipped": [{"source": ..., "reason": ...}],
                          "shards": [{"file": "mnist_train.tfrecord", "num_examples": 6000,
                                      "sha256": "...", "bytes": 1234}]}}}

Shard file names are relative to the dataset directory.
"""
import dataclasses
import json

from descriptors import schema


class ManifestError(ValueError):
  """A manifest that cannot be read or that disagrees with the files beside it."""


@dataclasses.dataclass(frozen=True)
class Shard:
  file: str
  num_examples: int
  sha256: str
  bytes: int = 0


@dataclasses.dataclass(frozen=True)
class Split:
  shards: tuple
  skipped: tuple = ()

  @property
  def num_examples(self):
    return sum(s.num_examples for s in self.shards)


@dataclasses.dataclass(frozen=True)
class Manifest:
  name: str
  splits: dict                  # split name -> Split
  label_names: tuple = ()
  label_offset: int = 0
  image_format: str = 'png'
  seed: int = 0
  source: dict = dataclasses.field(default_factory=dict)
  options: dict = dataclasses.field(default_factory=dict)
  schema_version: int = schema.SCHEMA_VERSION
  slimdata_version: str = ''

  @property
  def labels_to_names(self):
    return {i + self.label_offset: n for i, n in enumerate(self.label_names)}

  def to_json(self):
    d = dataclasses.asdict(self)
    d['splits'] = {
        name: {'num_examples': split.num_examples,
               'shards': [dataclasses.asdict(s) for s in split.shards],
               'skipped': list(split.skipped)}
        for name, split in sorted(self.splits.items())}
    d['label_names'] = list(self.label_names)
    return json.dumps(d, indent=1, sort_keys=True) + '\n'

  @classmethod
  def from_json(cls, text, filename='manifest'):
    try:
      d = json.loads(text)
      version = d.get('schema_version', 0)
      if version > schema.SCHEMA_VERSION:
        raise ManifestError(
            f'{filename}: schema version {version} is newer than this slimdata reads '
            f'({schema.SCHEMA_VERSION}); upgrade slimdata')
      splits = {}
      for name, s in d['splits'].items():
        shards = tuple(Shard(**shard) for shard in s['shards'])
        split = Split(shards=shards, skipped=tuple(s.get('skipped', ())))
        if 'num_examples' in s and s['num_examples'] != split.num_examples:
          raise ManifestError(
              f'{filename}: split {name!r} says {s["num_examples"]} examples but its '
              f'shards add up to {split.num_examples}')
        splits[name] = split
      fields = {f.name for f in dataclasses.fields(cls)}
      rest = {k: v for k, v in d.items() if k in fields and k != 'splits'}
      rest['label_names'] = tuple(rest.get('label_names', ()))
      return cls(splits=splits, **rest)
    except ManifestError:
      raise
    except (ValueError, KeyError, TypeError) as e:
      raise ManifestError(f'{filename}: not a valid slimdata manifest: {e!r}') from None
