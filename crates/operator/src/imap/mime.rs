//! The MIME side of FETCH: ENVELOPE, BODY and BODYSTRUCTURE, and numbered body sections
//! (`BODY[2.1]`, `BODY[2.MIME]`, `BODY[3.HEADER]`…), all from `mail-parser`'s part tree.
//!
//! Its part offsets follow IMAP's rules (a part's body stops before the CRLF that precedes the
//! next boundary), so sections are byte ranges of the stored file. An encapsulated message
//! (`message/rfc822`) is parsed again from its own bytes, so that every offset stays relative to
//! the message it belongs to. Header values are served raw (unfolded), as RFC 3501 wants:
//! clients decode encoded words themselves.

use std::borrow::Cow;

use base64::Engine;
use imap_types::body::{
    BasicFields, Body, BodyStructure, Disposition, Language, Location, MultiPartExtensionData,
    SinglePartExtensionData, SpecificFields,
};
use imap_types::core::{IString, NString, Quoted, Vec1};
use imap_types::envelope::{Address as ImapAddress, Envelope};
use imap_types::fetch::{Part, Section};
use mail_parser::{Address, Header, HeaderValue, Message, MessageParser, MessagePart, PartType};

/// Deepest nesting of encapsulated messages followed (a hostile message cannot recurse more).
const MAX_DEPTH: usize = 8;

fn parse(raw: &[u8]) -> Option<Message<'_>> {
    MessageParser::default().parse(raw)
}

fn istring(s: impl Into<String>) -> IString<'static> {
    let s: String = s.into();
    // Only NUL cannot travel in an IMAP string: drop it.
    let s = if s.contains('\0') {
        s.replace('\0', "")
    } else {
        s
    };
    IString::try_from(s).unwrap_or(IString::Quoted(Quoted::unvalidated("")))
}

fn nstring(s: Option<impl Into<String>>) -> NString<'static> {
    NString(s.map(istring))
}

/// The raw value of a header field, unfolded and trimmed.
fn raw_value(raw: &[u8], header: &Header<'_>) -> String {
    let start = header.offset_start as usize;
    let end = (header.offset_end as usize).min(raw.len());
    let bytes = raw.get(start..end).unwrap_or_default();
    let text = String::from_utf8_lossy(bytes);
    text.replace("\r\n", "").replace('\n', "").trim().to_owned()
}

/// The raw value of the first header field named `name` (case-insensitive).
fn raw_header(raw: &[u8], headers: &[Header<'_>], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|h| h.name.as_str().eq_ignore_ascii_case(name))
        .map(|h| raw_value(raw, h))
}

fn header_value<'a, 'x>(headers: &'a [Header<'x>], name: &str) -> Option<&'a HeaderValue<'x>> {
    headers
        .iter()
        .find(|h| h.name.as_str().eq_ignore_ascii_case(name))
        .map(|h| &h.value)
}

/// A display name as IMAP carries it: ASCII as is, anything else as an RFC 2047 encoded word.
fn phrase(name: &str) -> String {
    if name.is_ascii() {
        name.to_owned()
    } else {
        let b64 = base64::engine::general_purpose::STANDARD.encode(name.as_bytes());
        format!("=?utf-8?B?{b64}?=")
    }
}

fn address(name: Option<&str>, addr: Option<&str>) -> ImapAddress<'static> {
    let (mailbox, host) = match addr {
        Some(a) => match a.rsplit_once('@') {
            Some((m, h)) => (Some(m.to_owned()), Some(h.to_owned())),
            None => (Some(a.to_owned()), None),
        },
        None => (None, None),
    };
    ImapAddress {
        name: nstring(name.map(phrase)),
        adl: NString(None),
        mailbox: nstring(mailbox),
        host: nstring(host),
    }
}

fn addresses(value: Option<&HeaderValue<'_>>) -> Vec<ImapAddress<'static>> {
    let Some(HeaderValue::Address(list)) = value else {
        return Vec::new();
    };
    match list {
        Address::List(addrs) => addrs
            .iter()
            .map(|a| address(a.name.as_deref(), a.address.as_deref()))
            .collect(),
        Address::Group(groups) => {
            let mut out = Vec::new();
            for g in groups {
                match &g.name {
                    // RFC 3501: a group is (NIL NIL "name" NIL) … (NIL NIL NIL NIL).
                    Some(name) => {
                        out.push(ImapAddress {
                            name: NString(None),
                            adl: NString(None),
                            mailbox: nstring(Some(phrase(name))),
                            host: NString(None),
                        });
                        out.extend(
                            g.addresses
                                .iter()
                                .map(|a| address(a.name.as_deref(), a.address.as_deref())),
                        );
                        out.push(ImapAddress {
                            name: NString(None),
                            adl: NString(None),
                            mailbox: NString(None),
                            host: NString(None),
                        });
                    }
                    None => out.extend(
                        g.addresses
                            .iter()
                            .map(|a| address(a.name.as_deref(), a.address.as_deref())),
                    ),
                }
            }
            out
        }
    }
}

fn envelope_of(raw: &[u8], message: &Message<'_>) -> Envelope<'static> {
    let headers = message.headers();
    let from = addresses(header_value(headers, "From"));
    let sender = addresses(header_value(headers, "Sender"));
    let reply_to = addresses(header_value(headers, "Reply-To"));
    Envelope {
        date: nstring(raw_header(raw, headers, "Date")),
        subject: nstring(raw_header(raw, headers, "Subject")),
        // RFC 3501 §7.4.2: Sender and Reply-To default to From.
        sender: if sender.is_empty() {
            from.clone()
        } else {
            sender
        },
        reply_to: if reply_to.is_empty() {
            from.clone()
        } else {
            reply_to
        },
        from,
        to: addresses(header_value(headers, "To")),
        cc: addresses(header_value(headers, "Cc")),
        bcc: addresses(header_value(headers, "Bcc")),
        in_reply_to: nstring(raw_header(raw, headers, "In-Reply-To")),
        message_id: nstring(raw_header(raw, headers, "Message-ID")),
    }
}

fn empty_envelope() -> Envelope<'static> {
    Envelope {
        date: NString(None),
        subject: NString(None),
        from: Vec::new(),
        sender: Vec::new(),
        reply_to: Vec::new(),
        to: Vec::new(),
        cc: Vec::new(),
        bcc: Vec::new(),
        in_reply_to: NString(None),
        message_id: NString(None),
    }
}

/// ENVELOPE of a stored message.
pub(super) fn envelope(raw: &[u8]) -> Envelope<'static> {
    match parse(raw) {
        Some(m) => envelope_of(raw, &m),
        None => empty_envelope(),
    }
}

fn lines(bytes: &[u8]) -> u32 {
    let n = bytes.iter().filter(|&&b| b == b'\n').count()
        + usize::from(!bytes.is_empty() && !bytes.ends_with(b"\n"));
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn params(ct: Option<&mail_parser::ContentType<'_>>) -> Vec<(IString<'static>, IString<'static>)> {
    ct.and_then(|c| c.attributes.as_ref())
        .map(|attrs| {
            attrs
                .iter()
                .map(|a| {
                    (
                        istring(a.name.to_ascii_uppercase()),
                        istring(a.value.as_ref()),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn disposition_tail(raw: &[u8], part: &MessagePart<'_>) -> Option<Disposition<'static>> {
    use mail_parser::MimeHeaders;
    let disposition = part
        .content_disposition()
        .map(|d| (istring(d.c_type.to_ascii_uppercase()), params(Some(d))));
    let language: Vec<IString<'static>> = match part.content_language() {
        HeaderValue::Text(t) => vec![istring(t.as_ref())],
        HeaderValue::TextList(list) => list.iter().map(|t| istring(t.as_ref())).collect(),
        _ => Vec::new(),
    };
    Some(Disposition {
        disposition,
        tail: Some(Language {
            language,
            tail: Some(Location {
                location: nstring(raw_header(raw, &part.headers, "Content-Location")),
                extensions: Vec::new(),
            }),
        }),
    })
}

/// The structure of part `index` of a message whose bytes are `raw`.
fn structure(
    raw: &[u8],
    message: &Message<'_>,
    index: usize,
    extended: bool,
    depth: usize,
) -> BodyStructure<'static> {
    use mail_parser::MimeHeaders;
    let Some(part) = message.parts.get(index) else {
        return text_plain(raw, extended);
    };
    let ct = part.content_type();
    let (ctype, subtype) = match ct {
        Some(c) => (
            c.c_type.to_ascii_uppercase(),
            c.c_subtype
                .as_deref()
                .map(str::to_ascii_uppercase)
                .unwrap_or_default(),
        ),
        None => ("TEXT".to_owned(), "PLAIN".to_owned()),
    };
    if let PartType::Multipart(children) = &part.body {
        let bodies: Vec<BodyStructure<'static>> = children
            .iter()
            .map(|&c| structure(raw, message, c as usize, extended, depth))
            .collect();
        if let Ok(bodies) = Vec1::try_from(bodies) {
            return BodyStructure::Multi {
                bodies,
                subtype: istring(if subtype.is_empty() {
                    "MIXED".to_owned()
                } else {
                    subtype
                }),
                extension_data: extended.then(|| MultiPartExtensionData {
                    parameter_list: params(ct),
                    tail: disposition_tail(raw, part),
                }),
            };
        }
    }
    let start = (part.offset_body as usize).min(raw.len());
    let end = (part.offset_end as usize).clamp(start, raw.len());
    let body = &raw[start..end];
    let mut parameter_list = params(ct);
    if ct.is_none() {
        parameter_list.push((istring("CHARSET"), istring("US-ASCII")));
    }
    let basic = BasicFields {
        parameter_list,
        id: nstring(raw_header(raw, &part.headers, "Content-ID")),
        description: nstring(raw_header(raw, &part.headers, "Content-Description")),
        content_transfer_encoding: istring(
            raw_header(raw, &part.headers, "Content-Transfer-Encoding")
                .map(|e| e.to_ascii_uppercase())
                .unwrap_or_else(|| "7BIT".to_owned()),
        ),
        size: u32::try_from(body.len()).unwrap_or(u32::MAX),
    };
    let specific = if ctype == "TEXT" {
        SpecificFields::Text {
            subtype: istring(subtype),
            number_of_lines: lines(body),
        }
    } else if ctype == "MESSAGE"
        && (subtype == "RFC822" || subtype == "GLOBAL")
        && depth < MAX_DEPTH
        && let Some(inner) = parse(body)
    {
        SpecificFields::Message {
            envelope: Box::new(envelope_of(body, &inner)),
            body_structure: Box::new(structure(body, &inner, 0, extended, depth + 1)),
            number_of_lines: lines(body),
        }
    } else {
        SpecificFields::Basic {
            r#type: istring(ctype),
            subtype: istring(subtype),
        }
    };
    BodyStructure::Single {
        body: Body { basic, specific },
        extension_data: extended.then(|| SinglePartExtensionData {
            md5: nstring(raw_header(raw, &part.headers, "Content-MD5")),
            tail: disposition_tail(raw, part),
        }),
    }
}

/// What a message that cannot be parsed is shown as: one text/plain part.
fn text_plain(raw: &[u8], extended: bool) -> BodyStructure<'static> {
    BodyStructure::Single {
        body: Body {
            basic: BasicFields {
                parameter_list: vec![(istring("CHARSET"), istring("US-ASCII"))],
                id: NString(None),
                description: NString(None),
                content_transfer_encoding: istring("7BIT"),
                size: u32::try_from(raw.len()).unwrap_or(u32::MAX),
            },
            specific: SpecificFields::Text {
                subtype: istring("PLAIN"),
                number_of_lines: lines(raw),
            },
        },
        extension_data: extended.then_some(SinglePartExtensionData {
            md5: NString(None),
            tail: None,
        }),
    }
}

/// BODYSTRUCTURE (`extended`) or BODY of a stored message.
pub(super) fn body_structure(raw: &[u8], extended: bool) -> BodyStructure<'static> {
    match parse(raw) {
        Some(m) => structure(raw, &m, 0, extended, 0),
        None => text_plain(raw, extended),
    }
}

/// Splits a message (or a MIME part) into its header (with the blank line) and its body.
pub(super) fn split_header(content: &[u8]) -> (&[u8], &[u8]) {
    match content.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(i) => content.split_at(i + 4),
        None => match content.windows(2).position(|w| w == b"\n\n") {
            Some(i) => content.split_at(i + 2),
            None => (content, &[]),
        },
    }
}

/// A part a section number designates: the byte ranges of its MIME header and body within the
/// bytes of the (possibly encapsulated) message that holds it.
struct Located<'r> {
    /// The bytes of the message holding the part.
    raw: &'r [u8],
    header: std::ops::Range<usize>,
    body: std::ops::Range<usize>,
    /// Whether the part is an encapsulated message (its body is a whole message).
    is_message: bool,
}

fn located<'r>(raw: &'r [u8], part: &MessagePart<'_>) -> Located<'r> {
    use mail_parser::MimeHeaders;
    let clamp = |a: u32, b: u32| {
        let a = (a as usize).min(raw.len());
        a..(b as usize).clamp(a, raw.len())
    };
    let is_message = part.content_type().is_some_and(|c| {
        c.c_type.eq_ignore_ascii_case("message")
            && c.c_subtype.as_deref().is_some_and(|s| {
                s.eq_ignore_ascii_case("rfc822") || s.eq_ignore_ascii_case("global")
            })
    });
    Located {
        raw,
        header: clamp(part.offset_header, part.offset_body),
        body: clamp(part.offset_body, part.offset_end),
        is_message,
    }
}

/// Follows part numbers from a message (RFC 3501 §6.4.5): the numbers of a multipart's children,
/// then into encapsulated messages; `1` names the body of a non-multipart message.
fn locate<'r>(raw: &'r [u8], path: &[u32], depth: usize) -> Option<Located<'r>> {
    let (&first, rest) = path.split_first()?;
    if depth > MAX_DEPTH {
        return None;
    }
    let message = parse(raw)?;
    let root = message.parts.first()?;
    let mut index = match &root.body {
        PartType::Multipart(children) => *children.get(first.checked_sub(1)? as usize)? as usize,
        _ if first == 1 => 0,
        _ => return None,
    };
    for (i, &n) in rest.iter().enumerate() {
        let part = message.parts.get(index)?;
        if let PartType::Multipart(children) = &part.body {
            index = *children.get(n.checked_sub(1)? as usize)? as usize;
            continue;
        }
        let loc = located(raw, part);
        if !loc.is_message {
            return None;
        }
        return locate(&raw[loc.body], &rest[i..], depth + 1);
    }
    Some(located(raw, message.parts.get(index)?))
}

fn numbers(part: &Part) -> Vec<u32> {
    part.0.as_ref().iter().map(|n| n.get()).collect()
}

/// The header and text of the message a section is about: the whole message, or the
/// encapsulated message of a `message/rfc822` part.
fn message_at<'r>(raw: &'r [u8], part: Option<&Part>) -> Option<&'r [u8]> {
    match part {
        None => Some(raw),
        Some(p) => {
            let loc = locate(raw, &numbers(p), 0)?;
            loc.is_message.then(|| &loc.raw[loc.body])
        }
    }
}

/// Header fields (with their continuation lines) whose name is, or is not, in `names`.
pub(super) fn header_fields(header: &[u8], names: &[String], keep: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut keeping = false;
    for line in header.split_inclusive(|&b| b == b'\n') {
        if line == b"\r\n" || line == b"\n" {
            break;
        }
        if !line.starts_with(b" ") && !line.starts_with(b"\t") {
            let name = line
                .split(|&b| b == b':')
                .next()
                .map(|n| String::from_utf8_lossy(n).trim().to_ascii_lowercase())
                .unwrap_or_default();
            keeping = names.contains(&name) == keep;
        }
        if keeping {
            out.extend_from_slice(line);
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// The bytes of a body section, or `None` when the message has no such part (the answer is
/// then an empty string, as RFC 3501 servers do).
pub(super) fn section<'r>(raw: &'r [u8], section: Option<&Section<'_>>) -> Option<Cow<'r, [u8]>> {
    let names = |fields: &Vec1<imap_types::core::AString<'_>>| -> Vec<String> {
        fields
            .as_ref()
            .iter()
            .map(|f| String::from_utf8_lossy(f.as_ref()).to_ascii_lowercase())
            .collect()
    };
    Some(match section {
        None => Cow::Borrowed(raw),
        Some(Section::Part(p)) => {
            let loc = locate(raw, &numbers(p), 0)?;
            Cow::Borrowed(&loc.raw[loc.body])
        }
        Some(Section::Mime(p)) => {
            let loc = locate(raw, &numbers(p), 0)?;
            Cow::Borrowed(&loc.raw[loc.header])
        }
        Some(Section::Header(p)) => Cow::Borrowed(split_header(message_at(raw, p.as_ref())?).0),
        Some(Section::Text(p)) => Cow::Borrowed(split_header(message_at(raw, p.as_ref())?).1),
        Some(Section::HeaderFields(p, fields)) => {
            let (header, _) = split_header(message_at(raw, p.as_ref())?);
            Cow::Owned(header_fields(header, &names(fields), true))
        }
        Some(Section::HeaderFieldsNot(p, fields)) => {
            let (header, _) = split_header(message_at(raw, p.as_ref())?);
            Cow::Owned(header_fields(header, &names(fields), false))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use imap_codec::ResponseCodec;
    use imap_codec::encode::Encoder;
    use imap_types::response::{Data, Response};
    use std::num::NonZeroU32;

    const NESTED: &[u8] = b"From: =?utf-8?q?L=C3=A9o?= <leo@x.fr>\r\nTo: grp: a@b, c@d;\r\nSubject: hello\r\n world\r\nMessage-ID: <m@x>\r\nContent-Type: multipart/mixed; boundary=X\r\n\r\npreamble\r\n--X\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n--X\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename=in.eml\r\n\r\nSubject: in\r\nContent-Type: multipart/alternative; boundary=Y\r\n\r\n--Y\r\n\r\nplain\r\n--Y\r\nContent-Type: text/html\r\n\r\n<b>x</b>\r\n--Y--\r\n\r\n--X--\r\nepilogue\r\n";

    fn part(numbers: &[u32]) -> Part {
        Part(
            Vec1::try_from(
                numbers
                    .iter()
                    .map(|&n| NonZeroU32::new(n).expect("non-zero"))
                    .collect::<Vec<_>>(),
            )
            .expect("one number"),
        )
    }

    fn text(bytes: Option<Cow<'_, [u8]>>) -> String {
        String::from_utf8_lossy(&bytes.expect("section exists")).into_owned()
    }

    fn encoded(data: Data<'static>) -> String {
        let bytes = ResponseCodec::default()
            .encode(&Response::Data(data))
            .dump();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[test]
    fn header_field_selection() {
        let h = b"From: a\r\nSubject: x\r\n y\r\nTo: b\r\n\r\n";
        assert_eq!(
            header_fields(h, &["subject".into()], true),
            b"Subject: x\r\n y\r\n\r\n"
        );
        assert_eq!(
            header_fields(h, &["subject".into()], false),
            b"From: a\r\nTo: b\r\n\r\n"
        );
    }

    #[test]
    fn numbered_sections_follow_rfc3501() {
        let s = |p: &[u32]| text(section(NESTED, Some(&Section::Part(part(p)))));
        assert_eq!(s(&[1]), "hello");
        assert!(s(&[2]).starts_with("Subject: in\r\n"));
        assert_eq!(s(&[2, 1]), "plain");
        assert_eq!(s(&[2, 2]), "<b>x</b>");
        assert!(section(NESTED, Some(&Section::Part(part(&[3])))).is_none());
        assert!(section(NESTED, Some(&Section::Part(part(&[1, 1])))).is_none());
        let mime = text(section(NESTED, Some(&Section::Mime(part(&[1])))));
        assert_eq!(mime, "Content-Type: text/plain; charset=utf-8\r\n\r\n");
        let inner = text(section(NESTED, Some(&Section::Header(Some(part(&[2]))))));
        assert!(inner.starts_with("Subject: in\r\n") && inner.ends_with("\r\n\r\n"));
        let inner_text = text(section(NESTED, Some(&Section::Text(Some(part(&[2]))))));
        assert!(inner_text.starts_with("--Y\r\n"));
        // HEADER of a part that is not a message: no such section.
        assert!(section(NESTED, Some(&Section::Header(Some(part(&[1]))))).is_none());
        // A simple message has exactly part 1: its body.
        let simple = b"Subject: s\r\n\r\nbody\r\n";
        assert_eq!(
            text(section(simple, Some(&Section::Part(part(&[1]))))),
            "body\r\n"
        );
        assert!(section(simple, Some(&Section::Part(part(&[2])))).is_none());
    }

    #[test]
    fn bodystructure_is_what_imap_clients_expect() {
        let bs = encoded(Data::Fetch {
            seq: NonZeroU32::MIN,
            items: Vec1::from(imap_types::fetch::MessageDataItem::BodyStructure(
                body_structure(NESTED, true),
            )),
        });
        assert!(
            bs.contains(r#"("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "7BIT" 5 1"#),
            "{bs}"
        );
        assert!(
            bs.contains(r#""MESSAGE" "RFC822" NIL NIL NIL "7BIT" "#),
            "{bs}"
        );
        assert!(
            bs.contains(r#"("ATTACHMENT" ("FILENAME" "in.eml"))"#),
            "{bs}"
        );
        assert!(bs.contains(r#""ALTERNATIVE""#), "{bs}");
        assert!(bs.contains(r#""MIXED" ("BOUNDARY" "X")"#), "{bs}");
        let body = encoded(Data::Fetch {
            seq: NonZeroU32::MIN,
            items: Vec1::from(imap_types::fetch::MessageDataItem::Body(body_structure(
                NESTED, false,
            ))),
        });
        assert!(
            !body.contains("ATTACHMENT"),
            "BODY has no extension data: {body}"
        );
    }

    #[test]
    fn envelope_keeps_raw_values_and_groups() {
        let env = encoded(Data::Fetch {
            seq: NonZeroU32::MIN,
            items: Vec1::from(imap_types::fetch::MessageDataItem::Envelope(envelope(
                NESTED,
            ))),
        });
        assert!(env.contains(r#""hello world""#), "{env}");
        assert!(
            env.contains(r#"(("=?utf-8?B?TMOpbw==?=" NIL "leo" "x.fr"))"#),
            "{env}"
        );
        assert!(
            env.contains(
                r#"((NIL NIL "grp" NIL)(NIL NIL "a" "b")(NIL NIL "c" "d")(NIL NIL NIL NIL))"#
            ),
            "{env}"
        );
        assert!(env.contains(r#""<m@x>""#), "{env}");
    }

    #[test]
    fn hostile_messages_do_not_break_it() {
        for raw in [
            &b""[..],
            b"\r\n\r\n",
            b"Content-Type: multipart/mixed; boundary=Q\r\n\r\n--Q\r\nunterminated",
            b"Content-Type: message/rfc822\r\n\r\nContent-Type: message/rfc822\r\n\r\n",
            b"\0\xff\xfe",
        ] {
            body_structure(raw, true);
            envelope(raw);
            for p in [&[1u32][..], &[1, 1], &[2, 1, 1]] {
                section(raw, Some(&Section::Part(part(p))));
                section(raw, Some(&Section::Mime(part(p))));
                section(raw, Some(&Section::Header(Some(part(p)))));
            }
        }
        // Deep nesting stops at MAX_DEPTH instead of recursing without end.
        let mut deep = b"Subject: bottom\r\n\r\nx\r\n".to_vec();
        for _ in 0..50 {
            let mut outer = b"Content-Type: message/rfc822\r\n\r\n".to_vec();
            outer.extend_from_slice(&deep);
            deep = outer;
        }
        body_structure(&deep, true);
        let path: Vec<u32> = vec![1; 40];
        section(&deep, Some(&Section::Part(part(&path))));
    }
}
