#!/usr/bin/env bash
# Lays out and starts Dovecot (IMAP 30143) and Postfix (submission 30587) under ROOT with the
# operator's certificates and the fake Pro Santé Connect's key; `setup.sh ROOT stop` stops them.
# Needs root (the peers drop to their own users) and Debian's postfix and dovecot-imapd.
set -euo pipefail
root=$1
here=$(cd "$(dirname "$0")" && pwd)
certs=${MSS_CERTS_DIR:-$here/../../../../certs}
if [ "${2:-}" = stop ]; then
  doveadm -c "$root/dovecot/dovecot.conf" stop 2>/dev/null || true
  postfix -c "$root/postfix/etc" stop 2>/dev/null || true
  exit 0
fi
mkdir -p "$root"/tls "$root"/dovecot/{run,state,mail,keys/bench/RS256} "$root"/postfix/{etc,queue,data,mail}
cat "$certs/operateur-serveur.crt.pem" "$certs/ac-elementaire-organisations.crt.pem" > "$root/tls/chain.pem"
install -m 600 "$certs/operateur-serveur.key.pem" "$root/tls/key.pem"
openssl pkey -in "$certs/psc-signature.key.pem" -pubout > "$root/dovecot/keys/bench/RS256/psc-fictif-1"
for f in dovecot.conf oauth2.conf.ext; do sed "s|@ROOT@|$root|g" "$here/$f" > "$root/dovecot/$f"; done
for f in main.cf master.cf; do sed "s|@ROOT@|$root|g" "$here/$f" > "$root/postfix/etc/$f"; done
chown -R mail:mail "$root/dovecot/mail" "$root/postfix/mail"
chown -R postfix:postfix "$root/postfix/data"
chmod 755 "$root" "$root/dovecot" "$root/postfix"
postfix -c "$root/postfix/etc" check
dovecot -c "$root/dovecot/dovecot.conf"
postfix -c "$root/postfix/etc" start
