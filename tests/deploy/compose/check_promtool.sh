#!/usr/bin/env bash
# promtool on deploy/compose's Prometheus files: the config (which also checks
# the rule files it globs), the rules on their own, and the rules' unit tests
# (gqa-serve.rules_test.yml beside this script).
# Usage: check_promtool.sh COMPOSE_DIR. Exit 77 (CTest skip) without promtool
# (Debian package `prometheus`; $GQA_PROMTOOL_BIN overrides the PATH lookup).
set -euo pipefail
promtool=${GQA_PROMTOOL_BIN:-$(command -v promtool || true)}
if [ -z "$promtool" ]; then
  echo "skipping: no promtool (Debian package prometheus)"
  exit 77
fi
dir=$1/prometheus
"$promtool" check config "$dir/prometheus.yml"
"$promtool" check rules "$dir"/rules/*.rules.yml
"$promtool" test rules "$(dirname "$0")/gqa-serve.rules_test.yml"
