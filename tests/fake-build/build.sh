#!/bin/sh
# A stand-in for hypervisor/build.sh (same arguments: ARCH SRC OUT) for the
# builder's confinement tests (tests/integration/test-builder-bounds.c): no
# Xen, only the behaviour the test picks by writing one word into the file
# `mode` beside this script (the test's copy of this folder is the agent's
# XENCI_HYPERVISOR_DIR, bound read-only into the sandbox):
#   pass      a tiny xen and build-info.json, and a probe of what the build
#             sees: SRC/probe.txt (CCACHE_DIR, its own marker, the files of
#             its work tree, whether it could write into the other kind's tree
#             and cache)
#   memory    allocates 1 GiB at once (python3, as a compiler would)
#   disk      writes 8 MiB files (each below RLIMIT_FSIZE) past builder.disk_mb
#   bigfile   one file past builder.disk_mb (RLIMIT_FSIZE)
#   timeout   children and a grandchild that sleep, named by `mark`
#   forkbomb  a bounded fork bomb (64 sleepers; one more in its own session
#             when the file `escape` exists)
# The processes the test looks for carry the word in `mark` on their command
# line (sleeper.sh MARK).
set -u
arch=$1 src=$2 out=$3
here=$(dirname "$0")
mode=$(cat "$here/mode")
mark=$(cat "$here/mark" 2>/dev/null || echo none)
echo "fake build.sh: $mode for $arch in $src"
case $mode in
pass)
	kind=$(cat "$here/kind")
	echo "$kind" >"$src/own-$kind"
	other=trusted
	[ "$kind" = trusted ] && other=untrusted
	{
		echo "ccache $CCACHE_DIR"
		echo "$kind" >"$CCACHE_DIR/own-$kind" && echo "cache-written"
		ls "$src" | tr '\n' ' '
		echo
		# the other kind's tree and cache (their paths, as the builder makes them)
		case $kind in
		trusted) osrc=$src-untrusted ocache=$CCACHE_DIR-untrusted ;;
		*) osrc=${src%-untrusted} ocache=${CCACHE_DIR%-untrusted} ;;
		esac
		if (echo x >"$osrc/planted-by-$kind") 2>/dev/null; then echo "wrote $osrc"; fi
		if (echo x >"$ocache/planted-by-$kind") 2>/dev/null; then echo "wrote $ocache"; fi
	} >"$src/probe-$kind.txt"
	printf 'fake xen\n' >"$out/xen"
	printf '{"xen_version": "4.99-fake", "changeset": "git:fake"}\n' >"$out/build-info.json"
	;;
memory)
	/usr/bin/python3 -c 'b = bytearray(1 << 30)'
	;;
disk)
	i=0
	while [ $i -lt 40 ]; do
		dd if=/dev/zero of="$out/fill-$i" bs=1M count=8 2>/dev/null || exit 1
		i=$((i + 1))
		sleep 0.2
	done
	;;
bigfile)
	dd if=/dev/zero of="$out/big" bs=1M count=200 2>/dev/null
	;;
timeout)
	sh "$here/sleeper.sh" "$mark" &
	sh -c "sh '$here/sleeper.sh' '$mark' & sleep 300" &
	sleep 300
	;;
forkbomb)
	i=0
	while [ $i -lt 64 ]; do
		sh "$here/sleeper.sh" "$mark" &
		i=$((i + 1))
	done
	# a child in its own session (outside the process group) when the test
	# says the sandbox's pid namespace should catch it
	if [ -e "$here/escape" ]; then setsid sh "$here/sleeper.sh" "$mark" & fi
	sleep 300
	;;
*)
	echo "error: unknown mode $mode" >&2
	exit 2
	;;
esac
