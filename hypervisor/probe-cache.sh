#!/bin/bash
# probe-cache.sh COMPILER [ARGS...] — runs the compiler command as it is, except
# a probe: a compile of standard input into /dev/null (`-o /dev/null` and `-`
# among ARGS), which is how Xen's Config.mk asks whether the toolchain takes a
# flag or an instruction (cc-option, as-insn: `echo 'void*p=1;' | $(CC) FLAG -c
# -o /dev/null -x c -`). Xen's make evaluates those again in each of its ~50
# sub-makes, so a one-file build ran ~140 of them (ccache, gcc, cc1 and as
# each; ccache cannot cache standard input): 0.8 s of a 4.1 s x86_64 build.
#
# A probe's answer (exit status, standard output and error) is kept in
# $CCACHE_DIR/xenci-probes under the sha256 of XENCI_PROBE_ID (the toolchain's
# versions, recipe_ccache), the arguments and the input, and given back from
# there the next time (not the working directory: nothing kept reads a file,
# below, so work trees share the answers). What the key cannot see is
# never kept, the command runs as it is:
#   - an input that pulls in files (`#include`, `#import`, `.include`,
#     `.incbin`: Xen's headers99/headers++ checks compile public headers so)
#     or arguments that do (`-include`, `-imacros`, `@FILE`, `-specs=`);
#   - an answer that may not be the toolchain's: a status other than 0 and 1, a
#     status 1 with no message, or a message of a killed or starved compiler
#     (a signal, memory, processes, disk), so a passing moment never decides a
#     Kconfig option such as CET's (as-instr) for later builds;
#   - an input with a NUL byte (not a probe's text);
#   - no CCACHE_DIR or no XENCI_PROBE_ID, or a keep that cannot be written.
# The keep lives beside ccache's, so an untrusted build (its own CCACHE_DIR,
# lab-agent/builder.c) never answers a trusted one.
set -u
[ $# -gt 0 ] || { echo "usage: probe-cache.sh COMPILER [ARGS...]" >&2; exit 2; }
out=0 in=0 pulls=0 prev=
for a in "$@"; do
	[ "$prev" = -o ] && [ "$a" = /dev/null ] && out=1
	[ "$a" = - ] && in=1
	case $a in -include* | -imacros* | @* | -specs=* | --include*) pulls=1 ;; esac
	prev=$a
done
if [ "$out$in$pulls" != 110 ] || [ -z "${CCACHE_DIR:-}" ] || [ -z "${XENCI_PROBE_ID:-}" ]; then
	exec "$@"
fi

# Standard input, up to a NUL (a probe's text has none; anything else gets
# what was read and the rest as it came, and is not kept).
if IFS= read -r -d '' input; then
	{ printf '%s\0' "$input"; cat; } | "$@"
	exit "${PIPESTATUS[1]}"
fi
keep=1
case $input in *'#include'* | *'#import'* | *'.include'* | *'.incbin'*) keep=0 ;; esac
dir=$CCACHE_DIR/xenci-probes
key=$(printf '%s\0' "$XENCI_PROBE_ID" "$@" "$input" | sha256sum)
f=$dir/${key%% *}

if [ "$keep" = 1 ] && [ -f "$f.status" ] && IFS= read -r status <"$f.status"; then
	text=
	[ ! -s "$f.out" ] || IFS= read -r -d '' text <"$f.out"
	printf '%s' "$text"
	text=
	[ ! -s "$f.err" ] || IFS= read -r -d '' text <"$f.err"
	printf '%s' "$text" >&2
	exit "$status"
fi

# A folder of its own for the answer being made (mktemp: builds in other
# sandboxes share the keep, and each sandbox numbers its processes from 1)
if ! { [ -d "$dir" ] || mkdir -p "$dir"; } 2>/dev/null ||
	! t=$(mktemp -d "$dir/tmp.XXXXXXXX" 2>/dev/null); then
	printf '%s' "$input" | "$@" # nowhere to keep it
	exit "${PIPESTATUS[1]}"
fi
trap 'rm -rf "$t"' EXIT
tmp=$t/answer
printf '%s' "$input" | "$@" >"$tmp.out" 2>"$tmp.err"
status=${PIPESTATUS[1]}
cat "$tmp.out"
cat "$tmp.err" >&2
case $status in
0) ;;
1) [ -s "$tmp.err" ] || keep=0 ;;
*) keep=0 ;;
esac
if grep -qiE 'signal|killed|memory|resource|fork|no space|too many|timed? ?out' "$tmp.err"; then
	keep=0
fi
# the answer, its status last: a reader that finds the status finds the rest
if [ "$keep" = 1 ] && mv "$tmp.out" "$f.out" && mv "$tmp.err" "$f.err"; then
	echo "$status" >"$tmp.status" && mv "$tmp.status" "$f.status"
fi
exit "$status"
