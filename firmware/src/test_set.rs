//! The 360 test digits of `data/digits` (`test.txt`'s order), baked in by `build.rs`.
//!
//! They live in the `.testset` section (`measure.x`), outside `.rodata`, so that the flash
//! numbers the firmware reports are the firmware's own and not the test data's 23 KB.

/// The images, 64 pixels (0..=16) each, row-major.
#[unsafe(link_section = ".testset")] // `.testset` is an ordinary read-only section in FLASH
static IMAGES: [u8; 360 * 64] = *include_bytes!(concat!(env!("OUT_DIR"), "/test_images.bin"));

/// The labels, one byte (0..=9) per image.
#[unsafe(link_section = ".testset")]
static LABELS: [u8; 360] = *include_bytes!(concat!(env!("OUT_DIR"), "/test_labels.bin"));

/// The test set as (pixels, label) pairs.
pub fn samples() -> impl Iterator<Item = (&'static [u8; 64], u8)> {
    IMAGES.as_chunks::<64>().0.iter().zip(LABELS.iter().copied())
}
