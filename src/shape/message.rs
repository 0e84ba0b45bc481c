//! Error messages with numbers in them, written at compile time for the rules that only a
//! build can check (a `const` panic can print a `&str`, not format an integer).

/// A message of at most [`Message::CAPACITY`] bytes, built by `const fn` calls; longer text
/// is cut off.
pub(crate) struct Message {
    bytes: [u8; Message::CAPACITY],
    len: usize,
}

impl Message {
    /// Bytes a message holds.
    pub(crate) const CAPACITY: usize = 320;

    /// An empty message.
    pub(crate) const fn new() -> Self {
        Self { bytes: [0; Self::CAPACITY], len: 0 }
    }

    /// Appends `text`.
    pub(crate) const fn text(mut self, text: &str) -> Self {
        let mut rest = text.as_bytes();
        while let Some((&byte, tail)) = rest.split_first() {
            self = self.push(byte);
            rest = tail;
        }
        self
    }

    /// Appends `n` in decimal.
    pub(crate) const fn num(self, n: usize) -> Self {
        let mut digits = [0u8; 20];
        let (mut len, mut rest) = (0, n);
        while let Some(slot) = digits.split_at_mut(len).1.first_mut() {
            *slot = b'0' + (rest % 10) as u8;
            len += 1;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        let mut out = self;
        while let Some((&digit, _)) = digits.split_at(len).0.split_last() {
            out = out.push(digit);
            len -= 1;
        }
        out
    }

    const fn push(mut self, byte: u8) -> Self {
        if let Some(slot) = self.bytes.split_at_mut(self.len).1.first_mut() {
            *slot = byte;
            self.len += 1;
        }
        self
    }

    /// The text so far (up to the last whole character, if it was cut off).
    pub(crate) const fn as_str(&self) -> &str {
        let mut len = self.len;
        loop {
            match core::str::from_utf8(self.bytes.split_at(len).0) {
                Ok(text) => return text,
                Err(_) if len > 0 => len -= 1,
                Err(_) => return "",
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Message;

    #[test]
    fn message_writes_text_and_decimal_numbers() {
        const M: Message = Message::new().text("13·13·32 = ").num(5408).text(", not ").num(0);
        assert_eq!(M.as_str(), "13·13·32 = 5408, not 0");
        assert_eq!(Message::new().num(usize::MAX).as_str(), "18446744073709551615");
    }

    #[test]
    fn message_cuts_long_text_at_a_character_boundary() {
        let mut m = Message::new();
        for _ in 0..Message::CAPACITY {
            m = m.text("·"); // two bytes each
        }
        assert_eq!(m.as_str().len(), Message::CAPACITY);
        let odd = Message::new().text("x").text(&"·".repeat(Message::CAPACITY));
        assert_eq!(odd.as_str().len(), Message::CAPACITY - 1);
        assert!(odd.as_str().ends_with('·'));
    }
}
