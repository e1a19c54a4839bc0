#!/bin/sh
# mkpki.sh OUTDIR: generates the test PKI of dtlsgw with GnuTLS certtool.
#
#   ca.pem ca.der ca.key                 root CA (RSA-2048)
#   int.pem int.der int.key              intermediate CA (RSA-2048), signed by the root
#   server-ec.{pem,der,key}              P-256, CN/DNS gw.test, IP 127.0.0.1 and ::1, TLS server
#     server-ec.key.der                  its key as PKCS#8 DER
#     server-ec.sec1.der                 its key as SEC1 DER
#     server-ec.p8.pem                   its key as PKCS#8 PEM
#   server-rsa.{pem,der,key}             RSA-2048, digitalSignature+keyEncipherment, same names
#     server-rsa.key.der                 its key as PKCS#1 DER
#     server-rsa.p8.pem server-rsa.p8.der its key as PKCS#8 PEM and DER
#   server-ec384.{pem,der,key}           P-384, same names
#   client.{pem,der,key}                 P-256, CN/DNS client1.gw.test, TLS client
#   client-rsa.{pem,der,key}             RSA-2048, CN/DNS client-rsa.gw.test, TLS client
#   server-expired.{pem,key}             like server-ec, valid 2023-01-01 .. 2024-01-01
#   server-wrong.{pem,key}               like server-ec, but CN/DNS wrong.test
#   server-soon.{pem,key}                like server-ec, but expires 10 days from now
#   other-ca.{pem,key}                   an unrelated root CA
#   server-unknown.{pem,key}             like server-ec, signed by other-ca
#   client-other.{pem,key}               like client (CN/DNS client1.gw.test), signed by other-ca
#   client-rsa-nosig.{pem,der,key}       RSA-2048, CN/DNS client-nosig.gw.test, TLS client, key usage
#                                        keyEncipherment only (no digitalSignature)
#   client-rsa-noku.{pem,der,key}        RSA-2048, CN/DNS client-noku.gw.test, TLS client, no key
#                                        usage extension at all
#   server-rsa-encrypt.{pem,der,key}     RSA-2048, like server-rsa but keyEncipherment only
#   client-names.{pem,der,key}           P-256, TLS client, CN names-cn.gw.test, DNS names-dns.gw.test,
#                                        IP 192.0.2.7, e-mail ops@gw.test, URI https://gw.test/names
#   client-2cn.{pem,der,key}             P-256, TLS client, two CNs (one.gw.test, two.gw.test)
#   NAME-chain.pem                       leaf followed by int.pem, for every leaf signed by int
#
# Keys are made once and kept; certificates are issued again on every run. Leaves
# are valid from a day back (clock skew) for ten years, CAs for twenty. Prints
# nothing but errors.
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi
out=$1
mkdir -p "$out"
cd "$out"

export TZ=UTC LC_ALL=C
log=$(mktemp "${TMPDIR:-/tmp}/mkpki.XXXXXX")
tmpl=$(mktemp "${TMPDIR:-/tmp}/mkpki-tmpl.XXXXXX")
trap 'rm -f "$log" "$tmpl"' EXIT

# Serialise concurrent runs into the same directory.
if command -v flock >/dev/null 2>&1; then
	exec 9>.mkpki.lock
	flock 9
fi

run() {
	if ! "$@" >>"$log" 2>&1; then
		cat "$log" >&2
		echo "mkpki.sh: failed: $*" >&2
		exit 1
	fi
}

start=$(date -u -d '1 day ago' '+%Y-%m-%d %H:%M:%S')
end_leaf=$(date -u -d '10 years' '+%Y-%m-%d %H:%M:%S')
end_ca=$(date -u -d '20 years' '+%Y-%m-%d %H:%M:%S')

# key NAME rsa|p256|p384: makes NAME.key (PKCS#1 / SEC1 PEM) unless it exists.
key() {
	[ -s "$1.key" ] && return 0
	case $2 in
	rsa) run certtool -p --key-type rsa --bits 2048 --no-text --outfile "$1.key.tmp" ;;
	p256) run certtool -p --key-type ecdsa --curve secp256r1 --no-text --outfile "$1.key.tmp" ;;
	p384) run certtool -p --key-type ecdsa --curve secp384r1 --no-text --outfile "$1.key.tmp" ;;
	esac
	mv "$1.key.tmp" "$1.key"
}

# cert NAME ISSUER|self: issues NAME.pem and NAME.der from NAME.key and $tmpl.
cert() {
	if [ "$2" = self ]; then
		run certtool --generate-self-signed --load-privkey "$1.key" \
			--template "$tmpl" --no-text --outfile "$1.pem"
	else
		run certtool --generate-certificate --load-privkey "$1.key" \
			--load-ca-certificate "$2.pem" --load-ca-privkey "$2.key" \
			--template "$tmpl" --no-text --outfile "$1.pem"
	fi
	run certtool --certificate-info --infile "$1.pem" --outder --outfile "$1.der"
}

ca_tmpl() { # CN
	cat >"$tmpl" <<-T
	cn = "$1"
	organization = "dtlsgw test"
	ca
	cert_signing_key
	crl_signing_key
	activation_date = "$start"
	expiration_date = "$end_ca"
	T
}

# leaf_tmpl CN server|client [encryption|encryption-only|no-usage] [ACTIVATION EXPIRATION]
# (certtool gives an EC key digitalSignature whatever the template says; an RSA key
# gets the key usage bits the template names, and no extension when it names none)
leaf_tmpl() {
	{
		echo "cn = \"$1\""
		echo "organization = \"dtlsgw test\""
		echo "dns_name = \"$1\""
		if [ "$2" = server ]; then
			echo 'ip_address = "127.0.0.1"'
			echo 'ip_address = "::1"'
			echo 'tls_www_server'
		else
			echo 'tls_www_client'
		fi
		case ${3:-} in
		encryption) echo 'signing_key'; echo 'encryption_key' ;;
		encryption-only) echo 'encryption_key' ;;
		no-usage) ;;
		*) echo 'signing_key' ;;
		esac
		echo "activation_date = \"${4:-$start}\""
		echo "expiration_date = \"${5:-$end_leaf}\""
	} >"$tmpl"
}

chain() { cat "$1.pem" int.pem >"$1-chain.pem"; }

key ca rsa
ca_tmpl "dtlsgw Test Root CA"
cert ca self

key int rsa
ca_tmpl "dtlsgw Test Intermediate CA"
cert int ca

key other-ca p256
ca_tmpl "dtlsgw Other CA"
cert other-ca self

key server-ec p256
leaf_tmpl gw.test server
cert server-ec int
chain server-ec
run certtool --to-p8 --load-privkey server-ec.key --password= --outder --outfile server-ec.key.der
run certtool --to-p8 --load-privkey server-ec.key --password= --no-text --outfile server-ec.p8.pem
run certtool -k --infile server-ec.key --outder --outfile server-ec.sec1.der

key server-rsa rsa
leaf_tmpl gw.test server encryption
cert server-rsa int
chain server-rsa
run certtool -k --infile server-rsa.key --outder --outfile server-rsa.key.der
run certtool --to-p8 --load-privkey server-rsa.key --password= --no-text --outfile server-rsa.p8.pem
run certtool --to-p8 --load-privkey server-rsa.key --password= --outder --outfile server-rsa.p8.der

key server-ec384 p384
leaf_tmpl gw.test server
cert server-ec384 int
chain server-ec384

key client p256
leaf_tmpl client1.gw.test client
cert client int
chain client

key client-rsa rsa
leaf_tmpl client-rsa.gw.test client
cert client-rsa int
chain client-rsa

key server-expired p256
leaf_tmpl gw.test server "" "2023-01-01 00:00:00" "2024-01-01 00:00:00"
cert server-expired int
chain server-expired

key server-soon p256
leaf_tmpl gw.test server "" "$start" "$(date -u -d '10 days' '+%Y-%m-%d %H:%M:%S')"
cert server-soon int
chain server-soon

key server-wrong p256
leaf_tmpl wrong.test server
cert server-wrong int
chain server-wrong

key server-unknown p256
leaf_tmpl gw.test server
cert server-unknown other-ca

key client-other p256
leaf_tmpl client1.gw.test client
cert client-other other-ca

key client-rsa-nosig rsa
leaf_tmpl client-nosig.gw.test client encryption-only
cert client-rsa-nosig int
chain client-rsa-nosig

key client-rsa-noku rsa
leaf_tmpl client-noku.gw.test client no-usage
cert client-rsa-noku int
chain client-rsa-noku

key server-rsa-encrypt rsa
leaf_tmpl gw.test server encryption-only
cert server-rsa-encrypt int
chain server-rsa-encrypt

key client-names p256
cat >"$tmpl" <<-T
cn = "names-cn.gw.test"
organization = "dtlsgw test"
dns_name = "names-dns.gw.test"
ip_address = "192.0.2.7"
email = "ops@gw.test"
uri = "https://gw.test/names"
tls_www_client
signing_key
activation_date = "$start"
expiration_date = "$end_leaf"
T
cert client-names int
chain client-names

key client-2cn p256
cat >"$tmpl" <<-T
dn = "CN=two.gw.test,CN=one.gw.test,O=dtlsgw test"
tls_www_client
signing_key
activation_date = "$start"
expiration_date = "$end_leaf"
T
cert client-2cn int
chain client-2cn
