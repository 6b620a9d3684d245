#!/usr/bin/env bash
# Side by side in one run: the token endpoint (or another bench script) served by two revisions,
# the server pinned to core 0 and this load generator to core 1, in the order A B B A so that a
# steady drift of the shared machine weighs on both alike. Prints each run; compare the ratios
# of the sums, not the absolutes.
#   bench/compare.sh OLD_REV [NEW_REV=working tree] [script=token_endpoint.py] [extra args...]
set -euo pipefail
cd "$(dirname "$0")/.."
old_rev="$1"; new_rev="${2:-}"; script="${3:-token_endpoint.py}"; shift $(( $# < 3 ? $# : 3 ))
tmp="$(mktemp -d)"
trap 'git worktree remove --force "$tmp/old" >/dev/null 2>&1 || true; git worktree remove --force "$tmp/new" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
git worktree add --detach -q "$tmp/old" "$old_rev"
new_root="$PWD"
if [ -n "$new_rev" ]; then git worktree add --detach -q "$tmp/new" "$new_rev"; new_root="$tmp/new"; fi
for round in 1 2; do
  order="old new"; [ "$round" = 2 ] && order="new old"
  for side in $order; do
    root="$tmp/old"; [ "$side" = new ] && root="$new_root"
    echo "== round $round: $side ($(git -C "$root" rev-parse --short HEAD))"
    .venv/bin/python "bench/$script" --server-root "$root" --server-cpu 0 --client-cpu 1 "$@"
  done
done
