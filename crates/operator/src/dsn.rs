//! Delivery status notifications (RFC 3461 parameters, RFC 3464 reports): what the operator
//! sends back to a sender that asked, with `NOTIFY=SUCCESS`, to know its message arrived.
//!
//! Recipients of the operator's own domain are `delivered`; others are `relayed` (the mock does
//! not talk to other operators).

use mail_builder::MessageBuilder;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::raw::Raw;
use mail_builder::mime::{BodyPart, MimePart};

/// What the sender asked for the returned content (`RET`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ret {
    /// Headers only (the default).
    #[default]
    Headers,
    /// The whole message.
    Full,
}

/// One recipient the report is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// Final recipient address.
    pub address: String,
    /// `ORCPT` as given, without its `rfc822;` prefix.
    pub original: Option<String>,
    /// `delivered` or `relayed`.
    pub action: &'static str,
}

/// Everything a success report says.
#[derive(Debug, Clone)]
pub struct Report<'a> {
    /// Host name of the reporting operator.
    pub reporting_mta: &'a str,
    /// The operator's mail domain (for the report's sender and Message-ID).
    pub domain: &'a str,
    /// Envelope sender of the original message, who gets the report.
    pub to: &'a str,
    /// `ENVID`, if given.
    pub envid: Option<&'a str>,
    /// What to return.
    pub ret: Ret,
    /// Recipients that asked for a success notification.
    pub recipients: Vec<Recipient>,
    /// The original message as received.
    pub original: &'a [u8],
}

fn header_block(message: &[u8]) -> &[u8] {
    match message.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(end) => &message[..end + 2],
        None => message,
    }
}

/// Builds the `multipart/report; report-type=delivery-status` message.
pub fn success_report(r: &Report<'_>) -> Vec<u8> {
    let date = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc2822)
        .unwrap_or_default();
    let mut fields = format!("Reporting-MTA: dns; {}\r\n", r.reporting_mta);
    if let Some(envid) = r.envid {
        fields.push_str(&format!("Original-Envelope-Id: {envid}\r\n"));
    }
    fields.push_str(&format!("Arrival-Date: {date}\r\n"));
    for rcpt in &r.recipients {
        fields.push_str("\r\n");
        if let Some(o) = &rcpt.original {
            fields.push_str(&format!("Original-Recipient: rfc822; {o}\r\n"));
        }
        fields.push_str(&format!(
            "Final-Recipient: rfc822; {}\r\nAction: {}\r\nStatus: 2.0.0\r\n",
            rcpt.address, rcpt.action
        ));
    }
    let names: Vec<&str> = r.recipients.iter().map(|x| x.address.as_str()).collect();
    let text = format!(
        "Votre message a bien été remis à : {}.\r\n\r\nYour message was successfully delivered to: {}.\r\n",
        names.join(", "),
        names.join(", ")
    );
    let returned = match r.ret {
        Ret::Headers => MimePart::new(
            "text/rfc822-headers",
            BodyPart::Binary(header_block(r.original).to_vec().into()),
        ),
        // message/* bodies may only be 7bit, 8bit or binary (RFC 2046 §5.2.1): never base64.
        Ret::Full => MimePart::new(
            "message/rfc822",
            BodyPart::Binary(r.original.to_vec().into()),
        )
        .transfer_encoding(if r.original.is_ascii() {
            "7bit"
        } else {
            "8bit"
        }),
    };
    let report = MimePart::new(
        ContentType::new("multipart/report").attribute("report-type", "delivery-status"),
        BodyPart::Multipart(vec![
            MimePart::new("text/plain", BodyPart::Text(text.into())),
            MimePart::new(
                "message/delivery-status",
                BodyPart::Binary(fields.into_bytes().into()),
            )
            .transfer_encoding("7bit"),
            returned,
        ]),
    );
    MessageBuilder::new()
        .from((
            "Opérateur fictif MSSanté",
            format!("MAILER-DAEMON@{}", r.domain).as_str(),
        ))
        .to(r.to)
        .subject(
            "Notification d'état de remise (réussite) / Delivery Status Notification (Success)",
        )
        .message_id(format!("{}@{}", uuid::Uuid::new_v4().simple(), r.domain))
        .header("Auto-Submitted", Raw::new("auto-replied"))
        .body(report)
        .write_to_vec()
        .unwrap_or_default()
}

/// A failure report (RFC 3464) for one recipient.
#[derive(Debug, Clone)]
pub struct Failure<'a> {
    /// Host name of the reporting system.
    pub reporting_mta: &'a str,
    /// The report's sender (display name, address).
    pub from: (&'a str, &'a str),
    /// Who gets the report.
    pub to: &'a str,
    /// Its subject.
    pub subject: &'a str,
    /// The recipient that failed.
    pub recipient: &'a str,
    /// Enhanced status code (`5.3.4`…).
    pub status: &'a str,
    /// `Diagnostic-Code` (`smtp; 552 …`).
    pub diagnostic: &'a str,
    /// The human-readable part.
    pub text: &'a str,
    /// The original message (its headers are returned).
    pub original: &'a [u8],
}

/// Builds the `multipart/report; report-type=delivery-status` of a failed delivery, the
/// original's headers returned.
pub fn failure_report(f: &Failure<'_>) -> Vec<u8> {
    let date = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc2822)
        .unwrap_or_default();
    let fields = format!(
        "Reporting-MTA: dns; {}\r\nArrival-Date: {date}\r\n\r\nFinal-Recipient: rfc822; {}\r\n\
         Action: failed\r\nStatus: {}\r\nDiagnostic-Code: {}\r\n",
        f.reporting_mta, f.recipient, f.status, f.diagnostic
    );
    let report = MimePart::new(
        ContentType::new("multipart/report").attribute("report-type", "delivery-status"),
        BodyPart::Multipart(vec![
            MimePart::new("text/plain", BodyPart::Text(f.text.to_owned().into())),
            MimePart::new(
                "message/delivery-status",
                BodyPart::Binary(fields.into_bytes().into()),
            )
            .transfer_encoding("7bit"),
            MimePart::new(
                "text/rfc822-headers",
                BodyPart::Binary(header_block(f.original).to_vec().into()),
            ),
        ]),
    );
    let domain = f.from.1.rsplit_once('@').map_or(f.from.1, |(_, d)| d);
    MessageBuilder::new()
        .from(f.from)
        .to(f.to)
        .subject(f.subject)
        .message_id(format!("{}@{domain}", uuid::Uuid::new_v4().simple()))
        .header("Auto-Submitted", Raw::new("auto-replied"))
        .body(report)
        .write_to_vec()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use mail_parser::MimeHeaders;

    use super::*;

    #[test]
    fn success_report_is_a_delivery_status_report() {
        let original = b"Subject: CR\r\nMessage-ID: <a@b>\r\n\r\nCorps secret\r\n";
        let bytes = success_report(&Report {
            reporting_mta: "mail.example",
            domain: "example.mssante.fr",
            to: "marie@example.mssante.fr",
            envid: Some("ENV-42"),
            ret: Ret::Headers,
            recipients: vec![Recipient {
                address: "paul@example.mssante.fr".into(),
                original: Some("paul@example.mssante.fr".into()),
                action: "delivered",
            }],
            original,
        });
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("multipart/report"), "{text}");
        assert!(
            text.contains("report-type=delivery-status")
                || text.contains("report-type=\"delivery-status\""),
            "{text}"
        );
        let m = mail_parser::MessageParser::default()
            .parse(&bytes)
            .expect("parse");
        let status = m
            .parts
            .iter()
            .find(|p| p.is_content_type("message", "delivery-status"))
            .expect("delivery-status part");
        let body = String::from_utf8_lossy(status.contents());
        for field in [
            "Reporting-MTA: dns; mail.example",
            "Original-Envelope-Id: ENV-42",
            "Final-Recipient: rfc822; paul@example.mssante.fr",
            "Action: delivered",
            "Status: 2.0.0",
        ] {
            assert!(body.contains(field), "{field} in {body}");
        }
        assert!(
            !text.contains("Corps secret"),
            "RET=HDRS returns headers only"
        );
    }
}
