# Shared helpers for Conveyor's shell scripts (sourced, not run).
# Paths: the data dir holds everything the embedded stack writes (logs, databases, objects);
# the cache dir, outside the repository, holds tools that take minutes to build and are reused across clones.

CONVEYOR_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CONVEYOR_ROOT
export CONVEYOR_DATA_DIR="${CONVEYOR_DATA_DIR:-$CONVEYOR_ROOT/.conveyor}"
export CONVEYOR_CACHE_DIR="${CONVEYOR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/conveyor}"
mkdir -p "$CONVEYOR_DATA_DIR/logs" "$CONVEYOR_CACHE_DIR/bin"

# Pinned tool versions. Temporal CLI v1.5.1 is the last tag that `go install` accepts (later ones use `replace`);
# MinIO publishes no semver tags, so its pin is a module pseudo-version.
TEMPORAL_CLI_VERSION="v1.5.1"
MINIO_VERSION="v0.0.0-20260212201848-7aac2a2c5b7c"

if [ -t 1 ]; then BOLD=$'\e[1m'; DIM=$'\e[2m'; RED=$'\e[31m'; GREEN=$'\e[32m'; RESET=$'\e[0m'; else BOLD=''; DIM=''; RED=''; GREEN=''; RESET=''; fi

say() { printf '%s==>%s %s\n' "$BOLD" "$RESET" "$*"; }
note() { printf '    %s%s%s\n' "$DIM" "$*" "$RESET"; }
fail() { printf '%serror:%s %s\n' "$RED" "$RESET" "$*" >&2; exit 1; }

# Runs a slow command with its output in a log file, printing a heartbeat every 30 s so no minute is silent.
# Usage: slow LOGFILE COMMAND...
slow() {
  local log="$1"; shift
  local started=$SECONDS
  "$@" >"$log" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    local elapsed=$((SECONDS - started))
    if [ "$elapsed" -gt 0 ] && [ $((elapsed % 30)) -eq 0 ]; then note "still working ($elapsed s; log: $log)"; fi
  done
  if ! wait "$pid"; then
    tail -n 20 "$log" >&2
    fail "'$*' failed after $((SECONDS - started)) s; full log: $log"
  fi
  note "done in $((SECONDS - started)) s"
}

docker_answers() { docker info >/dev/null 2>&1; }
