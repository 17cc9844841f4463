#!/bin/sh
# A self-signed TLS certificate for the room's hub, for when the instructor has no certificate of their own
# (deploy/README.md, "TLS"). Browsers warn once about it; learners accept the warning for this address.
#
#   deploy/jupyterhub/make_cert.sh HOSTNAME_OR_IP CERT_FILE KEY_FILE [DAYS]
#
# The certificate names HOSTNAME_OR_IP, localhost and 127.0.0.1, so the same file serves the room and a check on the
# server itself; it is valid for DAYS days (default 30: one workshop).
set -eu
if [ $# -lt 3 ] || [ $# -gt 4 ]; then
    echo "usage: $0 HOSTNAME_OR_IP CERT_FILE KEY_FILE [DAYS]" >&2
    exit 2
fi
host=$1 cert=$2 key=$3 days=${4:-30}
case $host in
    *[!0-9.]*) names="DNS:$host" ;;  # a name (an IPv4 address has only digits and dots)
    *) names="IP:$host" ;;
esac
[ "$host" = localhost ] || names="$names,DNS:localhost"
[ "$host" = 127.0.0.1 ] || names="$names,IP:127.0.0.1"
mkdir -p "$(dirname "$cert")" "$(dirname "$key")"
umask 077
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days "$days" -subj "/CN=$host" \
    -addext "subjectAltName=$names" -addext "basicConstraints=critical,CA:TRUE" \
    -keyout "$key" -out "$cert" 2>/dev/null
chmod 644 "$cert"
echo "self-signed certificate for $host ($names), valid $days days: $cert"
