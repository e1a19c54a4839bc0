#!/usr/bin/env bash
# run_all.sh [-p] [DTLSCAT [SRCDIR]]: runs every interop script and prints a matrix of
# the cases (PASS/FAIL lines) and each script's summary. -p runs the scripts in parallel
# (each picks its own free ports). Logs: $TMPDIR/interop-run_all.*/SCRIPT.log (kept).
# Exit status: non-zero if any script failed. The same scripts run under ctest -L interop.
set -u
here=$(cd "$(dirname "$0")" && pwd)
parallel=0
if [ "${1:-}" = -p ]; then
	parallel=1
	shift
fi
scripts=(ossl_psk gnutls_psk fragment loss reneg ossl_cert gnutls_x509)
logs=$(mktemp -d "${TMPDIR:-/tmp}/interop-run_all.XXXXXX")
declare -A rc=()
pids=()
for s in "${scripts[@]}"; do
	if [ $parallel = 1 ]; then
		timeout -k 5 300 bash "$here/$s.sh" "$@" >"$logs/$s.log" 2>&1 &
		pids+=("$s:$!")
	else
		timeout -k 5 300 bash "$here/$s.sh" "$@" >"$logs/$s.log" 2>&1
		rc[$s]=$?
		grep -E '^(PASS|FAIL): ' "$logs/$s.log"
		tail -n 1 "$logs/$s.log"
	fi
done
for p in "${pids[@]}"; do
	s=${p%%:*}
	wait "${p#*:}"
	rc[$s]=$?
done
echo
echo "== summary (logs in $logs)"
status=0
for s in "${scripts[@]}"; do
	[ $parallel = 1 ] && grep -E '^FAIL: ' "$logs/$s.log"
	printf '%-12s exit %-3s %s\n' "$s" "${rc[$s]}" "$(tail -n 1 "$logs/$s.log")"
	case ${rc[$s]} in 0 | 77) ;; *) status=1 ;; esac
done
exit $status
