//! Datasets for the examples and tests (feature `alloc`): the UCI optical-digits set.
//!
//! 1797 handwritten digits, 8×8 pixels with values 0..=16, 10 classes — the copy bundled with
//! scikit-learn — and its standard split
//! `train_test_split(np.arange(1797), test_size=0.2, random_state=0)` (1437 train, 360 test).
//! The bytes are compiled into the crate (115 KB, only linked into programs that call
//! [`Digits::bundled`]); `data/digits/README.md` documents the format and `LICENSE.md` the
//! licence: CC BY 4.0, E. Alpaydin and C. Kaynak (1998), UCI Machine Learning Repository.
//!
//! ```
//! use typed_nn::data::Digits;
//! use typed_nn::prelude::*;
//! let digits = Digits::bundled()?;
//! let (xs, labels): (Vec<Vector<64>>, Vec<usize>) = digits.train_vectors();
//! assert_eq!((xs.len(), labels.len()), (1437, 1437));
//! let (images, _): (Vec<Image<8, 8, 1>>, Vec<usize>) = digits.test_images();
//! assert_eq!(images.len(), 360);
//! assert!(xs.iter().flat_map(|x| x.iter()).all(|&p| (0.0..=1.0).contains(&p)));
//! # Ok::<(), typed_nn::data::DataError>(())
//! ```

use alloc::vec::Vec;
use core::fmt;

use crate::{Image, Tensor, Vector};

const IMAGES: &[u8] = include_bytes!("../data/digits/images.bin");
const LABELS: &[u8] = include_bytes!("../data/digits/labels.bin");
const TRAIN: &str = include_str!("../data/digits/train.txt");
const TEST: &str = include_str!("../data/digits/test.txt");

/// Pixels per image.
const PIXELS: usize = 64;

/// Why a dataset could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DataError {
    /// The image bytes are not a whole number of 64-byte images, or the labels do not match
    /// them one to one.
    WrongLength {
        /// Which file.
        file: &'static str,
        /// Bytes expected.
        expected: usize,
        /// Bytes found.
        found: usize,
    },
    /// A pixel is above 16.
    PixelOutOfRange {
        /// Image index.
        image: usize,
        /// The value found.
        value: u8,
    },
    /// A label is above 9.
    LabelOutOfRange {
        /// Sample index.
        index: usize,
        /// The value found.
        value: u8,
    },
    /// A line of a split file is not a valid sample index.
    BadIndex {
        /// Which file.
        file: &'static str,
        /// Line number, from 1.
        line: usize,
    },
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongLength { file, expected, found } => write!(f, "{file} has {found} bytes, expected {expected}"),
            Self::PixelOutOfRange { image, value } => {
                write!(f, "image {image} has pixel value {value}, expected 0..=16")
            }
            Self::LabelOutOfRange { index, value } => write!(f, "label {index} is {value}, expected 0..=9"),
            Self::BadIndex { file, line } => write!(f, "{file} line {line} is not a sample index"),
        }
    }
}

impl core::error::Error for DataError {}

/// The optical-digits set: images, labels and the standard train/test split.
#[derive(Clone, Debug, PartialEq)]
pub struct Digits {
    images: Vec<[u8; PIXELS]>,
    labels: Vec<u8>,
    train: Vec<usize>,
    test: Vec<usize>,
}

impl Digits {
    /// The copy compiled into the crate.
    ///
    /// # Errors
    /// Never in practice (the bundled files are valid); the checks of
    /// [`from_bytes`](Digits::from_bytes) still run.
    pub fn bundled() -> Result<Self, DataError> {
        Self::from_bytes(IMAGES, LABELS, TRAIN, TEST)
    }

    /// Parses the four files of `data/digits/` (see its README for the format).
    ///
    /// # Errors
    /// A [`DataError`] naming the file and position of the first problem.
    pub fn from_bytes(images: &[u8], labels: &[u8], train: &str, test: &str) -> Result<Self, DataError> {
        if !images.len().is_multiple_of(PIXELS) {
            let expected = images.len() / PIXELS * PIXELS;
            return Err(DataError::WrongLength { file: "images.bin", expected, found: images.len() });
        }
        let images: Vec<[u8; PIXELS]> = images.chunks_exact(PIXELS).filter_map(|c| c.try_into().ok()).collect();
        if labels.len() != images.len() {
            return Err(DataError::WrongLength { file: "labels.bin", expected: images.len(), found: labels.len() });
        }
        for (image, pixels) in images.iter().enumerate() {
            if let Some(&value) = pixels.iter().find(|&&p| p > 16) {
                return Err(DataError::PixelOutOfRange { image, value });
            }
        }
        if let Some((index, &value)) = labels.iter().enumerate().find(|(_, l)| **l > 9) {
            return Err(DataError::LabelOutOfRange { index, value });
        }
        let n = images.len();
        Ok(Self {
            images,
            labels: labels.to_vec(),
            train: indices("train.txt", train, n)?,
            test: indices("test.txt", test, n)?,
        })
    }

    /// Number of images (1797 for the bundled set).
    pub fn len(&self) -> usize {
        self.images.len()
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.images.is_empty()
    }

    /// Training samples as flat vectors (pixels / 16) and their labels.
    pub fn train_vectors(&self) -> (Vec<Vector<64>>, Vec<usize>) {
        self.samples(&self.train)
    }

    /// Test samples as flat vectors (pixels / 16) and their labels.
    pub fn test_vectors(&self) -> (Vec<Vector<64>>, Vec<usize>) {
        self.samples(&self.test)
    }

    /// Training samples as 8×8 single-channel images (pixels / 16) and their labels.
    pub fn train_images(&self) -> (Vec<Image<8, 8, 1>>, Vec<usize>) {
        self.samples(&self.train)
    }

    /// Test samples as 8×8 single-channel images (pixels / 16) and their labels.
    pub fn test_images(&self) -> (Vec<Image<8, 8, 1>>, Vec<usize>) {
        self.samples(&self.test)
    }

    /// Any 64-value tensor type (row-major pixels) for the given sample indices.
    fn samples<X: Tensor<Elem = f32>>(&self, which: &[usize]) -> (Vec<X>, Vec<usize>) {
        which
            .iter()
            .filter_map(|&i| {
                let (pixels, &label) = (self.images.get(i)?, self.labels.get(i)?);
                let mut x = X::default();
                for (d, &p) in x.as_mut_slice().iter_mut().zip(pixels) {
                    *d = f32::from(p) / 16.0;
                }
                Some((x, usize::from(label)))
            })
            .unzip()
    }
}

/// Parses a split file: one index per line, `#` comments.
fn indices(file: &'static str, text: &str, n: usize) -> Result<Vec<usize>, DataError> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|(i, l)| match l.trim().parse::<usize>() {
            Ok(index) if index < n => Ok(index),
            _ => Err(DataError::BadIndex { file, line: i + 1 }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_set_has_the_standard_split() {
        let d = Digits::bundled().unwrap();
        assert_eq!(d.len(), 1797);
        assert_eq!((d.train.len(), d.test.len()), (1437, 360));
        let mut all: Vec<usize> = d.train.iter().chain(&d.test).copied().collect();
        all.sort_unstable();
        assert!(all.iter().enumerate().all(|(i, &j)| i == j), "train and test partition the set");
        // Class counts of the test split, from data/digits/README.md (computed by scikit-learn).
        let mut counts = [0usize; 10];
        for &i in &d.test {
            counts[usize::from(d.labels[i])] += 1;
        }
        assert_eq!(counts, [27, 35, 36, 29, 30, 40, 44, 39, 39, 41]);
    }

    #[test]
    fn malformed_files_are_typed_errors() {
        let ok = [0u8; 128];
        assert_eq!(
            Digits::from_bytes(&ok[..100], &[0, 0], "", ""),
            Err(DataError::WrongLength { file: "images.bin", expected: 64, found: 100 })
        );
        assert_eq!(
            Digits::from_bytes(&ok, &[0], "", ""),
            Err(DataError::WrongLength { file: "labels.bin", expected: 2, found: 1 })
        );
        let mut bright = ok;
        bright[70] = 17;
        assert_eq!(
            Digits::from_bytes(&bright, &[0, 0], "", ""),
            Err(DataError::PixelOutOfRange { image: 1, value: 17 })
        );
        assert_eq!(Digits::from_bytes(&ok, &[0, 10], "", ""), Err(DataError::LabelOutOfRange { index: 1, value: 10 }));
        assert_eq!(
            Digits::from_bytes(&ok, &[0, 1], "# c\n0\n2\n", ""),
            Err(DataError::BadIndex { file: "train.txt", line: 3 })
        );
        assert_eq!(
            Digits::from_bytes(&ok, &[0, 1], "1\n", "x\n"),
            Err(DataError::BadIndex { file: "test.txt", line: 1 })
        );
    }
}
