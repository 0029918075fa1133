#!/usr/bin/env python3
"""An LPS written with Python's standard library only, speaking the harness's driver contract.

Nobody here wrote its TLS (OpenSSL through `ssl`), SMTP (`smtplib`), IMAP (`imaplib`) or MIME
(`email`) code: the harness must judge it conformant where it is. Unlike the reference client it
authenticates IMAP with the continuation form, composes with `email.message`, and leaves its
IMAP connection open in IDLE after a synchronisation, as real clients do.

    python-lps.py < request.json > answer.json
"""
import email.message
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

request = json.load(sys.stdin)
account = request["account"]
action = request["action"]


def context():
    ctx = ssl.create_default_context(cafile=account["trust"]["root"])
    certificate = account.get("certificate")
    if certificate:
        ctx.load_cert_chain(certificate["chain"], certificate["key"])
    return ctx


def sasl():
    if account.get("psc"):
        token = account["psc"]["accessToken"]
        return "XOAUTH2", "user=%s\x01auth=Bearer %s\x01\x01" % (account["address"], token)
    return "PLAIN", "\0%s\0" % account["address"]


def send(spec):
    message = email.message.EmailMessage()
    message["From"] = email.utils.formataddr((account["displayName"], account["address"]))
    recipients = [a["email"] for a in spec["addresses"]]
    message["To"] = ", ".join(a["email"] for a in spec["addresses"] if a["type"] == "TO")
    message["Subject"] = spec["subject"]
    message["Message-ID"] = email.utils.make_msgid(domain="python-lps.example")
    message["Date"] = email.utils.formatdate(localtime=True)
    message["X-MSS-NIL"] = "PYTHON-LPS/1.0"
    body = spec["body"]
    if account.get("replyTo"):
        message["Reply-To"] = account["replyTo"]
        body += "\n\nMessage généré automatiquement ; pour répondre : %s\n" % account["replyTo"]
    message.set_content(body)
    smtp = smtplib.SMTP()
    smtp.connect(account["smtp"]["address"], account["smtp"]["port"])
    smtp._host = account["smtp"]["host"]  # the name the certificate carries
    smtp.ehlo("python-lps")
    smtp.starttls(context=context())
    smtp.ehlo("python-lps")
    mechanism, response = sasl()
    smtp.auth(mechanism, lambda challenge=None: response, initial_response_ok=True)
    smtp.send_message(message, from_addr=account["address"], to_addrs=recipients)
    smtp.quit()
    return {"messageId": message["Message-ID"].strip("<>")}


def sync():
    imap = imaplib.IMAP4(account["imap"]["address"], account["imap"]["port"])
    imap.host = account["imap"]["host"]  # the name the certificate carries
    imap.starttls(ssl_context=context())
    mechanism, response = sasl()
    imap.authenticate(mechanism, lambda challenge: response.encode())
    imap.select("INBOX")
    _, data = imap.uid("SEARCH", None, "ALL")
    listed = []
    for uid in data[0].split():
        _, parts = imap.uid("FETCH", uid, "(BODY.PEEK[HEADER])")
        headers = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(parts[0][1])
        listed.append({
            "messageId": (headers.get("Message-ID") or "").strip("<>") or None,
            "subject": headers.get("Subject"),
            "from": headers.get("From"),
        })
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


try:
    if action == "configure":
        answer = {}
    elif action == "send":
        answer = send(request["message"])
    elif action == "sync":
        answer = sync()
    else:
        sys.exit(3)
except Exception as e:  # the contract: exit 1 with the reason
    print(json.dumps({"error": "%s: %s" % (type(e).__name__, e)}))
    sys.exit(1)
print(json.dumps(answer))
