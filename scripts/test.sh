#!/usr/bin/env bash
# The whole test suite: on SQLite, then the database tests again on PostgreSQL.
#
# PostgreSQL: 127.0.0.1:5432 (trust auth, user postgres). Where it is installed but
# down, this starts it. Where there is none, the suite runs on SQLite only and says
# so loudly — unless AUDITBO_REQUIRE_POSTGRES=1 (as in .ci/run), which makes that a failure.
# Redis: 127.0.0.1:6379 (nothing kept on disk) for the shared rate-limit storage test; started
# where installed but down, skipped loudly where absent, required when AUDITBO_REQUIRE_REDIS=1.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${VENV:-.venv}/bin/python
PG_URL=${AUDITBO_TEST_PG_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/auditbo_test}
PYTEST_ARGS=(-p no:cacheprovider -q "$@")

banner() { printf '\n==================== %s ====================\n' "$*"; }

# Browser tests use Debian's Chromium, never a downloaded browser.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    banner "installing Debian's chromium for the browser tests"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null \
      || { echo "could not install chromium (apt-get install -y chromium)"; exit 1; }
  else
    echo "The browser tests need Debian's chromium: run 'apt-get install -y chromium' as root."; exit 1
  fi
fi

# Screenshots taken by browser tests must show Chinese, not boxes: a CJK font beside Chromium.
if ! { command -v fc-list >/dev/null && fc-list :lang=zh 2>/dev/null | grep -q .; }; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    banner "installing a CJK font (fonts-noto-cjk) for the browser tests' screenshots"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk) >/dev/null \
      || echo "could not install fonts-noto-cjk: screenshots will show Chinese as boxes"
  else
    echo "No CJK font: screenshots will show Chinese as boxes ('apt-get install -y fonts-noto-cjk' as root)."
  fi
fi

pg_up() {
  "$PY" - "$PG_URL" <<'PYEOF' >/dev/null 2>&1
import sys, psycopg
from sqlalchemy.engine import make_url
u = make_url(sys.argv[1])
psycopg.connect(host=u.host, port=u.port or 5432, user=u.username, dbname="postgres", connect_timeout=3).close()
PYEOF
}

if ! pg_up && [ -d /etc/postgresql ] && command -v pg_ctlcluster >/dev/null; then
  banner "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi

redis_up() {  # a PING over bash's /dev/tcp: no client needed
  local reply
  { exec 3<>/dev/tcp/127.0.0.1/6379 && printf 'PING\r\n' >&3 && read -r -t 2 reply <&3; } 2>/dev/null
  exec 3<&-
  [[ ${reply:-} == +PONG* ]]
}

if ! redis_up && command -v redis-server >/dev/null; then
  banner "starting Redis (127.0.0.1:6379, nothing kept on disk)"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no >/dev/null || true
  for _ in $(seq 1 10); do redis_up && break; sleep 0.5; done
fi
if ! redis_up; then
  if [ "${AUDITBO_REQUIRE_REDIS:-0}" = 1 ]; then
    banner "FAILED: Redis is required here but is not reachable at 127.0.0.1:6379"; exit 1
  fi
  banner "WARNING: NO REDIS — THE SHARED RATE-LIMIT STORAGE TEST WILL BE SKIPPED"
  echo "Install Redis (apt-get install -y redis-server) to test limits shared by several workers or hosts."
fi

run_pytest() {  # pytest exits 5 when it collected nothing: that is a failure here, said plainly
  "$PY" -m pytest "$@"; local rc=$?
  if [ $rc -eq 5 ]; then echo "pytest collected no tests: treating that as a failure"; return 1; fi
  return $rc
}

banner "test suite on SQLite"
run_pytest "${PYTEST_ARGS[@]}" -m "not postgres_only" || exit 1

if pg_up; then
  banner "database tests on PostgreSQL ($PG_URL)"
  AUDITBO_TEST_DATABASE_URL="$PG_URL" run_pytest "${PYTEST_ARGS[@]}" -m "db or postgres_only" || exit 1
else
  if [ "${AUDITBO_REQUIRE_POSTGRES:-0}" = 1 ]; then
    banner "FAILED: PostgreSQL is required here but is not reachable at 127.0.0.1:5432"; exit 1
  fi
  banner "WARNING: NO POSTGRESQL — THE SUITE RAN ON SQLITE ONLY"
  echo "Install PostgreSQL (apt-get install -y postgresql) to run the database tests on it too."
fi
banner "all test runs passed"
