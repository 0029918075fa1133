//! A small authoritative DNS responder (UDP) for the operator's own names, so a system under
//! test can find `autoconfig.<domain>` and the entry points without editing `/etc/hosts`:
//! point its resolver at the operator and every other name is refused.
//!
//! Messages are read and written with `hickory-proto`.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA};
use hickory_proto::rr::{RData, Record, RecordType};
use tokio::net::UdpSocket;
use tokio::sync::watch;

use crate::journal::EventKind;
use crate::server::Shared;

/// The names the responder answers, lower case without the final dot.
#[derive(Debug, Clone, Default)]
pub(crate) struct Names {
    addresses: HashMap<String, IpAddr>,
    domain: String,
}

fn reachable(addr: SocketAddr) -> IpAddr {
    if addr.ip().is_unspecified() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        addr.ip()
    }
}

impl Names {
    /// The operator's names and the addresses they must resolve to.
    pub(crate) fn of(shared: &Shared, psc: SocketAddr, app: SocketAddr) -> Self {
        let op = &shared.directory.operator;
        let (psc, app) = (reachable(psc), reachable(app));
        let mut addresses = HashMap::new();
        for name in [
            op.psc_host.clone(),
            op.autoconfig_host.clone(),
            format!("psc.{}", op.domain),
            format!("crl.{}", op.domain),
            format!("ocsp.{}", op.domain),
        ] {
            addresses.insert(name.to_ascii_lowercase(), psc);
        }
        addresses.insert(op.authcli_host.to_ascii_lowercase(), app);
        Names {
            addresses,
            domain: op.domain.to_ascii_lowercase(),
        }
    }
}

/// What one query asked and got, for the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Asked {
    pub name: String,
    pub record_type: String,
    pub answer: Option<IpAddr>,
}

/// Answers one DNS message; `None` when it is not a query worth answering.
pub(crate) fn answer(request: &[u8], names: &Names) -> Option<(Vec<u8>, Vec<Asked>)> {
    let request = Message::from_vec(request).ok()?;
    if request.message_type() != MessageType::Query {
        return None;
    }
    let mut response = Message::new();
    response
        .set_id(request.id())
        .set_message_type(MessageType::Response)
        .set_op_code(request.op_code())
        .set_recursion_desired(request.recursion_desired())
        .set_authoritative(true);
    if request.op_code() != OpCode::Query {
        response.set_response_code(ResponseCode::NotImp);
        return response.to_vec().ok().map(|v| (v, Vec::new()));
    }
    let mut asked = Vec::new();
    let mut code = ResponseCode::NoError;
    for query in request.queries() {
        response.add_query(query.clone());
        let name = query.name().to_ascii();
        let key = name.trim_end_matches('.').to_ascii_lowercase();
        let known = names.addresses.get(&key).copied();
        let mut answered = None;
        match (known, query.query_type()) {
            (Some(IpAddr::V4(ip)), RecordType::A) => {
                response.add_answer(Record::from_rdata(
                    query.name().clone(),
                    60,
                    RData::A(A(ip)),
                ));
                answered = Some(IpAddr::V4(ip));
            }
            (Some(IpAddr::V6(ip)), RecordType::AAAA) => {
                response.add_answer(Record::from_rdata(
                    query.name().clone(),
                    60,
                    RData::AAAA(AAAA(ip)),
                ));
                answered = Some(IpAddr::V6(ip));
            }
            // A known name without a record of that type: an empty answer.
            (Some(_), _) => {}
            (None, _) if key == names.domain || key.ends_with(&format!(".{}", names.domain)) => {
                code = ResponseCode::NXDomain;
            }
            (None, _) => code = ResponseCode::Refused,
        }
        asked.push(Asked {
            name: key,
            record_type: query.query_type().to_string(),
            answer: answered,
        });
    }
    response.set_response_code(code);
    response.to_vec().ok().map(|v| (v, asked))
}

/// Serves DNS on a UDP socket until shutdown.
pub(crate) async fn serve(
    socket: UdpSocket,
    shared: Arc<Shared>,
    names: Names,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut buf = vec![0u8; 4096];
    loop {
        let received = tokio::select! {
            _ = shutdown.changed() => break,
            r = socket.recv_from(&mut buf) => r,
        };
        let Ok((n, peer)) = received else {
            continue;
        };
        let Some((reply, asked)) = answer(&buf[..n], &names) else {
            continue;
        };
        for a in asked {
            shared.journal.record(
                None,
                EventKind::DnsQuery {
                    peer,
                    name: a.name,
                    record_type: a.record_type,
                    answer: a.answer,
                },
            );
        }
        let _ = socket.send_to(&reply, peer).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::Query;
    use hickory_proto::rr::Name;

    fn names() -> Names {
        let mut addresses = HashMap::new();
        addresses.insert(
            "autoconfig.op.mssante.fr".to_owned(),
            IpAddr::from([127, 0, 0, 1]),
        );
        Names {
            addresses,
            domain: "op.mssante.fr".into(),
        }
    }

    fn ask(name: &str, t: RecordType) -> Message {
        let mut m = Message::new();
        m.set_id(7).set_message_type(MessageType::Query);
        m.add_query(Query::query(Name::from_ascii(name).expect("name"), t));
        let (reply, _) = answer(&m.to_vec().expect("encode"), &names()).expect("answer");
        Message::from_vec(&reply).expect("decode")
    }

    #[test]
    fn answers_its_names_and_only_them() {
        let r = ask("AutoConfig.op.mssante.fr.", RecordType::A);
        assert_eq!(r.id(), 7);
        assert_eq!(r.response_code(), ResponseCode::NoError);
        assert_eq!(r.answers().len(), 1);
        assert_eq!(
            ask("autoconfig.op.mssante.fr.", RecordType::AAAA)
                .answers()
                .len(),
            0
        );
        assert_eq!(
            ask("x.op.mssante.fr.", RecordType::A).response_code(),
            ResponseCode::NXDomain
        );
        assert_eq!(
            ask("example.com.", RecordType::A).response_code(),
            ResponseCode::Refused
        );
    }

    #[test]
    fn garbage_is_ignored() {
        assert!(answer(b"", &names()).is_none());
        assert!(answer(b"\x00\x01garbage", &names()).is_none());
    }
}
