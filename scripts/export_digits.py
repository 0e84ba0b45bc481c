"""Exports scikit-learn's bundled copy of the UCI optical-digits set to data/digits/ as raw bytes,
so the Rust side can read it without Python.

Run from the repository root:

    .venv/bin/python scripts/export_digits.py

Writes (all deterministic; re-running with the same scikit-learn gives byte-identical files):
    data/digits/images.bin   1797 * 64 bytes, u8 pixel values 0..=16, image-major, each image the
                             8x8 grid row-major (exactly sklearn's `digits.data` order)
    data/digits/labels.bin   1797 bytes, u8 class 0..=9, same image order
    data/digits/train.txt    1437 indices into the above, one per line, '#' lines are comments
    data/digits/test.txt     360 indices, same format
    data/digits/README.md    formats, sizes, class counts, sha256s
    data/digits/LICENSE.md   CC BY 4.0 attribution

The split is `train_test_split(np.arange(1797), test_size=0.2, random_state=0)`, in the order
that call returns the indices.
"""

import hashlib
from pathlib import Path

import numpy as np
import sklearn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

N = 1797
OUT = Path(__file__).resolve().parent.parent / "data" / "digits"
SPLIT_CALL = "train_test_split(np.arange(1797), test_size=0.2, random_state=0)"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_indices(path: Path, indices: np.ndarray) -> None:
    lines = [f"# {SPLIT_CALL}, scikit-learn {sklearn.__version__}"]
    lines += [str(int(i)) for i in indices]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")


def counts(labels: np.ndarray) -> list[int]:
    return np.bincount(labels, minlength=10).tolist()


def main() -> None:
    digits = load_digits()
    data = np.asarray(digits.data)
    target = np.asarray(digits.target)

    assert data.shape == (N, 64), data.shape
    assert target.shape == (N,), target.shape
    # pixels are stored as float64 in sklearn; they must be exact integers 0..=16
    assert np.all(data == np.round(data)), "non-integer pixel"
    assert data.min() >= 0 and data.max() <= 16, (data.min(), data.max())
    assert np.array_equal(np.asarray(digits.images).reshape(N, 64), data), "images/data mismatch"
    assert target.min() >= 0 and target.max() <= 9, (target.min(), target.max())
    assert set(np.unique(target).tolist()) == set(range(10))

    images_u8 = data.astype(np.uint8)
    labels_u8 = target.astype(np.uint8)
    assert np.array_equal(images_u8.astype(data.dtype), data)
    assert np.array_equal(labels_u8.astype(target.dtype), target)

    train, test = train_test_split(np.arange(N), test_size=0.2, random_state=0)
    assert len(train) == 1437 and len(test) == 360, (len(train), len(test))
    assert len(set(train.tolist())) == 1437 and len(set(test.tolist())) == 360, "duplicate index"
    assert not set(train.tolist()) & set(test.tolist()), "train/test overlap"
    assert set(train.tolist()) | set(test.tolist()) == set(range(N)), "split does not cover all"

    OUT.mkdir(parents=True, exist_ok=True)
    images_path = OUT / "images.bin"
    labels_path = OUT / "labels.bin"
    images_path.write_bytes(np.ascontiguousarray(images_u8).tobytes(order="C"))
    labels_path.write_bytes(labels_u8.tobytes())
    assert images_path.stat().st_size == N * 64
    assert labels_path.stat().st_size == N
    write_indices(OUT / "train.txt", train)
    write_indices(OUT / "test.txt", test)

    # read back what was written
    back = np.frombuffer(images_path.read_bytes(), dtype=np.uint8).reshape(N, 64)
    assert np.array_equal(back, images_u8)
    assert np.array_equal(np.frombuffer(labels_path.read_bytes(), dtype=np.uint8), labels_u8)

    all_counts = counts(labels_u8)
    train_counts = counts(labels_u8[train])
    test_counts = counts(labels_u8[test])
    assert [a + b for a, b in zip(train_counts, test_counts)] == all_counts

    (OUT / "LICENSE.md").write_text(LICENSE, encoding="utf-8", newline="\n")
    (OUT / "README.md").write_text(
        readme(sha256(images_path), sha256(labels_path), all_counts, train_counts, test_counts),
        encoding="utf-8",
        newline="\n",
    )

    print(f"wrote {OUT}")
    print(f"images.bin sha256 {sha256(images_path)}")
    print(f"labels.bin sha256 {sha256(labels_path)}")
    print(f"class counts all   {all_counts}")
    print(f"class counts train {train_counts}")
    print(f"class counts test  {test_counts}")


LICENSE = """\
# Licence and attribution

The files `images.bin` and `labels.bin` in this directory are derived from the
**Optical Recognition of Handwritten Digits** data set by E. Alpaydin and C. Kaynak (1998),
published in the UCI Machine Learning Repository, DOI
[10.24432/C50P49](https://doi.org/10.24432/C50P49).

The data set is licensed under the
[Creative Commons Attribution 4.0 International (CC BY 4.0)](https://creativecommons.org/licenses/by/4.0/)
licence. This directory's derived copy is distributed under the same licence.

## Source of this copy

The copy here is the 8x8, 0..16 version bundled with scikit-learn
(`sklearn.datasets.load_digits()`). scikit-learn's documentation describes it as
a copy of the test set of the UCI data (1797 images; 32x32 bitmaps divided into
non-overlapping 4x4 blocks, each pixel the number of set bits in its block).

## Changes

Format only: the pixel values and labels were written unchanged, in
scikit-learn's order, as raw unsigned bytes (`images.bin`, `labels.bin`) by
`scripts/export_digits.py`. No images were added, removed, reordered or
modified. The train/test index lists (`train.txt`, `test.txt`) are a split
computed by scikit-learn's `train_test_split`; they are not part of the
original data set.

## Citation

> Alpaydin, E. & Kaynak, C. (1998). Optical Recognition of Handwritten Digits
> [Dataset]. UCI Machine Learning Repository. https://doi.org/10.24432/C50P49.

```bibtex
@misc{alpaydin1998optical,
  author       = {Alpaydin, E. and Kaynak, C.},
  title        = {{Optical Recognition of Handwritten Digits}},
  year         = {1998},
  howpublished = {UCI Machine Learning Repository},
  note         = {{DOI}: https://doi.org/10.24432/C50P49}
}
```
"""


def readme(images_sha: str, labels_sha: str, all_c, train_c, test_c) -> str:
    def row(name, c):
        return f"| {name} | " + " | ".join(str(x) for x in c) + f" | {sum(c)} |"

    header = "| split | " + " | ".join(str(d) for d in range(10)) + " | total |"
    sep = "|---|" + "---:|" * 11
    table = "\n".join([header, sep, row("train", train_c), row("test", test_c), row("all", all_c)])
    return f"""\
# digits: UCI optical digits, 8x8 (scikit-learn copy)

1797 handwritten digit images, 8x8 pixels, pixel values 0..=16 (integers), 10 classes.
This is `sklearn.datasets.load_digits()` (scikit-learn {sklearn.__version__}) written as raw
bytes. Licence and citation: [LICENSE.md](LICENSE.md) (CC BY 4.0, Alpaydin & Kaynak 1998).

## Files

| file | size | content |
|---|---:|---|
| `images.bin` | 115008 bytes (1797 x 64) | pixels, `u8`, values 0..=16 |
| `labels.bin` | 1797 bytes | labels, `u8`, values 0..=9 |
| `train.txt` | 1437 indices | training indices |
| `test.txt` | 360 indices | test indices |
| `keras_baseline.json` | | Keras reference accuracies/timings (`scripts/keras_digits_baseline.py`) |

### `images.bin`

No header. 1797 images back to back, 64 bytes each, in scikit-learn's order.
Within an image, pixels are row-major over the 8x8 grid (the order of
`digits.data[i]`, i.e. `digits.images[i].reshape(64)`):

    byte offset of pixel (row r, column c) of image i = 64 * i + 8 * r + c

Each byte is an unsigned integer 0..=16 (number of set bits in a 4x4 block of the
original 32x32 bitmap); 0 is background. Divide by 16 for floats in [0, 1].

### `labels.bin`

No header. 1797 bytes; byte `i` is the class (0..=9) of image `i`.

### `train.txt`, `test.txt`

UTF-8 text, `\\n` line endings. Lines starting with `#` are comments; every other
line is one decimal index (0..=1796) into `images.bin`/`labels.bin`. Indices are in
the order returned by

    {SPLIT_CALL}

(scikit-learn's `sklearn.model_selection.train_test_split`): the first array is
`train.txt` (1437 indices), the second `test.txt` (360). The two are disjoint and
together cover all 1797 images. The split is not stratified.

## Class counts

{table}

## Checksums (sha256)

    {images_sha}  images.bin
    {labels_sha}  labels.bin

## How it was produced

From the repository root, with the Python environment of `scripts/requirements.txt`:

    .venv/bin/python scripts/export_digits.py

The script asserts the shapes, value ranges and the split (sizes, no overlap, full
cover) and is deterministic: re-running it gives byte-identical files.
"""


if __name__ == "__main__":
    main()
