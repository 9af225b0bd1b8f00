#!/usr/bin/env bash
# The GitHub Action's script (action.yml). It runs as is outside Actions
# too (test/ci runs it): set INPUT_* and, for the outputs, GITHUB_OUTPUT
# and GITHUB_STEP_SUMMARY.
#
# Exit status: egctl x validate's (0 clean, 1 problems, 2 usage or input
# the API server would refuse). The diff never fails the job.
set -uo pipefail

egctl=${EGCTL:-egctl}
out=${RUNNER_TEMP:-${TMPDIR:-/tmp}}/egctl
mkdir -p "$out"
output=${GITHUB_OUTPUT:-/dev/null}
summary=${GITHUB_STEP_SUMMARY:-/dev/null}

read -ra files <<<"${INPUT_FILES:-.}"
read -ra kustomize <<<"${INPUT_KUSTOMIZE:-}"
read -ra extra <<<"${INPUT_ARGS:-}"
read -ra diffextra <<<"${INPUT_DIFF_ARGS:-}"
inputs=()
for f in "${files[@]}"; do inputs+=(-f "$f"); done
for k in "${kustomize[@]}"; do inputs+=(-k "$k"); done
check=()
if [ "${INPUT_ENVOY_VALIDATE:-false}" = true ]; then check=(--envoy-validate); fi

junit=$out/egctl-junit.xml
echo "junit=$junit" >>"$output"
# Annotations on stdout (the runner turns ::error lines into them), and
# the JUnit report beside.
"$egctl" x validate "${inputs[@]}" "${extra[@]}" "${check[@]}" -o github -o "junit=$junit"
status=$?

# The diff: the first -f path at the base ref against the working tree.
base=${INPUT_BASE_REF:-${GITHUB_BASE_REF:-}}
if [ -n "$base" ] && [ ${#files[@]} -gt 0 ]; then
	ref=$base
	if ! git rev-parse --verify --quiet "$ref^{commit}" >/dev/null; then
		if git rev-parse --verify --quiet "origin/$base^{commit}" >/dev/null; then
			ref=origin/$base
		elif git fetch --quiet --depth=1 origin "$base" 2>/dev/null; then
			ref=FETCH_HEAD
		else
			echo "::warning title=egctl diff::cannot find base ref $base; no diff"
			ref=
		fi
	fi
	if [ -n "$ref" ]; then
		old=$out/base
		rm -rf "$old" && mkdir -p "$old"
		git archive --format=tar "$ref" | tar -x -C "$old"
		path=${files[0]}
		md=$out/egctl-diff.md
		if [ -e "$old/$path" ]; then
			"$egctl" x diff "$old/$path" "$path" -o markdown "${diffextra[@]}" >"$md"
		else
			printf '### Envoy configuration diff\n\n`%s` is new in this change.\n' "$path" >"$md"
		fi
		cat "$md" >>"$summary"
		echo "diff=$md" >>"$output"
		if [ "${INPUT_COMMENT:-false}" = true ] && [ -n "${GITHUB_EVENT_PATH:-}" ]; then
			pr=$(sed -n 's/^  "number": \([0-9]*\),$/\1/p' "$GITHUB_EVENT_PATH" | head -1)
			if [ -n "$pr" ]; then
				gh pr comment "$pr" --body-file "$md" || echo "::warning title=egctl diff::could not comment on #$pr"
			fi
		fi
	fi
else
	echo "diff=" >>"$output"
fi
exit $status
