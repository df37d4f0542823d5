#!/usr/bin/env bash
# An example command task: count_lines.sh TEXT COUNT writes the number of lines of TEXT to COUNT.
#   command: [bash, examples/tasks/count_lines.sh, "{inputs.text}", "{outputs.count}"]
set -euo pipefail
if [[ $# -ne 2 ]]; then
    echo "usage: count_lines.sh TEXT COUNT" >&2
    exit 2
fi
wc -l < "$1" | tr -d ' ' > "$2"
echo "counted the lines of $1"
