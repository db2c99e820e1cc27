# Sourced by the project's scripts: installs a missing server from its Debian package, only when
# running as root with apt (a machine of another kind gets a message naming the package).

apt_updated=
install_pkg() { # install_pkg PACKAGE [HINT]: HINT is added to the message when it cannot install
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    echo "✗ $1 is not installed; install the Debian package '$1'${2:+ ($2)}" >&2
    return 1
  fi
  [[ -n "$apt_updated" ]] || { DEBIAN_FRONTEND=noninteractive apt-get update -qq; apt_updated=1; }
  echo "… installing $1" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
}
