#!/usr/bin/env bash
# Idempotently start a system D-Bus and an avahi-daemon confined to loopback (scripts/avahi/avahi-daemon.conf).
# Prints one status line. Exit 0: daemon running; exit 1: it could not be started (reason printed).
# Runs as root (CI); otherwise through sudo. Never touches any interface other than lo.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
conf="$here/avahi-daemon.conf"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else echo "avahi: cannot start: not root and no sudo"; exit 1; fi
fi

fail() { echo "avahi: cannot start: $*"; exit 1; }

command -v avahi-daemon >/dev/null 2>&1 || fail "avahi-daemon not installed (apt-get install avahi-daemon)"
command -v dbus-daemon >/dev/null 2>&1 || fail "dbus-daemon not installed (apt-get install dbus)"

bus_live() {
  [ -S /run/dbus/system_bus_socket ] || return 1
  if command -v dbus-send >/dev/null 2>&1; then
    dbus-send --system --dest=org.freedesktop.DBus --type=method_call --print-reply \
      /org/freedesktop/DBus org.freedesktop.DBus.GetId >/dev/null 2>&1
  else
    return 0
  fi
}

# 1. System D-Bus.
if ! bus_live; then
  $SUDO mkdir -p /run/dbus
  $SUDO rm -f /run/dbus/system_bus_socket /run/dbus/pid
  $SUDO dbus-daemon --system --fork >/dev/null 2>&1 || fail "dbus-daemon --system --fork failed"
  for _ in $(seq 1 50); do bus_live && break; sleep 0.1; done
  bus_live || fail "system D-Bus did not come up"
fi

# 2. Multicast on loopback: Avahi ignores an interface without the MULTICAST flag.
if ! ip link show lo | grep -q MULTICAST; then
  $SUDO ip link set lo multicast on || fail "could not enable multicast on lo"
fi

# 3. avahi-daemon with the repository's loopback-only configuration.
if ! $SUDO avahi-daemon --check 2>/dev/null; then
  # A daemon that removed its pid file but has not exited yet still holds the D-Bus name.
  for _ in $(seq 1 100); do pgrep -x avahi-daemon >/dev/null 2>&1 || break; sleep 0.05; done
  $SUDO mkdir -p /run/avahi-daemon
  $SUDO avahi-daemon --no-drop-root --no-chroot -D -f "$conf" >/dev/null 2>&1 \
    || fail "avahi-daemon -D -f $conf failed"
  started_here=1
fi
for _ in $(seq 1 100); do $SUDO avahi-daemon --check 2>/dev/null && break; sleep 0.1; done
$SUDO avahi-daemon --check 2>/dev/null || fail "avahi-daemon did not come up"

# Wait until it answers on D-Bus (it claims its name after start; a daemon still shutting down
# may hold the name for a moment).
if command -v dbus-send >/dev/null 2>&1; then
  answers() {
    dbus-send --system --dest=org.freedesktop.Avahi --type=method_call --print-reply / \
      org.freedesktop.Avahi.Server.GetVersionString >/dev/null 2>&1
  }
  for _ in $(seq 1 100); do answers && break; sleep 0.1; done
  answers || fail "avahi-daemon runs but does not answer on the system D-Bus"
fi
# avahi-daemon rewrites its argv, so remember which daemon this script started and with what.
marker=/run/avahi-daemon/paymesh-started
pid="$($SUDO cat /run/avahi-daemon/pid 2>/dev/null || echo '?')"
if [ -n "${started_here:-}" ]; then echo "$pid $conf" | $SUDO tee "$marker" >/dev/null; fi
if [ "$($SUDO cat "$marker" 2>/dev/null)" = "$pid $conf" ]; then
  echo "avahi: running (pid $pid, interfaces: lo only, conf $conf)"
else
  echo "avahi: running (pid $pid, started elsewhere: not with $conf, interfaces not verified)"
fi
