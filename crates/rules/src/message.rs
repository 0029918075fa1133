//! A message under judgement: its raw bytes and their parse.

/// Why bytes are not a message at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseError {}

/// A message as sent.
#[derive(Debug)]
pub struct Message<'a> {
    raw: &'a [u8],
    parsed: mail_parser::Message<'a>,
}

impl<'a> Message<'a> {
    /// Parses raw RFC 5322 bytes.
    pub fn parse(raw: &'a [u8]) -> Result<Self, ParseError> {
        let parsed = mail_parser::MessageParser::default()
            .parse(raw)
            .ok_or_else(|| ParseError("le contenu n'est pas un message RFC 5322".into()))?;
        Ok(Message { raw, parsed })
    }

    /// The bytes as sent.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The parsed message.
    pub fn parsed(&self) -> &mail_parser::Message<'a> {
        &self.parsed
    }

    /// Raw values (unfolded, trimmed) of every top-level header with this name.
    pub fn header_values(&self, name: &str) -> Vec<String> {
        self.parsed
            .headers()
            .iter()
            .filter(|h| h.name().eq_ignore_ascii_case(name))
            .filter_map(|h| {
                let start = h.offset_start() as usize;
                let end = h.offset_end() as usize;
                self.raw.get(start..end)
            })
            .map(|v| {
                String::from_utf8_lossy(v)
                    .replace("\r\n", "")
                    .replace('\n', "")
                    .trim()
                    .to_owned()
            })
            .collect()
    }
}
