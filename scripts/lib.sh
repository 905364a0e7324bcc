# scripts/lib.sh — set-up shared by scripts/test, scripts/demo and bench/run.
#
# Sourced, not run.  Provides: package installation, build and install
# (system-wide as root, into a staged copy of the server otherwise), a
# throwaway cluster run by an unprivileged OS user, and helpers to run
# commands as that user.

set -euo pipefail

PG_MAJOR=15
DBOPT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DBOPT_OS_USER=${DBOPT_OS_USER:-dbopt}

# Everything the test command, the demo and the benchmarks need.
DBOPT_PACKAGES=(
  make gcc perl
  "postgresql-$PG_MAJOR" "postgresql-server-dev-$PG_MAJOR" "postgresql-contrib"
  "postgresql-$PG_MAJOR-pgtap" libtap-parser-sourcehandler-pgtap-perl
  libipc-run-perl
  "postgresql-$PG_MAJOR-hypopg" "postgresql-$PG_MAJOR-partman"
  libxml2-utils chromium nodejs  # report_html(): xmllint parses it, Chromium renders it,
                                 # test/browser/check_report.js (Node) drives Chromium
  openssl                     # t/008_security.pl: a certificate for the SSL checks
  prometheus prometheus-postgres-exporter   # t/016_metrics.pl: promtool, the exporter
)

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 2; }

is_root() { [ "$(id -u)" -eq 0 ]; }

install_packages() {
  local missing=() p
  for p in "${DBOPT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
      || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! is_root; then
    die "missing packages: ${missing[*]} (as root: apt-get install ${missing[*]})"
  fi
  log "installing with apt: ${missing[*]}"
  # The package's default cluster is not wanted: tests run their own.
  if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    mkdir -p /etc/postgresql-common
    echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Where systemd runs, these two packages start their services (on ports
  # 9090 and 9187); the tests need neither, t/016_metrics.pl starts its own
  # exporter on a free port.
  local svc
  for svc in prometheus prometheus-postgres-exporter; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
      systemctl disable --now "$svc" >/dev/null 2>&1 || true
    elif command -v service >/dev/null 2>&1 && service "$svc" status >/dev/null 2>&1; then
      service "$svc" stop >/dev/null 2>&1 || true
    fi
  done
}

pg_setup_paths() {
  PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/$PG_MAJOR/bin/pg_config}
  [ -x "$PG_CONFIG" ] || die "pg_config not found at $PG_CONFIG"
  PGXS_DIR=$(cd "$(dirname "$("$PG_CONFIG" --pgxs)")/../.." && pwd)  # .../lib/pgxs
  SYS_BINDIR=$("$PG_CONFIG" --bindir)
  BINDIR=$SYS_BINDIR
  export PG_CONFIG
}

build() {
  log "building (-Wall -Wextra -Werror)"
  make -C "$DBOPT_ROOT" -s PG_CONFIG="$PG_CONFIG" clean >/dev/null
  make -C "$DBOPT_ROOT" -s PG_CONFIG="$PG_CONFIG" 2>&1 | tee "$WORK/build.log" >&2
  [ "${PIPESTATUS[0]}" -eq 0 ] || die "build failed"
  if grep -q 'warning:' "$WORK/build.log"; then die "the build printed warnings"; fi
}

# Mirror a directory: a real directory whose entries are links to the
# original, except names matching the glob patterns given (the caller fills
# those itself, so a system-wide dbopt does not shadow the staged one).
mirror_dir() {
  local src=$1 dst=$2; shift 2
  local e name skip
  mkdir -p "$dst"
  for e in "$src"/* ; do
    name=$(basename "$e"); skip=
    for s in "$@"; do [[ $name == $s ]] && skip=1; done
    [ -n "$skip" ] || ln -sfn "$e" "$dst/$name"
  done
}

# Without root, install into a private copy of the server tree.  PostgreSQL
# finds share/ and lib/ relative to its own binary, so a copied bin/ beside
# linked share/ and lib/ trees picks up dbopt from there.
stage_install() {
  local stage=$WORK/stage share pkglib
  share=$("$PG_CONFIG" --sharedir); pkglib=$("$PG_CONFIG" --pkglibdir)
  mkdir -p "$stage$SYS_BINDIR"
  cp -a "$SYS_BINDIR/." "$stage$SYS_BINDIR/"
  mirror_dir "$share" "$stage$share" extension
  mirror_dir "$share/extension" "$stage$share/extension" 'dbopt[.-]*'
  mirror_dir "$pkglib" "$stage$pkglib" bitcode 'dbopt.*'
  [ -d "$pkglib/bitcode" ] && mirror_dir "$pkglib/bitcode" "$stage$pkglib/bitcode" dbopt 'dbopt.*'
  make -C "$DBOPT_ROOT" -s PG_CONFIG="$PG_CONFIG" DESTDIR="$stage" install >/dev/null
  BINDIR=$stage$SYS_BINDIR
}

install_dbopt() {
  # DBOPT_STAGE=1 stages even as root, leaving the server's own dbopt alone.
  if is_root && [ -z "${DBOPT_STAGE:-}" ]; then
    log "installing into the server (make install)"
    make -C "$DBOPT_ROOT" -s PG_CONFIG="$PG_CONFIG" install >/dev/null
  else
    log "not root: installing into a staged copy of the server under $WORK/stage"
    stage_install
  fi
}

ensure_os_user() {
  is_root || return 0
  id "$DBOPT_OS_USER" >/dev/null 2>&1 \
    || useradd --system --create-home --shell /bin/bash "$DBOPT_OS_USER"
}

# Run a command as the unprivileged cluster owner.
as_user() {
  if is_root; then
    runuser -u "$DBOPT_OS_USER" -- env PATH="$BINDIR:$PATH" "$@"
  else
    env PATH="$BINDIR:$PATH" "$@"
  fi
}

make_workdir() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
  chmod 755 "$WORK"
  is_root && chown "$DBOPT_OS_USER" "$WORK"
  return 0
}

free_port() {
  local p
  for p in $(seq "${1:-54321}" 65000); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null \
       && [ ! -e "/tmp/.s.PGSQL.$p" ]; then
      echo "$p"; return 0
    fi
  done
  die "no free port"
}

# start_cluster DATADIR SOCKETDIR PORT LISTEN [extra postgresql.conf lines]
start_cluster() {
  local data=$1 sock=$2 port=$3 listen=$4; shift 4
  as_user initdb -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  {
    echo "port = $port"
    echo "listen_addresses = '$listen'"
    echo "unix_socket_directories = '$sock'"
    echo "shared_preload_libraries = 'dbopt,pg_stat_statements'"
    echo "max_connections = 60"
    echo "fsync = off"
    echo "logging_collector = off"
    for l in "$@"; do echo "$l"; done
  } | as_user tee -a "$data/postgresql.conf" >/dev/null
  as_user pg_ctl -D "$data" -l "$data/server.log" -w -t 60 start >/dev/null \
    || { cat "$data/server.log" >&2; die "cluster did not start"; }
  export PGHOST=$sock PGPORT=$port PGUSER=postgres
}

stop_cluster() {
  local data=$1
  [ -f "$data/postmaster.pid" ] && as_user pg_ctl -D "$data" -m fast -w stop >/dev/null 2>&1
  return 0
}

psql_q() { as_user psql -X -q -v ON_ERROR_STOP=1 "$@"; }
