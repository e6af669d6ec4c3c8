#!/usr/bin/env bash
# The README's main command. On a fresh Debian machine: installs what is needed, starts a
# loopback-only avahi-daemon, builds `paymesh` in release mode, and runs a live local mesh:
# N node processes that find each other by mDNS, their status table (peers and RTTs), a few
# console calls on one node, then stops them.
#   scripts/run.sh [--nodes N] [--keep]     (--keep leaves the mesh running; stop it with
#                                            .build/release/paymesh mesh down)
# The mesh lives in $PAYMESH_MESH_DIR (default ./.paymesh-mesh); node logs in node-*/node.log.
set -euo pipefail
cd "$(dirname "$0")/.."
nodes=5
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) nodes="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "usage: scripts/run.sh [--nodes N] [--keep]" >&2; exit 2 ;;
  esac
done

source scripts/lib/deps.sh
ensure_deps
export PATH="/opt/swift/usr/bin:$PATH"

step() { printf '\n== %s\n' "$*"; }

step "avahi-daemon (mDNS confined to the loopback interface)"
discovery=()
if ! scripts/avahi/start.sh; then
  echo "LAN discovery is unavailable here: the nodes will be wired by static connections instead (--no-mdns)."
  discovery=(--no-mdns --topology full)
fi

step "building paymesh (release)"
swift build -c release --product paymesh
paymesh=.build/release/paymesh
export PAYMESH_MESH_DIR="${PAYMESH_MESH_DIR:-$PWD/.paymesh-mesh}"
if [ -f "$PAYMESH_MESH_DIR/mesh.json" ]; then
  echo "stopping the mesh a previous run left in $PAYMESH_MESH_DIR"
  "$paymesh" mesh down || true
fi
if [ "$keep" -eq 0 ]; then
  trap 'step "mesh down"; "$paymesh" mesh down' EXIT
fi

step "paymesh mesh up --nodes $nodes ${discovery[*]}"
"$paymesh" mesh up --nodes "$nodes" "${discovery[@]}"

step "paymesh mesh status"
"$paymesh" mesh status

node0="$PAYMESH_MESH_DIR/node-0"
step "paymesh ctl getinfo (node-0)"
"$paymesh" ctl getinfo --data-dir "$node0"
step "paymesh ctl discovery (node-0)"
"$paymesh" ctl discovery --data-dir "$node0"
peer="$("$paymesh" ctl peers --json --data-dir "$node0" | grep -o '"id":"0x[0-9a-fA-F]\{40\}"' | head -1 | cut -d'"' -f4)"
step "paymesh ctl ping id=$peer (node-0 → a peer, over the mesh)"
"$paymesh" ctl ping "id=$peer" --data-dir "$node0"

# ---- PAYMENT ROUND ----------------------------------------------------------------------------
# A channel across every connected pair (lower index pays; deposits locked on each payer's local,
# off-chain ledger), three rounds of 1,000 pipelined payments on all of them at once, then a
# cooperative close that settles every channel and shows the wallets.
step "paymesh mesh pay --rounds 3 --count 1000 --close"
"$paymesh" mesh pay --rounds 3 --count 1000 --close
# -----------------------------------------------------------------------------------------------

if [ "$keep" -eq 1 ]; then
  step "the mesh keeps running"
  echo "inspect: $paymesh mesh status      console: $paymesh console --data-dir $node0"
  echo "stop:    $paymesh mesh down"
fi
