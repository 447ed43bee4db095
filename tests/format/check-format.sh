#!/usr/bin/env bash
# Fails when a C++ source of the project is not formatted as .clang-format says.
#   check-format.sh SOURCE_DIR
set -euo pipefail
src=${1:?usage: check-format.sh SOURCE_DIR}
command -v clang-format >/dev/null || { echo "check-format: clang-format not installed; skipped"; exit 77; }
cd "$src"
mapfile -t files < <(find src tests bench -name '*.cc' -o -name '*.h' | sort)
if ! clang-format --dry-run --Werror "${files[@]}" 2>/tmp/check-format.$$; then
  grep -E '^[^ ].*(warning|error):' /tmp/check-format.$$ | cut -d: -f1 | sort -u | sed 's/^/check-format: not formatted: /'
  echo "check-format: run clang-format -i on the files above"
  rm -f /tmp/check-format.$$
  exit 1
fi
rm -f /tmp/check-format.$$
echo "check-format: ok (${#files[@]} files)"
