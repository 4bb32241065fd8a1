# Security listeners of the local broker, sourced by ops/kafka.sh.
#
# Besides PLAINTEXT the broker listens with SASL_PLAINTEXT (PLAIN, SCRAM-SHA-256
# and SCRAM-SHA-512), SSL with client certificates required, and SASL_SSL. The
# material they need lives in .kafka/security/ and is made once:
#   ca.pem                     the test CA clients trust
#   broker.p12                 the broker's key and certificate (PKCS#12 keystore)
#   client.pem, client.key     a client certificate and its unencrypted key (PEM)
#   client-encrypted.key       the same key encrypted with client-key.password
#   sasl.password              the password of the SASL user (PLAIN and SCRAM)
# Only openssl is needed (no keytool): the broker reads its truststore as PEM.
# Making the certificates takes well under a second with EC P-256 keys.
# shellcheck shell=bash

SECURITY_DIR="$KAFKA_HOME_DIR/security"
SECURITY_ENV="$KAFKA_HOME_DIR/security.env"
SCRAM_MARKER="$KAFKA_HOME_DIR/scram.applied"
SASL_USERNAME="nvm_detector"
SASL_MECHANISMS="PLAIN,SCRAM-SHA-256,SCRAM-SHA-512"
# Certificates are remade when they would expire within this many seconds (30 days).
CERT_MIN_VALIDITY_SECS=2592000

require_openssl() {
  command -v openssl >/dev/null 2>&1 \
    || die "openssl not found on PATH; it makes the local broker's TLS certificates" \
      "(apt-get install openssl)"
}

now_ms() { date +%s%3N; }

# A random secret of 32 hex characters in FILE unless it already holds one.
ensure_secret_file() {
  local file="$1"
  [[ -s "$file" ]] && return 0
  (umask 077 && openssl rand -hex 16 >"$file.tmp.$$" && mv "$file.tmp.$$" "$file")
}

tls_is_current() {
  local f
  [[ -f "$SECURITY_DIR/tls.complete" ]] || return 1
  for f in ca.pem broker.pem client.pem; do
    openssl x509 -checkend "$CERT_MIN_VALIDITY_SECS" -noout -in "$SECURITY_DIR/$f" >/dev/null 2>&1 \
      || return 1
  done
}

write_openssl_config() {
  cat >"$1" <<'EOF'
# Extensions of the local test certificates, written by ops/kafka.sh.
[req]
distinguished_name = dn
prompt = no
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[broker]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
# librdkafka checks the advertised host (127.0.0.1) against these names.
subjectAltName = IP:127.0.0.1,DNS:127.0.0.1,DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
}

# issue_cert NAME SUBJECT: a P-256 key and a certificate signed by the CA in cwd.
issue_cert() {
  local name="$1" subject="$2"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$name.key"
  openssl req -new -key "$name.key" -subj "$subject" -config openssl.cnf -out "$name.csr"
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key \
    -set_serial "0x$(openssl rand -hex 16)" -days 825 -extfile openssl.cnf -extensions "$name" -out "$name.pem"
  rm -f "$name.csr"
}

# Makes the CA, broker and client certificates unless current ones exist.
# Everything is made in a scratch directory and moved into place at the end,
# so an interrupted run leaves the old set (or nothing), never half a set.
ensure_tls_material() {
  require_openssl
  mkdir -p "$SECURITY_DIR"
  tls_is_current && return 0
  local started tmp="$SECURITY_DIR.tmp.$$"
  started="$(now_ms)"
  rm -rf "$tmp"
  (umask 077 && mkdir -p "$tmp")
  if ! (
    set -e
    umask 077
    cd "$tmp"
    write_openssl_config openssl.cnf
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key
    openssl req -x509 -new -key ca.key -subj "/CN=nvm-detector local test CA" -days 3650 \
      -config openssl.cnf -extensions ca -out ca.pem
    issue_cert broker "/CN=127.0.0.1"
    issue_cert client "/CN=nvm-detector"
    openssl rand -hex 16 >broker.p12.password
    openssl pkcs12 -export -name broker -in broker.pem -inkey broker.key -certfile ca.pem \
      -passout file:broker.p12.password -out broker.p12
    openssl rand -hex 16 >client-key.password
    openssl pkcs8 -topk8 -v2 aes-256-cbc -in client.key -passout file:client-key.password \
      -out client-encrypted.key
    touch tls.complete
  ) >"$tmp.log" 2>&1; then
    cat "$tmp.log" >&2
    rm -rf "$tmp" "$tmp.log"
    die "making the TLS certificates with openssl failed"
  fi
  rm -f "$tmp.log"
  # The SASL password is not part of the certificate set; keep it.
  [[ -f "$SECURITY_DIR/sasl.password" ]] && mv "$SECURITY_DIR/sasl.password" "$tmp/"
  rm -rf "$SECURITY_DIR"
  mv "$tmp" "$SECURITY_DIR"
  log "made TLS certificates in .kafka/security/ in $(($(now_ms) - started)) ms"
}

ensure_security_material() {
  ensure_tls_material
  ensure_secret_file "$SECURITY_DIR/sasl.password"
}

sasl_password() { cat "$SECURITY_DIR/sasl.password"; }

# The broker settings of the security listeners, appended to server.properties.
security_server_properties() {
  local password keystore_password
  password="$(sasl_password)"
  keystore_password="$(cat "$SECURITY_DIR/broker.p12.password")"
  cat <<EOF

# Security listeners (ops/kafka/security.sh): SASL over plaintext and TLS, and
# TLS with client certificates. No authorizer: every authenticated user may do anything.
sasl.enabled.mechanisms=$SASL_MECHANISMS
ssl.keystore.type=PKCS12
ssl.keystore.location=$SECURITY_DIR/broker.p12
ssl.keystore.password=$keystore_password
ssl.key.password=$keystore_password
ssl.truststore.type=PEM
ssl.truststore.location=$SECURITY_DIR/ca.pem
listener.name.ssl.ssl.client.auth=required
EOF
  local listener
  for listener in sasl_plaintext sasl_ssl; do
    cat <<EOF
listener.name.$listener.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$SASL_USERNAME="$password";
listener.name.$listener.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.$listener.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
EOF
  done
}

# Identifies the SCRAM credentials in force, so a changed password is applied again.
scram_fingerprint() {
  printf '%s:%s' "$SASL_USERNAME" "$(sasl_password)" | sha256sum | cut -d' ' -f1
}

# `kafka-storage format --add-scram` arguments: a fresh data dir gets the
# SCRAM users in its first metadata records, with no extra tool run.
scram_format_args() {
  local mechanism password
  password="$(sasl_password)"
  for mechanism in SCRAM-SHA-256 SCRAM-SHA-512; do
    printf '%s\n' --add-scram "$mechanism=[name=$SASL_USERNAME,password=$password]"
  done
}

scram_applied_at_format() { scram_fingerprint >"$SCRAM_MARKER"; }

# Storage formatted before the SCRAM users existed (or with another password)
# gets them through the running broker, once. The controller refuses two
# changes to one user in a request, so each mechanism takes its own tool run
# of a few seconds.
ensure_scram_users() {
  local fingerprint password mechanism
  fingerprint="$(scram_fingerprint)"
  [[ "$(cat "$SCRAM_MARKER" 2>/dev/null)" == "$fingerprint" ]] && return 0
  password="$(sasl_password)"
  log "adding SCRAM users to the running broker"
  for mechanism in SCRAM-SHA-256 SCRAM-SHA-512; do
    run_tool kafka.admin.ConfigCommand --bootstrap-server "$BOOTSTRAP" \
      --command-config "$CONF_DIR/probe.properties" --alter --entity-type users \
      --entity-name "$SASL_USERNAME" --add-config "$mechanism=[password=$password]" \
      >"$LOG_DIR/scram.log" 2>&1 \
      || { cat "$LOG_DIR/scram.log" >&2; die "adding the $mechanism user failed"; }
  done
  echo "$fingerprint" >"$SCRAM_MARKER"
}

# What tests and people need to reach the security listeners, as KEY=VALUE
# lines; written at start so `security-env` describes the running broker.
write_security_env() {
  cat >"$SECURITY_ENV" <<EOF
LOCAL_KAFKA_PLAINTEXT=$HOST:$KAFKA_PORT
LOCAL_KAFKA_SASL_PLAINTEXT=$HOST:$KAFKA_SASL_PORT
LOCAL_KAFKA_SSL=$HOST:$KAFKA_SSL_PORT
LOCAL_KAFKA_SASL_SSL=$HOST:$KAFKA_SASL_SSL_PORT
LOCAL_KAFKA_SASL_MECHANISMS=$SASL_MECHANISMS
LOCAL_KAFKA_SASL_USERNAME=$SASL_USERNAME
LOCAL_KAFKA_SASL_PASSWORD_FILE=$SECURITY_DIR/sasl.password
LOCAL_KAFKA_SSL_CA_LOCATION=$SECURITY_DIR/ca.pem
LOCAL_KAFKA_SSL_CERTIFICATE_LOCATION=$SECURITY_DIR/client.pem
LOCAL_KAFKA_SSL_KEY_LOCATION=$SECURITY_DIR/client.key
LOCAL_KAFKA_SSL_ENCRYPTED_KEY_LOCATION=$SECURITY_DIR/client-encrypted.key
LOCAL_KAFKA_SSL_KEY_PASSWORD_FILE=$SECURITY_DIR/client-key.password
EOF
}

# Exit codes: 0 printed, 3 broker not running, 1 running without security listeners.
cmd_security_env() {
  if ! running_pid >/dev/null; then
    log "not running; 'ops/kafka.sh start' first"
    return 3
  fi
  [[ -f "$SECURITY_ENV" ]] \
    || die "the running broker was started without security listeners; run 'ops/kafka.sh restart'"
  cat "$SECURITY_ENV"
}
