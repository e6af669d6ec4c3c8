#!/usr/bin/env bash
# Stop the avahi-daemon started by scripts/avahi/start.sh (the system D-Bus is left running).
# Waits until the process has exited (it sends goodbye packets and releases its D-Bus name
# after removing its pid file). Prints one status line; exit 0 when no avahi-daemon runs afterwards.
set -uo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; fi
if ! $SUDO avahi-daemon --check 2>/dev/null; then echo "avahi: not running"; exit 0; fi
pid="$($SUDO cat /run/avahi-daemon/pid 2>/dev/null || true)"
$SUDO avahi-daemon --kill >/dev/null 2>&1
for _ in $(seq 1 100); do
  if ! $SUDO avahi-daemon --check 2>/dev/null && { [ -z "$pid" ] || [ ! -e "/proc/$pid" ]; }; then break; fi
  sleep 0.05
done
if $SUDO avahi-daemon --check 2>/dev/null || { [ -n "$pid" ] && [ -e "/proc/$pid" ]; }; then
  echo "avahi: still running after --kill (pid ${pid:-?})"; exit 1
fi
$SUDO rm -f /run/avahi-daemon/paymesh-started
echo "avahi: stopped (pid ${pid:-?})"
