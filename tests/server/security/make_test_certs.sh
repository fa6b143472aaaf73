#!/bin/sh
# make_test_certs.sh DIR: throw-away certificates for the TLS tests, made with
# Debian's openssl CLI at test time (nothing secret is committed). Valid 2 days.
#   ca.pem / ca.key            the test CA
#   server.pem / server.key    signed by ca; SAN localhost, 127.0.0.1
#   client.pem / client.key    signed by ca (mutual TLS)
#   other_ca.pem / .key        an unrelated CA
#   other_client.pem / .key    signed by other_ca (a client the server must refuse)
#   mismatched.key             a key that belongs to no certificate here
# Exit 77 (a CTest skip) without openssl.
set -eu
command -v openssl >/dev/null 2>&1 || { echo "no openssl CLI" >&2; exit 77; }
dir=$1
mkdir -p "$dir"
cd "$dir"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca() {  # ca NAME CN
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -out "$1.pem" -days 2 -subj "/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
}
leaf() {  # leaf NAME CA USAGE SERIAL
  key "$1.key"
  openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=$1"
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n' \
    "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -set_serial "$4" -days 2 \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
ca ca "gqa test CA"
ca other_ca "gqa other CA"
leaf server ca serverAuth 1
leaf client ca clientAuth 2
leaf other_client other_ca clientAuth 3
key mismatched.key
