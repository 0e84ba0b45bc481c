//! `summary()`: the model as a Keras-style table of layers, output shapes and parameter counts.
//!
//! The numbers are compile-time facts: output shapes come from the layers' `Out` types and the
//! counts from [`Params::PARAMS`](crate::Params::PARAMS), so the table is produced without running the model (and
//! without a heap: [`SummaryTable`] formats straight into any `core::fmt::Write`).

use core::fmt::{self, Display, Write};
use core::marker::PhantomData;

use crate::layer::Seal;
use crate::{Layer, Scalar, Tensor};

mod row {
    /// One row of the table: a layer's class name, output shape and parameter count. Public
    /// only because the hidden `Layer::summary_rows` hook names it; its module is private.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct SummaryRow {
        /// Class name as Keras prints it (`"Dense"`).
        pub class: &'static str,
        /// Output shape without the batch axis (`[26, 26, 32]`).
        pub output_shape: &'static [usize],
        /// Parameters, trainable and not (Keras' "Param #").
        pub params: usize,
    }
}
pub(crate) use row::SummaryRow;

/// Models whose first layer fixes the input type, so that [`Summary::summary`] needs no type
/// annotation: a `Dense<IN, ..>` takes `Vector<IN>`.
///
/// Convolutional models accept images of many sizes; give theirs explicitly with
/// [`Summary::summary_for`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not fix its input shape",
    label = "the first layer accepts inputs of several sizes",
    note = "name the input: `model.summary_for::<Image<28, 28, 1>>()`"
)]
pub trait InputShape {
    /// The input tensor type, e.g. `Vector<784>`.
    type Input: Tensor;
}

impl<const IN: usize, const OUT: usize, A, T: Scalar, B: crate::layer::BiasMode> InputShape
    for crate::Dense<IN, OUT, A, T, B>
{
    type Input = crate::Vector<IN, T>;
}

/// The table `summary()` prints, as a value: `Display` writes it, with no allocation, into
/// any `core::fmt::Write` (a `String`, a fixed buffer, a UART without `std`). It is what
/// [`Summary::summary_table`] returns; `summary()` prints one.
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// type Mlp = (Dense<784, 64, Relu>, Dense<64, 10, Softmax>);
/// let model = Mlp::default();
/// let table = model.summary_table::<Vector<784>>().to_string();
/// assert!(table.contains("│ dense (Dense)                   │ (None, 64)             │        50,240 │"));
/// assert!(table.contains(" Total params: 50,890 (198.79 KB)"));
/// ```
pub struct SummaryTable<'a, M, In> {
    model: &'a M,
    input: PhantomData<In>,
}

/// `summary()` and friends, for every layer and model.
pub trait Summary {
    /// The summary table for input type `In`, as a [`Display`] value.
    fn summary_table<In: Tensor>(&self) -> SummaryTable<'_, Self, In>
    where
        Self: Layer<In> + Sized,
    {
        let () = <Self as Layer<In>>::CHECK;
        SummaryTable { model: self, input: PhantomData }
    }

    /// Prints the summary table for input type `In` to standard output.
    ///
    /// ```
    /// use typed_nn::prelude::*;
    /// type Mlp = (Dense<784, 64, Relu>, Dense<64, 10, Softmax>);
    /// Mlp::default().summary_for::<Vector<784>>();
    /// ```
    #[cfg(feature = "std")]
    fn summary_for<In: Tensor>(&self)
    where
        Self: Layer<In> + Sized,
    {
        let () = <Self as Layer<In>>::CHECK;
        std::print!("{}", self.summary_table::<In>());
    }

    /// Prints the summary table of a model whose first layer fixes its input (a `Dense`).
    ///
    /// ```
    /// use typed_nn::prelude::*;
    /// type Mlp = (Dense<784, 64, Relu>, Dense<64, 10, Softmax>);
    /// Mlp::default().summary();
    /// ```
    #[cfg(feature = "std")]
    fn summary(&self)
    where
        Self: InputShape + Layer<<Self as InputShape>::Input> + Sized,
    {
        let () = <Self as Layer<<Self as InputShape>::Input>>::CHECK;
        self.summary_for::<<Self as InputShape>::Input>();
    }
}

impl<M> Summary for M {}

const WIDTHS: [usize; 3] = [33, 24, 15];

impl<M: Layer<In>, In: Tensor> Display for SummaryTable<'_, M, In> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let () = <M as Layer<In>>::CHECK;
        // A Keras model with an `Add` layer is a functional one (Keras prints its name).
        let mut functional = false;
        M::summary_rows(Seal, &mut |row| functional |= row.class == "Add");
        f.write_str(if functional { "Model: \"functional\"\n" } else { "Model: \"sequential\"\n" })?;
        border(f, '┏', '━', '┳', '┓')?;
        f.write_str("┃")?;
        cell(f, WIDTHS[0], "Layer (type)", false)?;
        f.write_str("┃")?;
        cell(f, WIDTHS[1], "Output Shape", false)?;
        f.write_str("┃")?;
        cell(f, WIDTHS[2], "Param #", true)?;
        f.write_str("┃\n")?;
        border(f, '┡', '━', '╇', '┩')?;

        let mut count = 0usize;
        M::summary_rows(Seal, &mut |_| count += 1);
        let mut result = Ok(());
        let mut index = 0usize;
        M::summary_rows(Seal, &mut |row| {
            if result.is_err() {
                return;
            }
            result = write_row::<M, In>(f, index, row).and_then(|()| {
                if index + 1 < count {
                    border(f, '├', '─', '┼', '┤')
                } else {
                    border(f, '└', '─', '┴', '┘')
                }
            });
            index += 1;
        });
        result?;

        // A custom layer whose `PARAMS` is wrong makes every count above wrong: say so
        // instead of printing totals.
        if let Err(e) = crate::params::check_count(self.model) {
            return writeln!(f, " Error: the parameter counts are wrong: {e}");
        }
        let bytes = |n: usize| Memory(n * <In::Elem as Scalar>::BYTES);
        let (total, trainable, state) = (M::PARAMS + M::STATE, M::PARAMS, M::STATE);
        writeln!(f, " Total params: {} ({})", Thousands(total), bytes(total))?;
        writeln!(f, " Trainable params: {} ({})", Thousands(trainable), bytes(trainable))?;
        writeln!(f, " Non-trainable params: {} ({})", Thousands(state), bytes(state))
    }
}

fn write_row<M: Layer<In>, In: Tensor>(f: &mut fmt::Formatter<'_>, index: usize, row: SummaryRow) -> fmt::Result {
    // Keras numbers repeated classes per model: dense, dense_1, dense_2, ...
    let mut earlier = 0usize;
    let mut seen = 0usize;
    M::summary_rows(Seal, &mut |other| {
        if seen < index && other.class == row.class {
            earlier += 1;
        }
        seen += 1;
    });
    let mut name = Cell::default();
    let _ = write!(name, "{}", SnakeCase(row.class));
    if earlier > 0 {
        let _ = write!(name, "_{earlier}");
    }
    let _ = write!(name, " ({})", row.class);
    let mut shape = Cell::default();
    let _ = write!(shape, "(None");
    for d in row.output_shape {
        let _ = write!(shape, ", {d}");
    }
    let _ = write!(shape, ")");
    let mut params = Cell::default();
    let _ = write!(params, "{}", Thousands(row.params));

    // Text longer than its column wraps onto more lines, at spaces where it can, as Keras'
    // table (drawn by `rich`) does: `global_average_pooling2d` / `(GlobalAveragePooling2D)`.
    let texts = [name.as_str(), shape.as_str(), params.as_str()];
    let lines = texts.iter().zip(WIDTHS).map(|(t, w)| wrap(t, w.saturating_sub(2)).count()).max().unwrap_or(1);
    for line in 0..lines.max(1) {
        for (column, (text, width)) in texts.iter().zip(WIDTHS).enumerate() {
            let part = wrap(text, width.saturating_sub(2)).nth(line).unwrap_or("");
            f.write_str("│")?;
            cell(f, width, part, column == 2)?;
        }
        f.write_str("│\n")?;
    }
    Ok(())
}

/// `text` cut into lines of at most `width` characters: greedily at spaces, and inside a word
/// only when the word alone is longer than a line.
fn wrap(text: &str, width: usize) -> impl Iterator<Item = &str> {
    let width = width.max(1);
    let mut rest = text;
    core::iter::from_fn(move || {
        rest = rest.trim_start_matches(' ');
        if rest.is_empty() {
            return None;
        }
        // Byte index just past `width` characters (or the end).
        let limit = rest.char_indices().nth(width).map_or(rest.len(), |(i, _)| i);
        let cut = if limit == rest.len() {
            limit
        } else {
            // The last space that keeps the line within `width`; a word longer than a line
            // is broken at the limit.
            match rest.get(..=limit).and_then(|head| head.rfind(' ')) {
                Some(space) if space > 0 => space,
                _ => limit,
            }
        };
        let (line, tail) = rest.split_at_checked(cut)?;
        rest = tail;
        Some(line.trim_end_matches(' '))
    })
}

fn border(f: &mut fmt::Formatter<'_>, left: char, line: char, mid: char, right: char) -> fmt::Result {
    f.write_char(left)?;
    for (i, w) in WIDTHS.iter().enumerate() {
        for _ in 0..*w {
            f.write_char(line)?;
        }
        f.write_char(if i + 1 < WIDTHS.len() { mid } else { right })?;
    }
    f.write_char('\n')
}

/// One padded cell: a space on each side, text left- or right-aligned.
fn cell(f: &mut fmt::Formatter<'_>, width: usize, text: &str, right: bool) -> fmt::Result {
    let inner = width.saturating_sub(2);
    if right { write!(f, " {text:>inner$} ") } else { write!(f, " {text:<inner$} ") }
}

/// A fixed buffer for one cell's text (no heap); longer text is cut.
struct Cell {
    buf: [u8; 96],
    len: usize,
}

impl Default for Cell {
    fn default() -> Self {
        Self { buf: [0; 96], len: 0 }
    }
}

impl Cell {
    fn as_str(&self) -> &str {
        let bytes = self.buf.get(..self.len).unwrap_or_default();
        core::str::from_utf8(bytes).unwrap_or_default()
    }
}

impl Write for Cell {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for ch in s.chars() {
            let mut tmp = [0u8; 4];
            let encoded = ch.encode_utf8(&mut tmp).as_bytes();
            let end = self.len + encoded.len();
            match self.buf.get_mut(self.len..end) {
                Some(dst) => dst.copy_from_slice(encoded),
                None => return Ok(()),
            }
            self.len = end;
        }
        Ok(())
    }
}

/// Keras' `to_snake_case`: `MaxPooling2D` → `max_pooling2d`, `Conv2D` → `conv2d`.
struct SnakeCase(&'static str);

impl Display for SnakeCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Underscore before an upper-case letter that starts a lower-case run (`xPooling`), or
        // that follows a lower-case letter (`aB`): the two regex passes of Keras' helper.
        let chars = self.0.as_bytes();
        for (i, &c) in chars.iter().enumerate() {
            let prev = i.checked_sub(1).and_then(|p| chars.get(p)).copied();
            let next = chars.get(i + 1).copied();
            let starts_word = c.is_ascii_uppercase() && prev.is_some() && next.is_some_and(|n| n.is_ascii_lowercase());
            let after_lower = c.is_ascii_uppercase() && prev.is_some_and(|p| p.is_ascii_lowercase());
            if starts_word || after_lower {
                f.write_char('_')?;
            }
            f.write_char(c.to_ascii_lowercase() as char)?;
        }
        Ok(())
    }
}

/// An integer with thousands separators: `54410` → `54,410`.
struct Thousands(usize);

impl Display for Thousands {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut digits = [0u8; 20];
        let mut n = self.0;
        let mut len = 0;
        loop {
            if let Some(d) = digits.get_mut(len) {
                *d = (n % 10) as u8;
            }
            len += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        for i in (0..len).rev() {
            let d = digits.get(i).copied().unwrap_or(0);
            f.write_char(char::from(b'0' + d))?;
            if i > 0 && i % 3 == 0 {
                f.write_char(',')?;
            }
        }
        Ok(())
    }
}

/// Keras' `readable_memory_size`: 1024-based units, two decimals (`198.79 KB`, `0.00 B`).
struct Memory(usize);

impl Display for Memory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut size = self.0 as f64;
        for unit in ["B", "KB", "MB", "GB", "TB"] {
            if size / 1024.0 < 1.0 {
                return write!(f, "{size:.2} {unit}");
            }
            size /= 1024.0;
        }
        write!(f, "{size:.2} PB")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn snake_case_follows_keras() {
        for (class, snake) in [
            ("Dense", "dense"),
            ("Conv2D", "conv2d"),
            ("MaxPooling2D", "max_pooling2d"),
            ("AveragePooling2D", "average_pooling2d"),
            ("GlobalAveragePooling2D", "global_average_pooling2d"),
            ("DepthwiseConv2D", "depthwise_conv2d"),
            ("Flatten", "flatten"),
        ] {
            assert_eq!(SnakeCase(class).to_string(), snake);
        }
    }

    #[test]
    fn long_cells_wrap_at_spaces_like_keras() {
        let lines = |text, width| wrap(text, width).collect::<std::vec::Vec<_>>();
        // Keras 3.15 prints this row's first column on two lines of its 31-character column.
        assert_eq!(
            lines("global_average_pooling2d (GlobalAveragePooling2D)", 31),
            ["global_average_pooling2d", "(GlobalAveragePooling2D)"]
        );
        assert_eq!(lines("dense_1 (Dense)", 31), ["dense_1 (Dense)"]);
        assert_eq!(lines("abcdefgh ij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(lines("", 31), std::vec::Vec::<&str>::new());
    }

    #[test]
    fn a_long_layer_name_takes_two_lines_and_keeps_the_table_aligned() {
        use crate::activation::{Softmax, Tanh};
        use crate::layer::{Conv2D, Dense, GlobalAvgPool2D, Same};
        use crate::shape::Image;
        type Model = (Conv2D<3, 4, 3, Tanh, 1, Same>, GlobalAvgPool2D, Dense<4, 2, Softmax>);
        let table = Model::default().summary_table::<Image<4, 5, 3>>().to_string();
        // What Keras 3.15.1 prints for `Sequential([Input((4, 5, 3)), Conv2D(4, (3, 3),
        // padding="same", activation="tanh"), GlobalAveragePooling2D(), Dense(2,
        // activation="softmax")]).summary()`.
        let expected = "\
│ global_average_pooling2d        │ (None, 4)              │             0 │
│ (GlobalAveragePooling2D)        │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤";
        assert!(table.contains(expected), "{table}");
        assert!(
            table.lines().all(|l| l.chars().count() == 76 || l.starts_with(' ') || l.starts_with("Model")),
            "{table}"
        );
    }

    #[test]
    fn numbers_are_formatted_like_keras() {
        assert_eq!(Thousands(0).to_string(), "0");
        assert_eq!(Thousands(650).to_string(), "650");
        assert_eq!(Thousands(50_890).to_string(), "50,890");
        assert_eq!(Thousands(1_234_567).to_string(), "1,234,567");
        assert_eq!(Memory(0).to_string(), "0.00 B");
        assert_eq!(Memory(50_890 * 4).to_string(), "198.79 KB");
        assert_eq!(Memory(14_218 * 4).to_string(), "55.54 KB");
        assert_eq!(Memory(3 << 20).to_string(), "3.00 MB");
    }
}
