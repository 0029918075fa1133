#!/usr/bin/env python3
"""An LPS written with Python's standard library only, speaking the harness's driver contract.

Nobody here wrote its TLS (OpenSSL through `ssl`), SMTP (`smtplib`), IMAP (`imaplib`) or MIME
(`email`) code: the harness must judge it conformant where it is. Unlike the reference client it
authenticates with the SASL continuation form (SMTP and IMAP), composes with `email.message`, and leaves its
IMAP connection open in IDLE after a synchronisation, as real clients do. It replies (In-Reply-To,
References), displays a message with the RFC 8098 read receipt it asks for (built with
`email.message`, its own MIME layout), lists its INBOX (patients told apart, documents filed
under the patient of their METADATA.XML, read with `zipfile` and `xml.etree`), and writes to
patients from a qualified INS only.

    python-lps.py < request.json > answer.json     # one action (command driver)
    python-lps.py serve                            # the contract over HTTP (HTTP driver)

Served over HTTP it is a long-lived process that keeps one IMAP connection per BAL open from
one synchronisation to the next (and so from one scenario to the next), as a desktop client
does.

Revocation (ECO.1.1.6) is checked with the CRL files an administrator installed (the contract's
`trust.crls`), not downloaded: OpenSSL's CRL check of the server's certificate. Autoconfiguration
(ECO.1.1.9) reads the document over HTTPS with the same TLS context and `xml.etree`.
"""
import email.message
import io
import socket
import zipfile
import xml.etree.ElementTree as ElementTree
import email.parser
import email.policy
import email.utils
import imaplib
import json
import os
import smtplib
import ssl
import sys
import time

IDLE_SECONDS = 15

def context(account):
    # ECO.1.1.10: servers issued by the Elementaire Organisations CA only, so that CA is the
    # trust anchor (a partial chain), not the root every range of the IGC Santé shares.
    ctx = ssl.create_default_context(cafile=account["trust"]["organisations"])
    ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    # ECO.1.1.1 and 1.1.3: TLS 1.2 at least, and only the allowed TLS 1.2 suites (OpenSSL
    # offers CHACHA20 and CBC suites by default; TLS 1.3 suites are configured apart).
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers("ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:"
                    "ECDHE-RSA-AES256-SHA384:ECDHE-RSA-AES128-SHA256:"
                    "DHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256")
    # ECO.1.1.6: the operator's certificate is checked against the installed CRLs.
    for crl in account["trust"].get("crls") or []:
        ctx.load_verify_locations(cafile=crl)
    ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    # An LPS that implements fewer of the allowed suites (e.g. DHE only, TLS 1.2 only) is
    # conformant too: PYTHON_LPS_TLS12_CIPHERS narrows the list and caps the version.
    narrowed = os.environ.get("PYTHON_LPS_TLS12_CIPHERS")
    if narrowed:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers(narrowed)
    certificate = account.get("certificate")
    if certificate:
        ctx.load_cert_chain(certificate["chain"], certificate["key"])
    return ctx


def resolve(account, host, port):
    """The bench's host names (the contract's connectTo), else the system's resolver."""
    for entry in account.get("connectTo") or []:
        if entry["host"] == host and entry.get("port") in (None, port):
            return entry["address"], entry.get("toPort") or port
    return host, port


def autoconfigure(account):
    """ECO.1.1.9: the servers of the BAL's family from https://autoconfig.<domain>/..."""
    domain = account["address"].rsplit("@", 1)[1].lower()
    host = "autoconfig." + domain
    address, port = resolve(account, host, 443)
    plain = socket.create_connection((address, port), timeout=10)
    tls = ssl.create_default_context(cafile=account["trust"]["organisations"])
    tls.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    with tls.wrap_socket(plain, server_hostname=host) as sock:
        sock.sendall(("GET /mail/config-v1.1.xml HTTP/1.1\r\nHost: %s\r\n"
                      "Connection: close\r\n\r\n" % host).encode())
        answer = b""
        while len(answer) < 65536:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError("autoconfiguration: %s" % head.split(b"\r\n")[0].decode())
    if b"chunked" in head.lower():
        raise RuntimeError("autoconfiguration: chunked answer not supported")
    root = ElementTree.fromstring(body)
    wanted = "TLS-client-cert" if account.get("certificate") else "OAuth2"
    servers = {}
    for tag, kind in (("incomingServer", "imap"), ("outgoingServer", "smtp")):
        for server in root.iter(tag):
            if server.get("type") == kind and server.findtext("authentication") == wanted \
                    and server.findtext("socketType") == "STARTTLS":
                name, number = server.findtext("hostname"), int(server.findtext("port"))
                address, number = resolve(account, name, number)
                servers[kind] = {"host": name, "port": number, "address": address}
                break
        else:
            raise RuntimeError("autoconfiguration: no %s server for %s" % (kind, wanted))
    account = dict(account)
    account.update(servers)
    return account


def test_connection(account):
    smtp = smtplib.SMTP()
    smtp.connect(account["smtp"]["address"], account["smtp"]["port"])
    smtp._host = account["smtp"]["host"]
    smtp.ehlo("python-lps")
    smtp.starttls(context=context(account))
    smtp.ehlo("python-lps")
    mechanism, response = sasl(account)
    # The continuation form (`AUTH XOAUTH2`, then the response after `334`), where the
    # reference client sends the initial response: ECO.1.2.1 accepts both.
    smtp.auth(mechanism, lambda challenge=None: response, initial_response_ok=False)
    smtp.quit()
    connect(account).logout()


def sasl(account):
    if account.get("psc"):
        token = account["psc"]["accessToken"]
        return "XOAUTH2", "user=%s\x01auth=Bearer %s\x01\x01" % (account["address"], token)
    return "PLAIN", "\0%s\0" % account["address"]


def new_message(account):
    """A new message from the account's BAL: its own Message-ID, date and product reference."""
    message = email.message.EmailMessage()
    message["From"] = email.utils.formataddr((account["displayName"], account["address"]))
    message["Message-ID"] = email.utils.make_msgid(domain="python-lps.example")
    message["Date"] = email.utils.formatdate(localtime=True)
    message["X-MSS-NIL"] = "PYTHON-LPS/1.0"
    return message


def send(account, spec):
    message = new_message(account)
    recipients = [a["email"] for a in spec["addresses"]]
    message["To"] = ", ".join(a["email"] for a in spec["addresses"] if a["type"] == "TO")
    message["Subject"] = spec["subject"]
    # What the user asked for: receipts (ECO.2.3.x), the end of the exchanges (ECO.2.2.8).
    if spec.get("requestDsn"):
        message["Return-Receipt-To"] = "<%s>" % account["address"]
    if spec.get("requestMdn"):
        message["Disposition-Notification-To"] = "<%s>" % account["address"]
    if spec.get("endExchanges"):
        message["X-MSS-MES"] = "FIN"
    body = spec["body"]
    if account.get("replyTo"):
        message["Reply-To"] = account["replyTo"]
        body += "\n\nMessage généré automatiquement ; pour répondre : %s\n" % account["replyTo"]
    message.set_content(body)
    return submit(account, message, recipients)


def submit(account, message, recipients):
    smtp = smtplib.SMTP()
    smtp.connect(account["smtp"]["address"], account["smtp"]["port"])
    smtp._host = account["smtp"]["host"]  # the name the certificate carries
    smtp.ehlo("python-lps")
    smtp.starttls(context=context(account))
    smtp.ehlo("python-lps")
    mechanism, response = sasl(account)
    # The continuation form (`AUTH XOAUTH2`, then the response after `334`), where the
    # reference client sends the initial response: ECO.1.2.1 accepts both.
    smtp.auth(mechanism, lambda challenge=None: response, initial_response_ok=False)
    smtp.send_message(message, from_addr=account["address"], to_addrs=recipients)
    smtp.quit()
    return {"messageId": message["Message-ID"].strip("<>")}


OPEN = {}  # BAL -> IMAP connection kept open (served mode)


def connect(account):
    imap = imaplib.IMAP4(account["imap"]["address"], account["imap"]["port"])
    imap.host = account["imap"]["host"]  # the name the certificate carries
    imap.starttls(ssl_context=context(account))
    mechanism, response = sasl(account)
    imap.authenticate(mechanism, lambda challenge: response.encode())
    return imap


def session(account, keep):
    """An authenticated IMAP connection: served, the BAL's open one while it answers."""
    imap = OPEN.get(account["address"]) if keep else None
    if imap is not None:
        try:
            imap.noop()
        except Exception:
            imap = None
    if imap is None:
        imap = connect(account)
        if keep:
            OPEN[account["address"]] = imap
    return imap


def inbox(imap):
    """The UIDs of the INBOX, selected."""
    imap.select("INBOX")
    _, data = imap.uid("SEARCH", None, "ALL")
    return data[0].split()


def sync(account, keep):
    imap = session(account, keep)
    listed = []
    for uid in inbox(imap):
        _, parts = imap.uid("FETCH", uid, "(BODY.PEEK[HEADER])")
        headers = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(parts[0][1])
        listed.append({
            "messageId": (headers.get("Message-ID") or "").strip("<>") or None,
            "subject": headers.get("Subject"),
            "from": headers.get("From"),
        })
    if keep:
        return {"messages": listed}
    # Stay connected in IDLE in a child that outlives the action (its output closed, so the
    # harness sees the answer end now).
    if os.fork() == 0:
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        imap.send(b"%s IDLE\r\n" % imap._new_tag())
        time.sleep(IDLE_SECONDS)
        os._exit(0)
    return {"messages": listed}


def fetch(account, message_id, keep):
    """The raw message of the INBOX whose Message-ID is `message_id` (without brackets), as the
    user opens it (which marks it read)."""
    imap = session(account, keep)
    for uid in inbox(imap):
        _, parts = imap.uid("FETCH", uid, "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        headers = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(parts[0][1])
        if (headers.get("Message-ID") or "").strip().strip("<>") == message_id:
            _, parts = imap.uid("FETCH", uid, "(BODY[])")
            if not keep:
                imap.logout()
            return email.parser.BytesParser(policy=email.policy.default).parsebytes(parts[0][1])
    raise LookupError("message <%s> absent de la boîte de réception" % message_id)


def reply(account, request, keep):
    """A reply (RFC 5322 §3.6.4): In-Reply-To the original's Message-ID, References its
    References followed by its Message-ID, to its Reply-To or else its sender."""
    original = fetch(account, request["messageId"], keep)
    parent = original["Message-ID"].strip()
    message = new_message(account)
    to = email.utils.getaddresses([original.get("Reply-To") or original.get("From") or ""])
    recipients = [address for _, address in to if address]
    message["To"] = ", ".join(recipients)
    subject = original.get("Subject") or ""
    message["Subject"] = subject if subject.lower().startswith("re:") else "RE: " + subject
    message["In-Reply-To"] = parent
    message["References"] = " ".join((original.get("References") or "").split() + [parent])
    message.set_content(request["text"])
    return submit(account, message, recipients)


def open_message(account, request, keep):
    """Displays a message; sends the RFC 8098 read receipt it asks for."""
    original = fetch(account, request["messageId"], keep)
    asked = original.get("Disposition-Notification-To")
    if not asked:
        return {}
    to = [address for _, address in email.utils.getaddresses([asked]) if address]
    receipt = new_message(account)
    receipt["To"] = ", ".join(to)
    receipt["Subject"] = "Accusé de lecture : %s" % (original.get("Subject") or "")
    receipt.set_content("Votre message a été affiché par %s." % account["address"])
    report = email.message.EmailMessage()
    report.set_type("message/disposition-notification")
    report.set_payload(
        "Reporting-UA: python-lps; PYTHON-LPS/1.0\r\n"
        "Final-Recipient: rfc822;%s\r\n"
        "Original-Message-ID: %s\r\n"
        "Disposition: manual-action/MDN-sent-manually; displayed\r\n"
        % (account["address"], original["Message-ID"].strip())
    )
    receipt.make_mixed()
    receipt.attach(report)
    receipt.set_type("multipart/report")
    receipt.set_param("report-type", "disposition-notification")
    submit(account, receipt, to)
    return {}


PATIENT_DOMAIN = "patient.mssante.fr"
XDM_PREFIX = "XDM/1.0/DDM+"
# XDSSubmissionSet.patientId, XDSDocumentEntry.patientId.
PATIENT_ID_SCHEMES = (
    "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446",
    "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427",
)


def xdm_patient(message):
    """The patient (INS) the METADATA.XML of the message's IHE_XDM.ZIP names, if any."""
    for part in message.iter_attachments():
        if not (part.get_filename() or "").upper().endswith(".ZIP"):
            continue
        try:
            archive = zipfile.ZipFile(io.BytesIO(part.get_payload(decode=True)))
        except zipfile.BadZipFile:
            continue
        for name in archive.namelist():
            if not name.upper().endswith("METADATA.XML"):
                continue
            root = ElementTree.fromstring(archive.read(name))
            for scheme in PATIENT_ID_SCHEMES:
                for element in root.iter():
                    if element.tag.endswith("ExternalIdentifier") and element.get("identificationScheme") == scheme:
                        return element.get("value", "").split("^")[0].strip() or None
    return None


def list_inbox(account, keep):
    """The INBOX as the user sees it: patients told from professionals, with their birth name,
    first name and INS; the XDM prefix hidden; documents filed under their patient."""
    imap = session(account, keep)
    listed = []
    for uid in inbox(imap):
        _, parts = imap.uid("FETCH", uid, "(BODY.PEEK[])")
        message = email.parser.BytesParser(policy=email.policy.default).parsebytes(parts[0][1])
        name, address = email.utils.parseaddr(str(message.get("From") or ""))
        domain = address.rpartition("@")[2].lower()
        from_patient = domain == PATIENT_DOMAIN or domain.endswith("." + PATIENT_DOMAIN)
        subject = str(message.get("Subject") or "")
        if subject.startswith(XDM_PREFIX):
            subject = subject[len(XDM_PREFIX):]
        entry = {
            "messageId": (message.get("Message-ID") or "").strip().strip("<>") or None,
            "subject": subject,
            "from": email.utils.formataddr((name, address)),
            "senderKind": "patient" if from_patient else "professional",
            "filedUnder": xdm_patient(message),
        }
        if from_patient:
            # Mon espace santé writes `Prénom Nom <INS@patient.mssante.fr>`.
            first, _, birth = name.strip().partition(" ")
            entry["patient"] = {
                "birthName": birth.strip().upper() if birth else first.upper(),
                "firstName": first if birth else "",
                "ins": address.partition("@")[0],
            }
        listed.append(entry)
    if not keep:
        imap.logout()
    return {"messages": listed}


def ins_key(nir13):
    """The control key of a NIR (Corsica's 2A/2B counted as 19/18)."""
    nir13 = nir13.upper()
    digits = nir13[:5] + {"2A": "19", "2B": "18"}.get(nir13[5:7], nir13[5:7]) + nir13[7:]
    return 97 - int(digits) % 97


def write_to_patient(account, request):
    """Writes to a patient of the user's files: the address is the qualified INS only."""
    patient = request["patient"]
    ins = patient["ins"].strip().upper()
    if not patient.get("qualified"):
        raise ValueError("identité de l'usager non qualifiée : pas d'adresse MSSanté")
    if len(ins) != 15 or not ins[13:].isdigit() or int(ins[13:]) != ins_key(ins[:13]):
        raise ValueError("INS %s invalide (clé de contrôle)" % ins)
    address = "%s@patient.mssante.fr" % ins
    message = new_message(account)
    name = " ".join(patient.get("firstNames", [])[:1] + [patient.get("birthName", "")]).strip()
    message["To"] = email.utils.formataddr((name, address))
    message["Subject"] = "Votre rendez-vous"
    message.set_content("Bonjour,\n\nVotre compte rendu est disponible.\n")
    return submit(account, message, [address])


class Unsupported(Exception):
    pass


def handle(request, keep):
    account = request["account"]
    action = request["action"]
    autoconfigured = not account.get("smtp") or not account.get("imap")
    if autoconfigured:
        account = autoconfigure(account)
    if action == "configure":
        if autoconfigured:
            test_connection(account)
        return {}
    if action == "send":
        return send(account, request["message"])
    if action == "sync":
        return sync(account, keep)
    if action == "reply":
        return reply(account, request, keep)
    if action == "open":
        return open_message(account, request, keep)
    if action == "write_to_patient":
        return write_to_patient(account, request)
    if action == "list_inbox":
        return list_inbox(account, keep)
    raise Unsupported(action)


def serve():
    import http.server

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                request = json.loads(body)
                request["action"] = self.path.strip("/")
            except (ValueError, AttributeError, TypeError) as e:
                request, status, answer = None, 400, {"error": "requête invalide : %s" % e}
            if request is not None:
                try:
                    status, answer = 200, handle(request, keep=True)
                except Unsupported as e:
                    status, answer = 501, {"error": "action %s non prise en charge" % e}
                except KeyError as e:
                    status, answer = 400, {"error": "requête invalide : champ %s absent" % e}
                except Exception as e:
                    # Tried and failed (an ssl.SSLCertVerificationError is a ValueError too).
                    status, answer = 422, {"error": "%s: %s" % (type(e).__name__, e)}
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    print("http://127.0.0.1:%d" % server.server_address[1], flush=True)
    server.serve_forever()


if len(sys.argv) > 1 and sys.argv[1] == "serve":
    serve()
    sys.exit(0)
try:
    answer = handle(json.load(sys.stdin), keep=False)
except Unsupported:
    sys.exit(3)
except Exception as e:  # the contract: exit 1 with the reason
    print(json.dumps({"error": "%s: %s" % (type(e).__name__, e)}))
    sys.exit(1)
print(json.dumps(answer))
