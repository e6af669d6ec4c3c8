#!/usr/bin/env bash
# Stop the avahi-daemon started by scripts/avahi/start.sh (the system D-Bus is left running).
# Prints one status line; exit 0 when no avahi-daemon is running afterwards.
set -uo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; fi
if ! $SUDO avahi-daemon --check 2>/dev/null; then echo "avahi: not running"; exit 0; fi
$SUDO avahi-daemon --kill >/dev/null 2>&1
for _ in $(seq 1 50); do $SUDO avahi-daemon --check 2>/dev/null || break; sleep 0.1; done
if $SUDO avahi-daemon --check 2>/dev/null; then echo "avahi: still running after --kill"; exit 1; fi
echo "avahi: stopped"
