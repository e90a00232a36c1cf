#!/bin/bash
# probe-cache.sh COMPILER [ARGS...] — runs the compiler command as it is, except
# a probe: a compile of standard input into /dev/null (`-o /dev/null` and `-`
# among ARGS), which is how Xen's Config.mk asks whether the toolchain takes a
# flag or an instruction (cc-option, as-insn: `echo 'void*p=1;' | $(CC) FLAG -c
# -o /dev/null -x c -`). Xen's make evaluates those again in each of its ~50
# sub-makes, so a one-file build ran ~140 of them (ccache, gcc, cc1 and as
# each; ccache cannot cache standard input): 0.8 s of a 4.1 s x86_64 build.
# A probe's answer (exit status, standard output and error) is kept in
# $CCACHE_DIR/xenci-probes under the sha256 of XENCI_PROBE_ID (the toolchain's
# versions, recipe_ccache), the working directory, the arguments and the
# input, and given back from there the next time. Without CCACHE_DIR it runs
# every command as it is. The keep lives beside ccache's, so an untrusted
# build (its own CCACHE_DIR, lab-agent/builder.c) never answers a trusted one.
set -u
out=0 in=0 prev=
for a in "$@"; do
	[ "$prev" = -o ] && [ "$a" = /dev/null ] && out=1
	[ "$a" = - ] && in=1
	prev=$a
done
if [ "$out$in" != 11 ] || [ -z "${CCACHE_DIR:-}" ]; then
	exec "$@"
fi

IFS= read -r -d '' input
dir=$CCACHE_DIR/xenci-probes
key=$(printf '%s\0' "${XENCI_PROBE_ID:-}" "$PWD" "$@" "$input" | sha256sum)
f=$dir/${key%% *}

if [ -f "$f.status" ] && IFS= read -r status <"$f.status"; then
	text=
	[ ! -s "$f.out" ] || IFS= read -r -d '' text <"$f.out"
	printf '%s' "$text"
	text=
	[ ! -s "$f.err" ] || IFS= read -r -d '' text <"$f.err"
	printf '%s' "$text" >&2
	exit "$status"
fi

tmp=$f.$$
if ! mkdir -p "$dir" 2>/dev/null || ! : 2>/dev/null >"$tmp.out"; then
	printf '%s' "$input" | "$@" # nowhere to keep it: as it is
	exit
fi
printf '%s' "$input" | "$@" >"$tmp.out" 2>"$tmp.err"
status=$?
cat "$tmp.out"
cat "$tmp.err" >&2
# the answer, its status last: a reader that finds the status finds the rest
if mv "$tmp.out" "$f.out" && mv "$tmp.err" "$f.err"; then
	echo "$status" >"$tmp.status" && mv "$tmp.status" "$f.status"
fi
rm -f "$tmp.out" "$tmp.err" "$tmp.status"
exit "$status"
