#!/usr/bin/env bash
# Run the core under valgrind memcheck: fails on any invalid access, and on memory definitely
# lost from a stack that passes through this package's extension or libseccomp.
#   bash tools/memcheck.sh [python3]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=$("${1:-python3}" -c "import sys; print(sys.executable)")  # the real binary, not a shim
command -v valgrind >/dev/null || { echo "memcheck: valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }
log=$(mktemp)
PYTHONMALLOC=malloc valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite \
    --num-callers=40 --error-exitcode=0 --log-file="$log" "$PY" tools/memcheck_workload.py
# count the error records (invalid access, uninitialised use, leak) whose stack passes through
# this package's extensions or libseccomp; CPython's own reports (it is not built for valgrind)
# are left out.
count() {
    awk -v pat="$1" '$0 ~ pat {rec=1; keep=0; next}
        rec && /_core\.|libseccomp|_notify\.|_bpf\./ {keep=1}
        rec && /^==[0-9]+== $/ {if (keep) n++; rec=0}
        END {print n+0}' "$log"
}
invalid=$(count "Invalid (read|write|free)|uninitialised|Mismatched free|overlap")
ours=$(count "definitely lost in loss record")
grep "ERROR SUMMARY\|definitely lost:" "$log" | sed 's/^==[0-9]*== //'
echo "memcheck: $invalid invalid accesses, $ours leak records from this package or libseccomp (log: $log)"
[ "$invalid" -eq 0 ] && [ "$ours" -eq 0 ]
