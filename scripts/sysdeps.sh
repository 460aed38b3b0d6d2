#!/usr/bin/env bash
# Install the Debian packages the test suite needs, only those that are missing.
set -euo pipefail
need=()
# (PostgreSQL and Chromium join this list with the issues that need them.)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing system packages: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
