#!/usr/bin/env bash
# Runs every test: .NET unit and integration tests (real server, real model), then the SDK conformance suite.
# Prints one summary line at the end and exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
export CASTOR_TEST_MODELS="${CASTOR_TEST_MODELS:-$(cd "$root/../shared/models" 2>/dev/null && pwd)}"
if [ ! -f "$CASTOR_TEST_MODELS/stories260K.gguf" ]; then
  # Name both places looked at: an empty CASTOR_TEST_MODELS means ../shared/models does not exist.
  echo "The test model stories260K.gguf was not found in ${CASTOR_TEST_MODELS:-$(dirname "$root")/shared/models (../shared/models, which does not exist)}." >&2
  echo "Put it in ../shared/models beside the repository, or set CASTOR_TEST_MODELS to the folder that holds it." >&2
  exit 1
fi

results="$root/artifacts/test-results"
rm -rf "$results" && mkdir -p "$results"

echo "== build"
dotnet build Castor.slnx -c Release 2>&1 | tail -n 3
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "Summary: 0 passed, 1 failed (build)"; exit 1; }

# A test that hangs fails after 10 minutes, naming itself (and a dump), instead of holding CI until its limit.
passed=0; failed=0; status=0
echo "== .NET tests"
for project in tests/Castor.UnitTests tests/Castor.IntegrationTests; do
  name=$(basename "$project")
  dotnet test "$project" -c Release --no-build --blame-hang-timeout 10m --blame-hang-dump-type mini --logger "trx;LogFileName=$name.trx" --results-directory "$results" \
    --logger "console;verbosity=minimal" 2>&1 | tee "$results/$name.log" | grep -vE "^\s*$"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  line=$(grep -E "(Passed|Failed)!" "$results/$name.log" | tail -n 1)
  p=$(sed -nE 's/.*Passed: +([0-9]+).*/\1/p' <<<"$line"); f=$(sed -nE 's/.*Failed: +([0-9]+).*/\1/p' <<<"$line")
  if [ -z "$p" ]; then status=1; failed=$((failed + 1)); else passed=$((passed + p)); failed=$((failed + f)); fi
done

echo "== SDK conformance (tests/conformance)"
export CASTOR_DLL="$root/src/Castor.Cli/bin/Release/net10.0/castor.dll"
(
  cd tests/conformance &&
  { [ -d node_modules ] && [ node_modules -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; } &&
  node --test --test-reporter=spec --test-reporter-destination=stdout \
       --test-reporter=tap --test-reporter-destination="$results/conformance.tap" $(ls *.test.mjs)
) 2>&1 | tee "$results/conformance.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
p=$(sed -nE 's/^# pass ([0-9]+)/\1/p' "$results/conformance.tap" 2>/dev/null | tail -n 1)
f=$(sed -nE 's/^# fail ([0-9]+)/\1/p' "$results/conformance.tap" 2>/dev/null | tail -n 1)
if [ -z "$p" ]; then status=1; failed=$((failed + 1)); else passed=$((passed + p)); failed=$((failed + ${f:-0})); fi

[ "$failed" -eq 0 ] || status=1
echo "Summary: $passed passed, $failed failed"
exit $status
