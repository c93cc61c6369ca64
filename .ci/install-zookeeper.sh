#!/usr/bin/env bash
# Installs a ZooKeeper server (Debian's `zookeeper` package, with Java) for
# the ZooKeeper tests (tests/tests/zk.rs start it on 127.0.0.1 themselves;
# no service is started here). Idempotent: does nothing when it is there.
set -euo pipefail

if [ -f /usr/share/java/zookeeper.jar ] && command -v java >/dev/null 2>&1; then
  echo "zookeeper: already installed"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update
$sudo apt-get install -y --no-install-recommends zookeeper
test -f /usr/share/java/zookeeper.jar
command -v java >/dev/null
echo "zookeeper: installed"
