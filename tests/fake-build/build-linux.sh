#!/bin/sh
# A stand-in for hypervisor/build-linux.sh (same arguments: ARCH SRC OUT), the
# recipe of trees of kind linux, for tests/integration/test-builder-bounds.c:
# a dom0-kernel holding the tree's a.c, and a build-info.json naming it.
set -eu
src=$2 out=$3
echo "fake build-linux.sh for $1 in $src"
{
	printf 'linux kernel: '
	cat "$src/a.c"
} >"$out/dom0-kernel"
printf '{"kind": "linux", "linux_version": "6.1.0-fake", "artifacts": ["dom0-kernel"]}\n' \
	>"$out/build-info.json"
