# Installs the Debian packages Paymesh builds and tests against, when missing.
PAYMESH_APT_PACKAGES="libsqlite3-dev libsodium-dev libsecp256k1-dev libmsgpack-dev libavahi-client-dev avahi-daemon dbus pkg-config"
# The web view's browser test (scripts/webview/test_webview.py): headless Chromium and its WebDriver.
PAYMESH_APT_PACKAGES="$PAYMESH_APT_PACKAGES chromium chromium-driver"
# `curl -i` shows the gateway's three challenges (scripts/http402/check_l402_a2a.py).
PAYMESH_APT_PACKAGES="$PAYMESH_APT_PACKAGES curl"

ensure_deps() {
  local missing=()
  for p in $PAYMESH_APT_PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "installing: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
  fi
}

# Python packages used by the interop tests (scripts/interop/paymesh_peer.py, InteropTests), the
# HTTP 402 checks (scripts/http402/check_swift_outputs.py, PaymeshPay402Tests: x402, pymacaroons)
# and the metrics test (scripts/metrics/test_metrics.py: prometheus-client's text parser); the web
# view's browser test (scripts/webview/test_webview.py: selenium drives chromium-driver).
PAYMESH_PIP_PACKAGES="noiseprotocol eth-account msgpack x402 pymacaroons prometheus-client selenium"
# L402 and A2A on a live gateway (scripts/http402/check_l402_a2a.py, GatewayL402A2ATests): a2a-sdk
# 0.3 speaks A2A 0.3 JSON-RPC (`message/send`), the binding the a2a-x402 extension v0.2 is written for.
PAYMESH_PIP_PACKAGES="$PAYMESH_PIP_PACKAGES a2a-sdk==0.3.26 httpx"

ensure_python_deps() {
  if ! command -v python3 >/dev/null 2>&1 || ! python3 -m pip --version >/dev/null 2>&1; then
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "installing: python3 python3-pip"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3 python3-pip
  fi
  if ! python3 -c "import noise, eth_account, msgpack, x402, pymacaroons, prometheus_client, selenium, httpx, a2a.client; import importlib.metadata as m; assert m.version('a2a-sdk').startswith('0.3.')" >/dev/null 2>&1; then
    echo "installing python packages: $PAYMESH_PIP_PACKAGES"
    python3 -m pip install --quiet $PAYMESH_PIP_PACKAGES 2>/dev/null \
      || python3 -m pip install --quiet --break-system-packages $PAYMESH_PIP_PACKAGES
    python3 -c "import noise, eth_account, msgpack, x402, pymacaroons, prometheus_client, selenium, httpx, a2a.client"
  fi
}
