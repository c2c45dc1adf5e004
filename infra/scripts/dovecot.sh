#!/usr/bin/env bash
# A throwaway Dovecot IMAP server on loopback for the IMAP tests.
#   dovecot.sh up   NAME PORT   install Dovecot if missing, start it: IMAP on PORT (plain),
#                               IMAPS on PORT+1 (self-signed certificate, for the TLS tests)
#   dovecot.sh down NAME        stop exactly what `up NAME` started
# Any user name logs in with the password `desk-test-password` (static passdb), and
# gets its own maildir, so each test uses a fresh user and sees only its own mail.
# State (config, mail, log, pid) lives in .dev/NAME/dovecot/; nothing outside it is touched.
set -euo pipefail
cd "$(dirname "$0")/../.."
action=${1:?up|down}; name=${2:?name}
dir=$PWD/.dev/$name/dovecot

stop() {
  if [ -f "$dir/run/master.pid" ]; then
    local pid; pid=$(cat "$dir/run/master.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/run/master.pid"
  fi
}

case "$action" in
  up)
    port=${3:?imap port}
    if ! command -v dovecot >/dev/null 2>&1 && [ ! -x /usr/sbin/dovecot ]; then
      echo "dovecot: installing dovecot-imapd (Debian package)" >&2
      if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
      export DEBIAN_FRONTEND=noninteractive
      $sudo apt-get install -y --no-install-recommends dovecot-imapd >/dev/null \
        || { $sudo apt-get update >/dev/null && $sudo apt-get install -y --no-install-recommends dovecot-imapd >/dev/null; }
    fi
    dovecot=$(command -v dovecot || echo /usr/sbin/dovecot)
    stop
    rm -rf "$dir/mail"
    mkdir -p "$dir/run" "$dir/state" "$dir/mail"
    chmod 755 "$dir" "$dir/.." 2>/dev/null || true
    # Mail processes run as nobody (the static userdb below).
    chown nobody:nogroup "$dir/mail" 2>/dev/null || chmod 777 "$dir/mail"
    if [ ! -f "$dir/cert.pem" ]; then
      openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=localhost" \
        -keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1
      chmod 600 "$dir/key.pem"
    fi
    cat >"$dir/dovecot.conf" <<CONF
base_dir = $dir/run
state_dir = $dir/state
instance_name = desk-test-$name
log_path = $dir/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <$dir/cert.pem
ssl_key = <$dir/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:$dir/mail/%u
passdb {
  driver = static
  args = password=desk-test-password
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$dir/mail/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $port
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $((port + 1))
    ssl = yes
  }
}
service anvil {
  chroot =
}
service imap-login {
  chroot =
}
CONF
    "$dovecot" -c "$dir/dovecot.conf"
    for _ in $(seq 1 100); do
      if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then exit 0; fi
      sleep 0.1
    done
    echo "dovecot did not come up on port $port; see $dir/dovecot.log" >&2
    tail -20 "$dir/dovecot.log" >&2 || true
    exit 1
    ;;
  down)
    stop
    ;;
  *) echo "usage: dovecot.sh up NAME PORT | down NAME" >&2; exit 2 ;;
esac
