//! Mon espace santé, the patients' operator, as seen from a professional's mailbox
//! (seeds/002, §5 to §7): what happens to a message sent to `<INS>@patient.mssante.fr`.
//!
//! - open patient: delivered; the sender label MES would display (the `From:` display name,
//!   else its local part) is kept, and the patient may reply to this professional;
//! - closed (« Messagerie fermée ») or absent/unknown (« Patient non trouvé »): a bounce
//!   `Message non distribué : « <subject> »` from « Système », with the wording of each case;
//! - over 25 MB: an RFC 3464 report `Undelivered Mail Returned to Sender`;
//! - subject exactly `[FIN]` (case and characters), or `X-MSS-MES: FIN`: not delivered, the
//!   patient can no longer reply to any earlier message of that professional; a new message
//!   gives the right back;
//! - `reponse.automatique-test@patient.mssante.fr`: an automatic answer to every message.
//!
//! The patient's side, driven by the harness (control API): opening a message that asked for
//! a read receipt (`Disposition-Notification-To`) sends `Read-Receipt : « <subject> »` from the
//! patient's address at once; a reply comes from `Prénom Nom <INS@patient.mssante.fr>` as an
//! HTML `multipart/alternative` with a plain part, threaded, and is refused once the
//! professional ended the exchanges; a space can be closed or reopened.
//!
//! Everything here is in memory, reset with the operator.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use mail_builder::MessageBuilder;
use mail_builder::headers::raw::Raw;

use crate::directory::{Directory, MesState};

/// The patients' mail domain.
pub const DOMAIN: &str = "patient.mssante.fr";
/// The test mailbox that answers every message (seeds/002 §7).
pub const AUTO_REPLY: &str = "reponse.automatique-test@patient.mssante.fr";
/// The largest message Mon espace santé accepts (25 MB, seeds/002 §5).
pub const MAX_SIZE: usize = 25 * 1024 * 1024;
/// Who signs the bounces (« From : Système »).
const SYSTEM: (&str, &str) = ("Système", "ne-pas-repondre@patient.mssante.fr");

/// What became of a message sent to a patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Delivered; the label the patient sees as the sender.
    Delivered {
        /// The `From:` display name, else its local part.
        label: String,
    },
    /// The patient closed their space: bounced.
    Closed,
    /// No such space (never created, opposed, wrong INS): bounced.
    Absent,
    /// Over 25 MB: returned with a delivery status report.
    TooLarge,
    /// `[FIN]`: not delivered; the patient may no longer reply to this professional.
    EndOfExchanges,
    /// The automatic-answer test mailbox answered.
    AutoReplied,
}

impl Outcome {
    /// A short French description, for the journal.
    pub fn describe(&self) -> String {
        match self {
            Outcome::Delivered { label } => format!("délivré (expéditeur affiché « {label} »)"),
            Outcome::Closed => "non distribué : messagerie clôturée".into(),
            Outcome::Absent => "non distribué : adresse Mon espace santé inexistante".into(),
            Outcome::TooLarge => "non distribué : plus de 25 Mo".into(),
            Outcome::EndOfExchanges => "[FIN] : non délivré, fin des échanges".into(),
            Outcome::AutoReplied => "réponse automatique envoyée".into(),
        }
    }
}

/// A message for a patient, as Mon espace santé reads it.
#[derive(Debug, Clone)]
pub struct Incoming<'a> {
    /// The professional's BAL (the authenticated sender).
    pub sender: &'a str,
    /// The patient's address.
    pub recipient: &'a str,
    /// The message as received.
    pub message: &'a [u8],
}

/// A message delivered to a patient, as the patient's side needs it.
#[derive(Debug, Clone)]
struct Kept {
    /// The professional's BAL.
    from: String,
    message_id: String,
    subject: String,
    received: time::OffsetDateTime,
    /// `Disposition-Notification-To`, and whether the receipt went.
    notify: Option<String>,
    receipt_sent: bool,
}

/// Why the patient's side could not act.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MesError {
    /// No such patient in the directory.
    #[error("patient inconnu : INS {0}")]
    UnknownPatient(String),
    /// The patient has no such message.
    #[error("le patient {ins} n'a pas reçu le message <{message_id}>")]
    UnknownMessage {
        /// The patient.
        ins: String,
        /// The message.
        message_id: String,
    },
    /// The professional ended the exchanges (`[FIN]`): the patient cannot reply.
    #[error("le professionnel {0} a mis fin aux échanges : le patient ne peut plus lui répondre")]
    Withdrawn(String),
}

/// A message Mon espace santé sends to a professional.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The recipient.
    pub to: String,
    /// The message.
    pub message: Vec<u8>,
}

/// The simulated Mon espace santé.
#[derive(Debug, Default)]
pub struct Mes {
    /// Patients' names by INS (`Prénom Nom` of their replies).
    names: HashMap<String, String>,
    /// Messages delivered to each patient, by INS.
    inboxes: Mutex<HashMap<String, Vec<Kept>>>,
    /// Patients' states by INS (from the directory, changeable).
    states: Mutex<HashMap<String, MesState>>,
    /// (INS, professional BAL) pairs whose exchanges the professional ended.
    ended: Mutex<HashSet<(String, String)>>,
    /// (INS, professional BAL) pairs with at least one delivered message.
    received: Mutex<HashSet<(String, String)>>,
}

impl Mes {
    /// Mon espace santé with the directory's patients.
    pub fn new(directory: &Directory) -> Self {
        Mes {
            states: Mutex::new(
                directory
                    .patients
                    .iter()
                    .map(|p| (p.ins.clone(), p.mes))
                    .collect(),
            ),
            names: directory
                .patients
                .iter()
                .map(|p| {
                    let first = p.first_names.first().cloned().unwrap_or_default();
                    (p.ins.clone(), format!("{first} {}", p.birth_name))
                })
                .collect(),
            ..Mes::default()
        }
    }

    /// Back to the directory's states, no message received.
    pub fn reset(&self, directory: &Directory) {
        *lock(&self.states) = Mes::new(directory).states.into_inner().unwrap_or_default();
        lock(&self.ended).clear();
        lock(&self.received).clear();
        lock(&self.inboxes).clear();
    }

    /// Opens or closes a patient's space (`Absent`: as if it never existed).
    pub fn set_state(&self, ins: &str, state: MesState) -> Result<(), MesError> {
        match lock(&self.states).get_mut(ins) {
            Some(s) => {
                *s = state;
                Ok(())
            }
            None => Err(MesError::UnknownPatient(ins.to_owned())),
        }
    }

    /// The patient opens (displays) a message: the read receipt it asked for, once.
    pub fn open(&self, ins: &str, message_id: &str) -> Result<Option<Outgoing>, MesError> {
        let mut inboxes = lock(&self.inboxes);
        let kept = find(&mut inboxes, ins, message_id)?;
        let Some(to) = kept.notify.clone().filter(|_| !kept.receipt_sent) else {
            return Ok(None);
        };
        kept.receipt_sent = true;
        let patient = format!("{ins}@{DOMAIN}");
        let body = format!(
            "Le message que vous avez envoyé le {} a bien été ouvert par votre destinataire \
             {patient}.\r\n\r\nCela ne garantit pas la bonne prise de connaissance de son \
             contenu.\r\n\r\nMerci de ne pas répondre à ce message.\r\n",
            french_date(kept.received)
        );
        let message = MessageBuilder::new()
            .from(patient.as_str())
            .to(to.as_str())
            .subject(format!("Read-Receipt : « {} »", kept.subject))
            .message_id(format!("{}@{DOMAIN}", uuid::Uuid::new_v4().simple()))
            .in_reply_to(kept.message_id.as_str())
            .references(kept.message_id.as_str())
            .header("Auto-Submitted", Raw::new("auto-replied"))
            .text_body(body)
            .write_to_vec()
            .unwrap_or_default();
        Ok(Some(Outgoing { to, message }))
    }

    /// The patient replies to a message: from `Prénom Nom <INS@patient.mssante.fr>`, HTML with
    /// its plain part, threaded; refused when the professional ended the exchanges.
    pub fn reply(&self, ins: &str, message_id: &str, text: &str) -> Result<Outgoing, MesError> {
        let kept = find(&mut lock(&self.inboxes), ins, message_id)?.clone();
        if !self.may_reply(ins, &kept.from) {
            return Err(MesError::Withdrawn(kept.from));
        }
        let name = self.names.get(ins).cloned().unwrap_or_default();
        let patient = format!("{ins}@{DOMAIN}");
        let html = format!(
            "<html><body><p>{}</p></body></html>",
            quick_xml::escape::escape(text).replace('\n', "<br>")
        );
        let message = MessageBuilder::new()
            .from((name.as_str(), patient.as_str()))
            .to(kept.from.as_str())
            .subject(format!("RE: {}", kept.subject))
            .message_id(format!("{}@{DOMAIN}", uuid::Uuid::new_v4().simple()))
            .in_reply_to(kept.message_id.as_str())
            .references(kept.message_id.as_str())
            .text_body(text)
            .html_body(html)
            .write_to_vec()
            .unwrap_or_default();
        Ok(Outgoing {
            to: kept.from,
            message,
        })
    }

    /// Whether an address is a patient's (the patients' domain).
    pub fn is_patient(address: &str) -> bool {
        address
            .rsplit_once('@')
            .is_some_and(|(_, d)| d.eq_ignore_ascii_case(DOMAIN))
    }

    /// Whether the patient may reply to this professional (a delivered message, no `[FIN]`
    /// since).
    pub fn may_reply(&self, ins: &str, professional: &str) -> bool {
        let key = (ins.to_owned(), professional.to_ascii_lowercase());
        lock(&self.received).contains(&key) && !lock(&self.ended).contains(&key)
    }

    /// Receives one message for one patient: what became of it, and the message Mon espace
    /// santé sends back to the professional, if any.
    pub fn receive(&self, m: &Incoming<'_>) -> (Outcome, Option<Vec<u8>>) {
        let headers = mail_parser::MessageParser::default().parse_headers(m.message);
        let subject = headers
            .as_ref()
            .and_then(|h| h.subject())
            .unwrap_or_default()
            .to_owned();
        if m.recipient.eq_ignore_ascii_case(AUTO_REPLY) {
            return (
                Outcome::AutoReplied,
                Some(notice(
                    m.sender,
                    &format!("Réponse automatique : « {subject} »"),
                    "Votre message a bien été reçu par Mon espace santé.\r\n\r\nMerci de ne pas \
                     répondre à ce message.\r\n",
                )),
            );
        }
        if m.message.len() > MAX_SIZE {
            return (Outcome::TooLarge, Some(too_large(m)));
        }
        let ins = m
            .recipient
            .rsplit_once('@')
            .map_or("", |(local, _)| local)
            .to_owned();
        let state = lock(&self.states).get(&ins).copied();
        match state {
            Some(MesState::Open) => {}
            Some(MesState::Closed) => {
                return (
                    Outcome::Closed,
                    Some(notice(
                        m.sender,
                        &format!("Message non distribué : « {subject} »"),
                        &format!(
                            "Le message que vous avez envoyé à {} n'a pas pu être distribué car \
                             la messagerie Mon espace sante de votre destinataire est \
                             clôturée.\r\n\r\nMerci de ne pas répondre à ce message.\r\n",
                            m.recipient
                        ),
                    )),
                );
            }
            Some(MesState::Absent) | None => {
                return (
                    Outcome::Absent,
                    Some(notice(
                        m.sender,
                        &format!("Message non distribué : « {subject} »"),
                        &format!(
                            "Le message que vous avez envoyé à {} n'a pas pu être distribué, car \
                             cette adresse Mon espace sante n'existe pas.\r\n\r\nMerci de ne pas \
                             répondre à ce message.\r\n",
                            m.recipient
                        ),
                    )),
                );
            }
        }
        let key = (ins, m.sender.to_ascii_lowercase());
        let fin_header = headers
            .as_ref()
            .and_then(|h| h.header_raw("X-MSS-MES"))
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("FIN"));
        // « égal à [FIN] sans autre caractères, en respectant la casse »: the raw subject.
        if subject == "[FIN]" || fin_header {
            lock(&self.ended).insert(key);
            return (Outcome::EndOfExchanges, None);
        }
        lock(&self.ended).remove(&key);
        let ins = key.0.clone();
        lock(&self.received).insert(key);
        let message_id = headers
            .as_ref()
            .and_then(|h| h.message_id())
            .unwrap_or_default()
            .to_owned();
        let notify = headers
            .as_ref()
            .and_then(|h| h.header_raw("Disposition-Notification-To"))
            .and_then(|v| {
                mail_parser::MessageParser::default()
                    .parse_headers(format!("To: {v}\r\n\r\n").as_bytes())
                    .and_then(|h| {
                        h.to()
                            .and_then(|t| t.first())
                            .and_then(|a| a.address().map(str::to_owned))
                    })
            });
        lock(&self.inboxes).entry(ins).or_default().push(Kept {
            from: m.sender.to_ascii_lowercase(),
            message_id,
            subject: subject.clone(),
            received: time::OffsetDateTime::now_utc(),
            notify,
            receipt_sent: false,
        });
        let label = headers
            .as_ref()
            .and_then(|h| h.from())
            .and_then(|f| f.first())
            .map(|a| match (a.name(), a.address()) {
                (Some(name), _) if !name.trim().is_empty() => name.trim().to_owned(),
                (_, Some(address)) => address
                    .split_once('@')
                    .map_or(address, |(local, _)| local)
                    .to_owned(),
                _ => String::new(),
            })
            .unwrap_or_default();
        (Outcome::Delivered { label }, None)
    }
}

fn find<'a>(
    inboxes: &'a mut HashMap<String, Vec<Kept>>,
    ins: &str,
    message_id: &str,
) -> Result<&'a mut Kept, MesError> {
    let wanted = message_id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>');
    inboxes
        .get_mut(ins)
        .and_then(|messages| messages.iter_mut().rev().find(|k| k.message_id == wanted))
        .ok_or_else(|| MesError::UnknownMessage {
            ins: ins.to_owned(),
            message_id: wanted.to_owned(),
        })
}

/// « Jour Mois Heure » (seeds/002): `3 décembre à 14:05`.
fn french_date(t: time::OffsetDateTime) -> String {
    const MONTHS: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    format!(
        "{} {} à {:02}:{:02}",
        t.day(),
        MONTHS[usize::from(u8::from(t.month())) - 1],
        t.hour(),
        t.minute()
    )
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A plain-text notice from « Système ».
fn notice(to: &str, subject: &str, body: &str) -> Vec<u8> {
    MessageBuilder::new()
        .from(SYSTEM)
        .to(to)
        .subject(subject)
        .message_id(format!("{}@{DOMAIN}", uuid::Uuid::new_v4().simple()))
        .header("Auto-Submitted", Raw::new("auto-replied"))
        .text_body(body)
        .write_to_vec()
        .unwrap_or_default()
}

/// The RFC 3464 report of a message over 25 MB.
fn too_large(m: &Incoming<'_>) -> Vec<u8> {
    crate::dsn::failure_report(&crate::dsn::Failure {
        reporting_mta: DOMAIN,
        from: SYSTEM,
        to: m.sender,
        subject: "Undelivered Mail Returned to Sender",
        recipient: m.recipient,
        status: "5.3.4",
        diagnostic: "smtp; 552 5.3.4 Message size exceeds fixed limit (25 Mo)",
        text: &format!(
            "Le message que vous avez envoyé à {} n'a pas pu être distribué : sa taille dépasse \
             la limite de 25 Mo de Mon espace santé.\r\n",
            m.recipient
        ),
        original: m.message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPEN: &str = "278117511504249@patient.mssante.fr";
    const CLOSED: &str = "184036912345658@patient.mssante.fr";
    const ABSENT: &str = "295021305501254@patient.mssante.fr";
    const DR: &str = "marie.martin@operateur-fictif.mssante.fr";

    fn message(subject: &str, extra: &str) -> Vec<u8> {
        format!(
            "From: Dr Marie MARTIN <{DR}>\r\nTo: {OPEN}\r\nSubject: {subject}\r\n{extra}\
             Message-ID: <a@b>\r\n\r\nBonjour\r\n"
        )
        .into_bytes()
    }

    fn receive(mes: &Mes, to: &str, m: &[u8]) -> (Outcome, Option<String>) {
        let (o, back) = mes.receive(&Incoming {
            sender: DR,
            recipient: to,
            message: m,
        });
        (o, back.map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    fn mes() -> Mes {
        Mes::new(&Directory::embedded())
    }

    #[test]
    fn closed_and_absent_spaces_bounce_with_their_wording() {
        let mes = mes();
        let (o, back) = receive(&mes, CLOSED, &message("Résultats", ""));
        assert_eq!(o, Outcome::Closed);
        let back = back.expect("bounce");
        let parsed = mail_parser::MessageParser::default()
            .parse(back.as_bytes())
            .expect("mail");
        assert_eq!(
            parsed.subject(),
            Some("Message non distribué : « Résultats »")
        );
        assert!(parsed.body_text(0).expect("text").contains("est clôturée"));
        let (o, back) = receive(&mes, ABSENT, &message("Résultats", ""));
        assert_eq!(o, Outcome::Absent);
        let back = back.expect("bounce");
        let parsed = mail_parser::MessageParser::default()
            .parse(back.as_bytes())
            .expect("mail");
        assert!(
            parsed
                .body_text(0)
                .expect("text")
                .contains("cette adresse Mon espace sante n'existe pas")
        );
        // An INS nobody has is « Patient non trouvé » too.
        let (o, _) = receive(
            &mes,
            "100000000000000@patient.mssante.fr",
            &message("x", ""),
        );
        assert_eq!(o, Outcome::Absent);
    }

    #[test]
    fn fin_ends_the_exchanges_until_a_new_message() {
        let mes = mes();
        let ins = "278117511504249";
        assert!(!mes.may_reply(ins, DR));
        let (o, _) = receive(&mes, OPEN, &message("Résultats", ""));
        assert_eq!(
            o,
            Outcome::Delivered {
                label: "Dr Marie MARTIN".into()
            }
        );
        assert!(mes.may_reply(ins, DR));
        // Not exactly « [FIN] »: an ordinary message, delivered.
        for subject in ["[fin]", "[FIN] merci", "Re: [FIN]"] {
            let (o, _) = receive(&mes, OPEN, &message(subject, ""));
            assert!(matches!(o, Outcome::Delivered { .. }), "{subject}");
        }
        let (o, back) = receive(&mes, OPEN, &message("[FIN]", ""));
        assert_eq!((o, back), (Outcome::EndOfExchanges, None));
        assert!(!mes.may_reply(ins, DR));
        receive(&mes, OPEN, &message("Nouveau", ""));
        assert!(mes.may_reply(ins, DR));
        let (o, _) = receive(&mes, OPEN, &message("Fin du suivi", "X-MSS-MES: FIN\r\n"));
        assert_eq!(o, Outcome::EndOfExchanges);
        assert!(!mes.may_reply(ins, DR));
    }

    #[test]
    fn the_sender_label_is_the_display_name_else_the_local_part() {
        let mes = mes();
        let bare = format!("From: {DR}\r\nSubject: x\r\n\r\nBonjour\r\n");
        let (o, _) = receive(&mes, OPEN, bare.as_bytes());
        assert_eq!(
            o,
            Outcome::Delivered {
                label: "marie.martin".into()
            }
        );
    }

    #[test]
    fn too_large_messages_and_the_auto_reply_mailbox() {
        let mes = mes();
        let mut big = message("Imagerie", "");
        big.resize(MAX_SIZE + 1, b'a');
        let (o, back) = receive(&mes, OPEN, &big);
        assert_eq!(o, Outcome::TooLarge);
        let back = back.expect("report");
        assert!(back.contains("Subject: Undelivered Mail Returned to Sender"));
        assert!(
            back.contains("report-type=delivery-status")
                || back.contains("report-type=\"delivery-status\"")
        );
        assert!(back.contains("Status: 5.3.4"));
        assert!(back.len() < 64 * 1024, "headers only are returned");
        let (o, back) = receive(&mes, AUTO_REPLY, &message("Test", ""));
        assert_eq!(o, Outcome::AutoReplied);
        let back = back.expect("answer");
        let parsed = mail_parser::MessageParser::default()
            .parse(back.as_bytes())
            .expect("mail");
        assert_eq!(parsed.subject(), Some("Réponse automatique : « Test »"));
    }

    #[test]
    fn the_patient_opens_and_replies() {
        let mes = mes();
        let ins = "278117511504249";
        let asking = message(
            "Compte rendu",
            &format!("Disposition-Notification-To: <{DR}>\r\n"),
        );
        receive(&mes, OPEN, &asking);
        // The read receipt goes once, from the patient's address, to the asked address.
        let receipt = mes.open(ins, "<a@b>").expect("open").expect("receipt");
        assert_eq!(receipt.to, DR);
        let parsed = mail_parser::MessageParser::default()
            .parse(&receipt.message)
            .expect("mail");
        assert_eq!(parsed.subject(), Some("Read-Receipt : « Compte rendu »"));
        assert_eq!(
            parsed
                .from()
                .and_then(|f| f.first())
                .and_then(|a| a.address()),
            Some(OPEN)
        );
        assert!(
            parsed
                .body_text(0)
                .expect("text")
                .contains("a bien été ouvert")
        );
        assert!(mes.open(ins, "a@b").expect("open").is_none(), "once");
        // A reply: Prénom Nom <INS@…>, HTML with its plain part, threaded.
        let reply = mes.reply(ins, "a@b", "Merci docteur").expect("reply");
        assert_eq!(reply.to, DR);
        let parsed = mail_parser::MessageParser::default()
            .parse(&reply.message)
            .expect("mail");
        let from = parsed.from().and_then(|f| f.first()).expect("from");
        assert_eq!(from.name(), Some("Paulette VIAL"));
        assert_eq!(from.address(), Some(OPEN));
        assert_eq!(parsed.in_reply_to().as_text(), Some("a@b"));
        assert!(
            parsed
                .body_text(0)
                .expect("plain")
                .contains("Merci docteur")
        );
        assert!(parsed.body_html(0).expect("html").contains("Merci docteur"));
        // After [FIN], refused; unknown message or patient, said so.
        receive(&mes, OPEN, &message("[FIN]", ""));
        assert_eq!(
            mes.reply(ins, "a@b", "Encore").map(|_| ()),
            Err(MesError::Withdrawn(DR.into()))
        );
        assert!(matches!(
            mes.open(ins, "inconnu@x"),
            Err(MesError::UnknownMessage { .. })
        ));
        assert!(matches!(
            mes.set_state("000", MesState::Closed),
            Err(MesError::UnknownPatient(_))
        ));
        // A space closed afterwards bounces the next message.
        mes.set_state(ins, MesState::Closed).expect("state");
        assert_eq!(receive(&mes, OPEN, &message("x", "")).0, Outcome::Closed);
    }
}
