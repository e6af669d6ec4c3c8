# Installs the Debian packages Paymesh builds and tests against, when missing.
PAYMESH_APT_PACKAGES="libsqlite3-dev libsodium-dev libsecp256k1-dev libmsgpack-dev libavahi-client-dev avahi-daemon dbus pkg-config"

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
