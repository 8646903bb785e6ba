//! Splitting the comma-separated fields of an information line.

use crate::addr::parse_decimal;

/// Iterates over the comma-separated fields of `line`, trimming spaces.
/// Quoted fields are returned with their quotes; commas inside quotes do not split.
pub fn split(line: &[u8]) -> Fields<'_> {
    Fields { rest: Some(line) }
}

pub struct Fields<'a> {
    rest: Option<&'a [u8]>,
}

impl<'a> Iterator for Fields<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest?;
        let mut in_quotes = false;
        let split_at = rest.iter().position(|&b| {
            if b == b'"' {
                in_quotes = !in_quotes;
            }
            b == b',' && !in_quotes
        });
        let (field, tail) = match split_at {
            Some(i) => (rest.get(..i)?, rest.get(i + 1..)),
            None => (rest, None),
        };
        self.rest = tail;
        Some(field.trim_ascii())
    }
}

/// Parses the next field as a decimal number.
pub fn next_number(fields: &mut Fields<'_>) -> Option<u32> {
    fields.next().and_then(parse_decimal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_keeps_quoted_commas() {
        let got: heapless::Vec<&[u8], 8> = split(b"1, 2,\"a,b\",,x").collect();
        assert_eq!(got.as_slice(), &[&b"1"[..], b"2", b"\"a,b\"", b"", b"x"]);
        let mut fields = split(b"6,300");
        assert_eq!(next_number(&mut fields), Some(6));
        assert_eq!(next_number(&mut fields), Some(300));
        assert_eq!(next_number(&mut fields), None);
    }
}
