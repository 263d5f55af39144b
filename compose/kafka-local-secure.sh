# shellcheck shell=bash
# TLS and SASL/SCRAM-SHA-512 for kafka-local's single broker (sourced by it): `start --secure`.
#
# The launcher generates a CA and a broker certificate for 127.0.0.1/localhost (openssl, PEM, so no
# keystore passwords), and three SCRAM-SHA-512 users at format time: `admin` (a super user, for
# set-up such as ACLs), `imagetrail` and `reader` (no rights until ACLs grant them; the standard
# authorizer denies what no ACL allows). Clients get one listener, SASL_SSL; the controller listener
# stays PLAINTEXT on 127.0.0.1, used by the broker itself (its principal, ANONYMOUS, is a super user
# so that the broker may talk to its own controller: a dev set-up, not a production one).
# Every secret is written under $KHOME/secure/ with mode 600, one client properties file per user in
# the format IMAGETRAIL_KAFKA_CONFIG reads.

SECURE=""

secure_paths() { SECURE="$KHOME/secure"; }

secure_password() { "$PY" -c 'import secrets; print(secrets.token_urlsafe(18))'; }

# CA and broker certificate, and a password per user: new for every fresh start.
secure_material() {
  local user
  rm -rf "$SECURE" && mkdir -p "$SECURE" && chmod 700 "$SECURE"
  (
    cd "$SECURE"
    umask 077
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=kafka-local test CA" \
      -keyout ca.key -out ca.pem >/dev/null 2>&1
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout broker.key -out broker.csr >/dev/null 2>&1
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > san.ext
    openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
      -extfile san.ext -out broker.crt >/dev/null 2>&1
    cat broker.key broker.crt ca.pem > broker.pem   # PEM keystore: key, then the chain
    rm -f broker.csr san.ext ca.srl
  ) || die "could not generate the TLS material in $SECURE (openssl)"
  for user in admin imagetrail reader; do
    (umask 077; secure_password > "$SECURE/$user.password")
  done
}

secure_client_properties() {
  local port=$1 user
  for user in admin imagetrail reader; do
    (umask 077; cat > "$SECURE/$user.properties" <<EOP
# kafka-local's secured listener, as user $user (for IMAGETRAIL_KAFKA_CONFIG)
# bootstrap: 127.0.0.1:$port (the store URL names it: kafka://127.0.0.1:$port/TOPIC)
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.username=$user
sasl.password=$(cat "$SECURE/$user.password")
ssl.cafile=$SECURE/ca.pem
EOP
    )
  done
}

# Replaces the plain listener of write_config's server.properties with SASL_SSL.
secure_config() {
  local port=$1 cport=$2 tmp
  tmp=$(mktemp "$KHOME/server.properties.XXXX")
  grep -v -e '^listeners=' -e '^advertised.listeners=' -e '^inter.broker.listener.name=' \
       -e '^listener.security.protocol.map=' "$PROPS" > "$tmp"
  (umask 077; cat >> "$tmp" <<EOP
# --secure: one client listener, TLS with SASL/SCRAM-SHA-512, and the standard authorizer
listeners=SASL_SSL://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=SASL_SSL://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
listener.security.protocol.map=CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
inter.broker.listener.name=SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$(cat "$SECURE/admin.password")";
ssl.keystore.type=PEM
ssl.keystore.location=$SECURE/broker.pem
ssl.truststore.type=PEM
ssl.truststore.location=$SECURE/ca.pem
ssl.endpoint.identification.algorithm=https
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin;User:ANONYMOUS
allow.everyone.if.no.acl.found=false
EOP
  )
  mv "$tmp" "$PROPS"
}

# The users' SCRAM credentials, for the storage tool's format (written to a file it reads, so
# no password is on a command line: --add-scram would put it in the process listing).
secure_scram_args() {
  local user
  for user in admin imagetrail reader; do
    printf -- '--add-scram\nSCRAM-SHA-512=[name=%s,password=%s]\n' "$user" "$(cat "$SECURE/$user.password")"
  done
}
