//! Header surgery on raw messages.

/// The message without any occurrence of a header (with its folded lines): for the deliberate
/// defects of the reference client and for fixtures.
pub fn remove_header(message: &[u8], name: &str) -> Vec<u8> {
    let end = message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(message.len(), |p| p + 2);
    let (head, body) = message.split_at(end);
    let mut out = Vec::with_capacity(message.len());
    let mut dropping = false;
    for line in head.split_inclusive(|&b| b == b'\n') {
        if !line.starts_with(b" ") && !line.starts_with(b"\t") {
            dropping = line.len() > name.len()
                && line[..name.len()].eq_ignore_ascii_case(name.as_bytes())
                && line[name.len()] == b':';
        }
        if !dropping {
            out.extend_from_slice(line);
        }
    }
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remove_header_takes_folded_lines_and_spares_the_body() {
        let m = b"Subject: a\r\nMessage-ID:\r\n <x@y>\r\nmessage-id: <z@y>\r\nX-Message-ID: keep\r\n\r\nMessage-ID: body\r\n";
        assert_eq!(
            remove_header(m, "Message-ID"),
            b"Subject: a\r\nX-Message-ID: keep\r\n\r\nMessage-ID: body\r\n"
        );
        assert_eq!(remove_header(b"no header", "A"), b"no header");
    }
}
