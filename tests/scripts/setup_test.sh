#!/usr/bin/env bash
# Tests scripts/setup.sh against stand-ins for dpkg-query, apt-get, sudo and
# id, so it runs anywhere, installs nothing, and can play root or not.
#   setup_test.sh PATH/TO/scripts/setup.sh
set -uo pipefail

setup="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# A bin directory holding only the stand-ins, bash and env: nothing else on
# PATH, so a missing sudo is really missing.
make_bin() {  # make_bin DIR WITH_SUDO(yes|no)
  local bin="$1"
  mkdir -p "$bin"
  ln -s "$(command -v bash)" "$bin/bash"
  ln -s "$(command -v env)" "$bin/env"
  cat >"$bin/dpkg-query" <<'STUB'
#!/bin/sh
# dpkg-query -W -f=FORMAT PACKAGE: "installed" unless PACKAGE is in $FAKE_MISSING.
for last in "$@"; do :; done
for m in $FAKE_MISSING; do
  if [ "$m" = "$last" ]; then echo "dpkg-query: no packages found matching $last" >&2; exit 1; fi
done
printf installed
STUB
  cat >"$bin/apt-get" <<'STUB'
#!/bin/sh
echo "apt-get DEBIAN_FRONTEND=${DEBIAN_FRONTEND:-unset} $*" >>"$FAKE_LOG"
STUB
  cat >"$bin/id" <<'STUB'
#!/bin/sh
echo "$FAKE_UID"
STUB
  if [ "$2" = yes ]; then
    cat >"$bin/sudo" <<'STUB'
#!/bin/sh
echo "sudo $1" >>"$FAKE_LOG"
exec "$@"
STUB
  fi
  chmod +x "$bin"/*
}
make_bin "$work/with-sudo" yes
make_bin "$work/no-sudo" no

# run CASE BIN UID MISSING JOB: runs setup.sh, leaving its exit code in $rc,
# its output in $out and the commands it ran in $log.
run() {
  local name="$1" bin="$2" uid="$3" missing="$4" job="$5"
  : >"$work/$name.log"
  out="$(env -i PATH="$bin" FAKE_UID="$uid" FAKE_MISSING="$missing" FAKE_LOG="$work/$name.log" \
         bash "$setup" $job 2>&1)"
  rc=$?
  log="$(cat "$work/$name.log")"
}

expect_eq() {  # expect_eq WHAT EXPECTED ACTUAL
  [[ "$2" == "$3" ]] || fail "$1: expected [$2], got [$3]"
}

run all-present "$work/with-sudo" 0 "" test
expect_eq "all present: exit code" 0 "$rc"
expect_eq "all present: nothing run" "" "$log"
[[ "$out" == *"are installed"* ]] || fail "all present: says so ($out)"

run root "$work/with-sudo" 0 "catch2 graphviz" test
expect_eq "root: exit code" 0 "$rc"
expect_eq "root: update then install only the missing" \
  "apt-get DEBIAN_FRONTEND=noninteractive update
apt-get DEBIAN_FRONTEND=noninteractive install -y --no-install-recommends catch2 graphviz" "$log"

run sudo "$work/with-sudo" 1000 "cmake" demo
expect_eq "sudo: exit code" 0 "$rc"
expect_eq "sudo: apt-get through sudo" \
  "sudo env
apt-get DEBIAN_FRONTEND=noninteractive update
sudo env
apt-get DEBIAN_FRONTEND=noninteractive install -y --no-install-recommends cmake" "$log"

run no-sudo "$work/no-sudo" 1000 "cmake g++" test
expect_eq "no root, no sudo: exit code" 1 "$rc"
expect_eq "no root, no sudo: nothing run" "" "$log"
[[ "$out" == *"cmake g++"* && "$out" == *"root"* ]] || fail "no root, no sudo: names the packages and root ($out)"

run no-sudo-nothing-missing "$work/no-sudo" 1000 "" test
expect_eq "no root but nothing missing: exit code" 0 "$rc"

run bench "$work/with-sudo" 0 "python3-torch" bench
expect_eq "bench: installs torch" \
  "apt-get DEBIAN_FRONTEND=noninteractive update
apt-get DEBIAN_FRONTEND=noninteractive install -y --no-install-recommends python3-torch" "$log"
# The ONNX import tests export their models with PyTorch and build hostile
# files with the onnx package.
run test-needs-torch "$work/with-sudo" 0 "python3-torch python3-onnx" test
expect_eq "test: installs torch and onnx" \
  "apt-get DEBIAN_FRONTEND=noninteractive update
apt-get DEBIAN_FRONTEND=noninteractive install -y --no-install-recommends python3-torch python3-onnx" "$log"
run demo-ignores-torch "$work/with-sudo" 0 "python3-torch" demo
expect_eq "demo: does not need torch" "" "$log"

run unknown "$work/with-sudo" 0 "" frobnicate
expect_eq "unknown job: exit code" 2 "$rc"
[[ "$out" == *"frobnicate"* ]] || fail "unknown job: names it ($out)"

run default "$work/with-sudo" 0 "zlib1g-dev" ""
expect_eq "no job means test" \
  "apt-get DEBIAN_FRONTEND=noninteractive update
apt-get DEBIAN_FRONTEND=noninteractive install -y --no-install-recommends zlib1g-dev" "$log"

if ((failures)); then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "setup.sh: all checks passed"
