#!/usr/bin/env bash
# Scale benchmark of `egctl x translate` (called by `make bench`).
#
# Builds bin/egctl, generates the workload of test/bench/gen at several
# sizes, and prints one row per (size, mode) with wall time, CPU time, peak
# RSS and output size; then `egctl version` time, binary size, a determinism
# check and the 10k/1k time ratio; then the Go benchmarks of every stage.
# It reports numbers and never asserts them. It exits non-zero when egctl
# fails (every run is still attempted, so one report shows all failures) or
# when two runs on the same input print different bytes.
# docs/performance.md explains how to read the output.
#
# Environment:
#   BENCH_SIZES         route counts, default "100 1000 10000 50000"
#   BENCH_GO            0 skips the Go benchmarks (default 1)
#   BENCH_SERVE         0 skips the egctl x serve fleet benchmark (default 1;
#                       EGCTL_SERVE_ROUTES / _CLIENTS / _EDITS size it)
#   BENCH_FLAGS         extra flags for `go test -bench`, e.g. "-benchtime 3x -count 3"
#   BENCH_MEM_LIMIT_MB  address-space limit per egctl run (default 8192, a third of
#                       the machine): a run that needs more fails instead of
#                       pushing the other users of the machine into swap or
#                       the OOM killer
#   BENCH_KEEP          1 keeps the temp dir with workloads and outputs
#   EG_EGCTL            Envoy Gateway's egctl (built from the module cache, see
#                       docs/performance.md): when set, it runs the same
#                       workloads up to EG_MAX_ROUTES (default 1000; it takes
#                       about a minute per 1,000 routes) and its rows print
#                       beside egctl's with the ratio
#   GO                  the go command (default go)
set -euo pipefail

cd "$(dirname "$0")/../.."
export GOTOOLCHAIN=local
GO=${GO:-go}
SIZES=${BENCH_SIZES:-100 1000 10000 50000}
MEM_LIMIT_MB=${BENCH_MEM_LIMIT_MB:-8192}
TIME=/usr/bin/time

if [[ ! -x $TIME ]]; then
	echo "run.sh: $TIME not found (GNU time; apt-get install time)" >&2
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/egctl-bench.XXXXXX")
if [[ ${BENCH_KEEP:-0} == 1 ]]; then
	echo "keeping workloads and outputs in $work" >&2
else
	trap 'rm -rf "$work"' EXIT
fi

echo "== build"
mkdir -p bin
# The tag as make build passes it (Makefile TAGS): the size and RSS of the
# egctl users get.
$GO build -trimpath -tags kustomize_disable_go_plugin_support -ldflags '-s -w' -o bin/egctl ./cmd/egctl
$GO build -o "$work/genroutes" ./test/bench/cmd/genroutes
egctl=$PWD/bin/egctl
echo "go: $($GO env GOVERSION)  cpus: $(nproc)  load: $(cut -d' ' -f1-3 /proc/loadavg)  commit: $(git rev-parse --short HEAD 2>/dev/null || echo none)"

failures=0

# timed OUT ARGS...: runs egctl ARGS with stdout to OUT and sets $wall
# (seconds), $cpu (user+sys seconds: on a shared machine wall time includes
# waiting for a core, CPU time does not) and $rss (MB). When egctl fails it
# prints egctl's stderr, counts the failure and returns 1.
timed() {
	local out=$1
	shift
	if ! (
		ulimit -v $((MEM_LIMIT_MB * 1024))
		exec $TIME -f '%e %M %U %S' -o "$work/time" "$egctl" "$@" >"$out" 2>"$work/stderr"
	); then
		echo "run.sh: egctl $* failed (address space limited to ${MEM_LIMIT_MB} MB, see BENCH_MEM_LIMIT_MB):" >&2
		# The first lines that say why (egctl's error, or the Go runtime's
		# fatal error without its goroutine dump), else the end of stderr.
		grep -m 5 -E '^(Error|fatal error|panic|runtime: )' "$work/stderr" >&2 || tail -n 5 "$work/stderr" >&2
		grep -v '^Command exited' "$work/time" >&2 || true
		failures=$((failures + 1))
		return 1
	fi
	local user sys
	read -r wall rss_kb user sys <"$work/time"
	rss=$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k / 1024 }')
	cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
}

mode_args() {
	case $1 in
	yaml) echo "--to xds -t all -o yaml" ;;
	json) echo "--to xds -t all -o json" ;;
	bootstrap) echo "--to bootstrap" ;;
	esac
}

row() { printf '%8s  %-9s  %8s  %8s  %9s  %12s  %12s\n' "$@"; }

declare -A yaml_wall yaml_cpu res_wall res_cpu res_rss
echo
echo "== egctl x translate (wall s, user+sys s and peak RSS from $TIME -f '%e %M %U %S')"
row routes mode wall_s cpu_s rss_mb out_bytes in_bytes
for n in $SIZES; do
	in=$work/routes-$n.yaml
	"$work/genroutes" -routes "$n" >"$in"
	in_bytes=$(stat -c %s "$in")
	for mode in yaml json bootstrap; do
		out=$work/out-$n.$mode
		# shellcheck disable=SC2046 # mode_args is word-split on purpose
		if ! timed "$out" x translate -f "$in" $(mode_args "$mode"); then
			rm -f "$out"
			row "$n" "$mode" FAILED - - - "$in_bytes"
			continue
		fi
		if [[ $mode == yaml ]]; then
			yaml_wall[$n]=$wall
			yaml_cpu[$n]=$cpu
		fi
		row "$n" "$mode" "$wall" "$cpu" "$rss" "$(stat -c %s "$out")" "$in_bytes"
		res_wall[$n.$mode]=$wall res_cpu[$n.$mode]=$cpu res_rss[$n.$mode]=$rss
	done
done

# Envoy Gateway's egctl on the same workloads, same modes but bootstrap
# (which its translate has no equivalent of), when EG_EGCTL names it.
if [[ -n ${EG_EGCTL:-} ]]; then
	echo
	echo "== Envoy Gateway's egctl ($EG_EGCTL) on the same workloads, up to ${EG_MAX_ROUTES:-1000} routes"
	row routes mode wall_s cpu_s rss_mb out_bytes in_bytes
	for n in $SIZES; do
		((n <= ${EG_MAX_ROUTES:-1000})) || continue
		for mode in yaml json; do
			# Only beside a successful egctl run of the same input.
			[[ -n ${res_cpu[$n.$mode]:-} ]] || continue
			if ! egctl="$EG_EGCTL" timed "$work/eg-$n.$mode" x translate -f "$work/routes-$n.yaml" $(mode_args "$mode"); then
				row "$n" "eg-$mode" FAILED - - - "$(stat -c %s "$work/routes-$n.yaml")"
				continue
			fi
			row "$n" "eg-$mode" "$wall" "$cpu" "$rss" "$(stat -c %s "$work/eg-$n.$mode")" "$(stat -c %s "$work/routes-$n.yaml")"
			awk -v n="$n" -v m="$mode" -v w="$wall" -v c="$cpu" -v r="$rss" \
				-v ow="${res_wall[$n.$mode]}" -v oc="${res_cpu[$n.$mode]}" -v orss="${res_rss[$n.$mode]}" 'BEGIN {
				printf "%8s  %-9s  Envoy Gateway / egctl: wall %.0fx, cpu %.0fx, peak RSS %.1fx\n", n, m, w / (ow > 0 ? ow : 0.01), c / (oc > 0 ? oc : 0.01), r / orss }'
		done
	done
fi

# Policies at 10,000 routes: the yaml run with each policy variant of
# genroutes, alternating with the plain workload, best of 3 CPU times each
# (a shared machine makes single runs noisy): a Gateway-wide
# ClientTrafficPolicy (listener-side settings, then also HTTP/1 options on
# every backend cluster), a BackendTrafficPolicy on the Gateway and one per
# route, and a SecurityPolicy (JWT + authorization) per namespace.
if [[ -n ${yaml_cpu[10000]:-} ]]; then
	echo
	echo "== 10000 routes, yaml, with policies (best of 3 user+sys s, alternating with the plain run; cost = over plain)"
	printf '%-14s  %8s  %8s  %9s  %12s  %8s\n' variant cpu_s plain_s rss_mb out_bytes cost
	for variant in ctp-listener ctp-clusters btp-gateway btp-route sp-namespace; do
		case $variant in
		ctp-*) flags="-ctp ${variant#ctp-}" ;;
		btp-*) flags="-btp ${variant#btp-}" ;;
		sp-namespace) flags="-security" ;;
		esac
		in=$work/routes-10000-$variant.yaml
		# shellcheck disable=SC2086 # flags is word-split on purpose
		"$work/genroutes" -routes 10000 $flags >"$in"
		best_plain= best_var= var_rss= var_bytes=
		for _ in 1 2 3; do
			# shellcheck disable=SC2046 # mode_args is word-split on purpose
			if timed "$work/out-plain.yaml" x translate -f "$work/routes-10000.yaml" $(mode_args yaml); then
				best_plain=$(awk -v a="$cpu" -v b="$best_plain" 'BEGIN { print (b == "" || a < b) ? a : b }')
			fi
			# shellcheck disable=SC2046
			if timed "$work/out-$variant.yaml" x translate -f "$in" $(mode_args yaml); then
				best_var=$(awk -v a="$cpu" -v b="$best_var" 'BEGIN { print (b == "" || a < b) ? a : b }')
				var_rss=$rss var_bytes=$(stat -c %s "$work/out-$variant.yaml")
			fi
		done
		if [[ -n $best_plain && -n $best_var ]]; then
			awk -v v="$variant" -v c="$best_var" -v p="$best_plain" -v r="$var_rss" -v o="$var_bytes" 'BEGIN {
				printf "%-14s  %8.2f  %8.2f  %9s  %12s  %+7.1f%%\n", v, c, p, r, o, (c / p - 1) * 100 }'
		else
			printf '%-14s  FAILED\n' "$variant"
		fi
	done
fi

# EnvoyProxy overhead: the same routes with gen.EnvoyProxy attached to the
# GatewayClass, alternating with the plain workload, best of 3 CPU times
# each (a shared machine makes single runs noisy).
ep_n=
for n in $SIZES; do
	if ((n == 10000)); then ep_n=$n; fi
done
if [[ -n $ep_n ]]; then
	echo
	echo "== EnvoyProxy overhead at $ep_n routes (gen.EnvoyProxy attached; best of 3, user+sys s)"
	"$work/genroutes" -routes "$ep_n" -envoyproxy >"$work/routes-ep-$ep_n.yaml"
	for mode in yaml bootstrap; do
		best_plain= best_ep=
		for _ in 1 2 3; do
			for which in plain ep; do
				in=$work/routes-$ep_n.yaml
				[[ $which == ep ]] && in=$work/routes-ep-$ep_n.yaml
				# shellcheck disable=SC2046 # mode_args is word-split on purpose
				if ! timed "$work/out-$which.$mode" x translate -f "$in" $(mode_args "$mode"); then
					continue
				fi
				if [[ $which == ep ]]; then
					best_ep=$(awk -v a="$cpu" -v b="$best_ep" 'BEGIN { print (b == "" || a < b) ? a : b }')
				else
					best_plain=$(awk -v a="$cpu" -v b="$best_plain" 'BEGIN { print (b == "" || a < b) ? a : b }')
				fi
			done
		done
		if [[ -n $best_plain && -n $best_ep ]]; then
			awk -v m="$mode" -v p="$best_plain" -v e="$best_ep" 'BEGIN {
				printf "%-9s  without %6.2f s  with %6.2f s  overhead %+.1f %%\n", m, p, e, (e - p) * 100 / p }'
		fi
	done
fi

echo
echo "== egctl version (best of 10) and binary size"
best=
for _ in $(seq 10); do
	start=$EPOCHREALTIME
	"$egctl" version >/dev/null
	end=$EPOCHREALTIME
	best=$(awk -v s="$start" -v e="$end" -v b="$best" 'BEGIN { t = (e - s) * 1000; if (b == "" || t < b) b = t; printf "%.1f", b }')
done
size=$(stat -c %s "$egctl")
echo "egctl version: ${best} ms"
echo "bin/egctl: $size bytes ($(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1048576 }') MiB)"

echo
echo "== determinism and scaling"
# Re-run the largest size up to 10,000 (10,000 itself in the default run).
det=
for n in $SIZES; do
	if ((n <= 10000)) && [[ -f $work/out-$n.yaml ]] && { [[ -z $det ]] || ((n > det)); }; then det=$n; fi
done
if [[ -z $det ]]; then
	echo "determinism: no successful yaml run of at most 10000 routes to repeat"
elif timed "$work/again-$det.yaml" x translate -f "$work/routes-$det.yaml" $(mode_args yaml); then
	a=$(sha256sum <"$work/out-$det.yaml" | cut -d' ' -f1)
	b=$(sha256sum <"$work/again-$det.yaml" | cut -d' ' -f1)
	if [[ $a == "$b" ]]; then
		echo "determinism ($det routes, yaml, two runs): identical sha256 $a"
	else
		echo "determinism ($det routes, yaml, two runs): DIFFERENT sha256 $a vs $b"
		echo "run.sh: output is not deterministic" >&2
		failures=$((failures + 1))
	fi
fi
if [[ -n ${yaml_wall[1000]:-} && -n ${yaml_wall[10000]:-} ]]; then
	awk -v a="${yaml_wall[1000]}" -v b="${yaml_wall[10000]}" -v ca="${yaml_cpu[1000]}" -v cb="${yaml_cpu[10000]}" 'BEGIN {
		if (a > 0) printf "time(10k)/time(1k), yaml, wall: %.2f (%s s / %s s)\n", b / a, b, a
		else printf "time(10k)/time(1k), yaml, wall: 1k run below the timer resolution (%s s / %s s)\n", b, a
		if (ca > 0) printf "time(10k)/time(1k), yaml, cpu:  %.2f (%s s / %s s)\n", cb / ca, cb, ca
	}'
fi

if [[ ${BENCH_SERVE:-1} != 0 ]]; then
	echo
	echo "== egctl x serve: file write to every client holding the change, and memory per client"
	if ! EGCTL_SERVE_BENCH=1 EGCTL_BIN=$egctl $GO test -count=1 -timeout 20m -run '^TestServeFleet$' -v ./test/bench/ | grep -E '^serve |serve_test.go'; then
		echo "run.sh: the serve benchmark failed" >&2
		failures=$((failures + 1))
	fi
fi

if [[ ${BENCH_GO:-1} != 0 ]]; then
	echo
	echo "== Go benchmarks"
	# shellcheck disable=SC2086 # BENCH_FLAGS is a list of flags
	if ! $GO test -run '^$' -bench . -benchmem ${BENCH_FLAGS:-} ./manifest/ ./translate/ ./xds/ ./test/bench/; then
		echo "run.sh: go test -bench failed" >&2
		failures=$((failures + 1))
	fi
fi

if ((failures > 0)); then
	echo "run.sh: $failures failure(s), see above" >&2
	exit 1
fi
