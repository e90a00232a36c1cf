#!/usr/bin/env bash
# shellcheck disable=SC2030,SC2031,SC2154 # each case's environment is its subshell's; cc is recipe_ccache's
# hypervisor/recipe-lib.sh: the build recipes' shared helpers.
#   - recipe_common_dir: the deepest folder holding a source tree and its
#     object folder (the tree alone without one; / when they share nothing)
#   - recipe_ccache TREE: ccache's base_dir is TREE and the working directory
#     is not hashed, so one file compiled with -g in two folders of different
#     depths is a miss then a hit (without TREE: two misses, ccache's default)
#   - a CCACHE_BASEDIR already set is kept; TREE=/ sets nothing; XENCI_CCACHE=0
#     leaves ccache out
#   - recipe_python: PYTHON is python3's own executable (not a version
#     manager's shim on PATH, which would run on every call of Xen's build),
#     a PYTHON already set is kept, and a python3 that does not run is an error
set -uo pipefail
root=${XENCI_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/harness/is.sh
. "$root/tests/harness/is.sh"
# shellcheck source=hypervisor/recipe-lib.sh
. "$root/hypervisor/recipe-lib.sh"


is "common of siblings" "$(recipe_common_dir /a/b/c /a/b/d/e)" /a/b
is "tree alone" "$(recipe_common_dir /a/b/c "")" /a/b/c
is "objects inside the tree" "$(recipe_common_dir /a/b /a/b/c)" /a/b
is "prefix of a name is not a folder" "$(recipe_common_dir /ab /a/c)" /
is "nothing shared" "$(recipe_common_dir /x /y)" /
is "the same folder" "$(recipe_common_dir /a/b/c /a/b/c)" /a/b/c

# The environment recipe_ccache leaves, in a subshell each time.
env_of() { # XENCI_CCACHE CCACHE_BASEDIR TREE
	(
		unset CCACHE_BASEDIR CCACHE_NOHASHDIR
		export XENCI_CCACHE=$1 CCACHE_DIR=$tmp/cc-env
		[ -z "$2" ] || export CCACHE_BASEDIR=$2
		recipe_ccache test "" "$3"
		echo "${cc}|${CCACHE_BASEDIR:-}|${CCACHE_NOHASHDIR:-}"
	)
}

if ! command -v ccache >/dev/null; then
	echo "FAIL ccache is not installed (debian-packages.txt lists it)"
	is_fail=$((is_fail + 1))
else
	pc=$root/hypervisor/probe-cache.sh
	is "TREE is base_dir" "$(env_of 1 "" /w/src)" "$pc ccache gcc|/w/src|1"
	is "a set base_dir is kept" "$(env_of 1 /mine /w/src)" "$pc ccache gcc|/mine|1"
	is "TREE=/ sets nothing" "$(env_of 1 "" /)" "$pc ccache gcc||"
	is "no TREE sets nothing" "$(env_of 1 "" "")" "$pc ccache gcc||"
	is "XENCI_CCACHE=0" "$(env_of 0 "" /w/src)" "gcc||"
	mkdir -p "$tmp/a b"
	cp "$root/hypervisor/recipe-lib.sh" "$root/hypervisor/probe-cache.sh" "$tmp/a b/"
	is "a recipe folder with a space: no probe cache (make splits CC)" \
		"$(CCACHE_DIR=$tmp/cc-space bash -c '. "$1/recipe-lib.sh"; recipe_ccache t "" ""; echo "$cc|$hostcc"' \
			_ "$tmp/a b")" "ccache gcc|ccache gcc"

	# One file with -g (as Xen, Linux and the tools build) in two folders.
	hits() { # TREE? -> cache hits after compiling in $tmp/one/x.c then $tmp/two/deeper/x.c
		(
			export CCACHE_DIR=$tmp/cc-$1 XENCI_CCACHE=1
			for d in "$tmp/$1/one" "$tmp/$1/two/deeper"; do
				unset CCACHE_BASEDIR CCACHE_NOHASHDIR
				mkdir -p "$d/include"
				printf '#define N 3\n' >"$d/include/n.h"
				printf '#include "n.h"\nint f(void) { return N; }\n' >"$d/x.c"
				recipe_ccache test "" "$([ "$1" = tree ] && echo "$d")"
				(cd "$d" && $cc -g -I"$d/include" -c "$d/x.c" -o "$d/x.o") || exit 1
			done
			ccache --print-stats | awk '$1 == "direct_cache_hit" || $1 == "preprocessed_cache_hit" { n += $2 } END { print n + 0 }'
		)
	}
	is "another folder hits the cache with TREE" "$(hits tree)" 1
	is "and misses without it (ccache's default)" "$(hits none)" 0
fi

# probe-cache.sh, with a compiler that counts its runs and answers as told.
mkdir -p "$tmp/pc"
cat >"$tmp/pc/fakecc" <<'EOF'
#!/bin/bash
echo run >>"$RUNS"
input=$(cat)
echo "out:$*:$input"
echo "err:${ANSWER:-}" >&2
exit "${STATUS:-0}"
EOF
chmod +x "$tmp/pc/fakecc"
probe() { # INPUT ARGS... -> "status|stdout|stderr|runs so far"
	local input=$1 o e s
	shift
	o=$(printf '%s' "$input" | "$root/hypervisor/probe-cache.sh" "$tmp/pc/fakecc" "$@" 2>"$tmp/pc/e")
	s=$?
	e=$(cat "$tmp/pc/e")
	echo "$s|$o|$e|$(wc -l <"$RUNS")"
}
{
	export RUNS=$tmp/pc/runs CCACHE_DIR=$tmp/pc/cache XENCI_PROBE_ID=one
	: >"$RUNS"
	is "probe: the compiler's answer" "$(STATUS=1 ANSWER=no probe 'void*p=1;' -Wx -c -o /dev/null -x c -)" \
		"1|out:-Wx -c -o /dev/null -x c -:void*p=1;|err:no|1"
	is "probe again: kept, not run" "$(STATUS=0 ANSWER=changed probe 'void*p=1;' -Wx -c -o /dev/null -x c -)" \
		"1|out:-Wx -c -o /dev/null -x c -:void*p=1;|err:no|1"
	is "another input: run" "$(probe 'int x;' -Wx -c -o /dev/null -x c -)" \
		"0|out:-Wx -c -o /dev/null -x c -:int x;|err:|2"
	is "other arguments: run" "$(probe 'int x;' -Wy -c -o /dev/null -x c -)" \
		"0|out:-Wy -c -o /dev/null -x c -:int x;|err:|3"
	is "as-insn's order: kept too" "$(probe 'a' -c -x c -o /dev/null -)" "0|out:-c -x c -o /dev/null -:a|err:|4"
	is "as-insn's order again" "$(STATUS=5 probe 'a' -c -x c -o /dev/null -)" "0|out:-c -x c -o /dev/null -:a|err:|4"
	is "another toolchain: run" "$(XENCI_PROBE_ID=two probe 'int x;' -Wx -c -o /dev/null -x c -)" \
		"0|out:-Wx -c -o /dev/null -x c -:int x;|err:|5"
	is "a real compile: run every time" "$(probe 'int x;' -c -o x.o -x c -)$(probe 'int x;' -c -o x.o -x c -)" \
		"0|out:-c -o x.o -x c -:int x;|err:|60|out:-c -o x.o -x c -:int x;|err:|7"
	is "not from standard input: run every time" "$(probe '' -c -o /dev/null x.c)$(probe '' -c -o /dev/null x.c)" \
		"0|out:-c -o /dev/null x.c:|err:|80|out:-c -o /dev/null x.c:|err:|9"
	is "no CCACHE_DIR: run every time" \
		"$(unset CCACHE_DIR; probe 'q' -c -o /dev/null -; probe 'q' -c -o /dev/null -)" \
		"0|out:-c -o /dev/null -:q|err:|10
0|out:-c -o /dev/null -:q|err:|11"
	is "an input that includes a file: run every time" \
		"$(probe '#include "h.h"' -c -o /dev/null -; probe '#include "h.h"' -c -o /dev/null -)" \
		"0|out:-c -o /dev/null -:#include \"h.h\"|err:|12
0|out:-c -o /dev/null -:#include \"h.h\"|err:|13"
	is "arguments that include a file: run every time" \
		"$(probe 'q' -include h.h -c -o /dev/null -; probe 'q' -include h.h -c -o /dev/null -)" \
		"0|out:-include h.h -c -o /dev/null -:q|err:|14
0|out:-include h.h -c -o /dev/null -:q|err:|15"
	is "a killed compiler's status is not kept" \
		"$(STATUS=137 probe 'k' -c -o /dev/null -; STATUS=0 probe 'k' -c -o /dev/null -)" \
		"137|out:-c -o /dev/null -:k|err:|16
0|out:-c -o /dev/null -:k|err:|17"
	is "nor a status 1 that says the compiler was killed" \
		"$(STATUS=1 ANSWER='gcc: fatal error: Killed signal terminated program cc1' probe 'm' -c -o /dev/null -
			STATUS=0 probe 'm' -c -o /dev/null -)" \
		"1|out:-c -o /dev/null -:m|err:gcc: fatal error: Killed signal terminated program cc1|18
0|out:-c -o /dev/null -:m|err:|19"
	is "no XENCI_PROBE_ID: run every time" \
		"$(XENCI_PROBE_ID='' probe 'n' -c -o /dev/null -; XENCI_PROBE_ID='' probe 'n' -c -o /dev/null -)" \
		"0|out:-c -o /dev/null -:n|err:|20
0|out:-c -o /dev/null -:n|err:|21"
	is "no command: usage" "$("$root/hypervisor/probe-cache.sh" 2>&1; echo "rc=$?")" \
		"usage: probe-cache.sh COMPILER [ARGS...]
rc=2"
	is "a NUL in the input reaches the compiler whole" \
		"$(printf 'ab\0cd' | "$root/hypervisor/probe-cache.sh" sh -c 'wc -c' x -o /dev/null -)" 5
	# gcc itself, through a header that changes between two probes
	printf 'int ok;\n' >"$tmp/pc/h.h"
	first=$(printf '#include "%s"\n' "$tmp/pc/h.h" |
		"$root/hypervisor/probe-cache.sh" gcc -x c -std=c99 -Werror -S -o /dev/null - 2>/dev/null; echo "rc=$?")
	printf 'not C\n' >"$tmp/pc/h.h"
	is "a header that changed is compiled again" "$first $(printf '#include "%s"\n' "$tmp/pc/h.h" |
		"$root/hypervisor/probe-cache.sh" gcc -x c -std=c99 -Werror -S -o /dev/null - 2>/dev/null; echo "rc=$?")" \
		"rc=0 rc=1"
	mkdir -p "$tmp/pc/ro"
	chmod 0555 "$tmp/pc/ro"
	if [ ! -w "$tmp/pc/ro" ]; then # (root writes anyway)
		is "nowhere to keep it: run, answered" "$(CCACHE_DIR=$tmp/pc/ro/c STATUS=2 probe 'q' -c -o /dev/null -)" \
			"2|out:-c -o /dev/null -:q|err:|22"
	fi
	# gcc itself: a flag it lacks, kept and given back word for word
	real=$(printf 'void*p=1;' | gcc -Wno-xenci-bogus -Wbogus-xenci -c -o /dev/null -x c - 2>&1; echo "rc=$?")
	is "gcc's probe, kept" \
		"$(for _ in 1 2; do printf 'void*p=1;' | "$root/hypervisor/probe-cache.sh" gcc -Wno-xenci-bogus \
			-Wbogus-xenci -c -o /dev/null -x c - 2>&1; echo "rc=$?"; done)" "$real
$real"
	# 16 probes at once, each its own question: each kept answer is its own
	before=$(wc -l <"$RUNS")
	for i in $(seq 16); do
		printf 'par%s' "$i" | "$root/hypervisor/probe-cache.sh" "$tmp/pc/fakecc" -c -o /dev/null - \
			>/dev/null 2>&1 &
	done
	wait
	bad=0
	for i in $(seq 16); do
		[ "$(printf 'par%s' "$i" | "$root/hypervisor/probe-cache.sh" "$tmp/pc/fakecc" -c -o /dev/null - \
			2>/dev/null)" = "out:-c -o /dev/null -:par$i" ] || bad=$((bad + 1))
	done
	is "16 probes at once: each answer its own" "$bad" 0
	is "16 probes at once: each run once, then kept" "$(($(wc -l <"$RUNS") - before))" 16
	# the first six questions, k and m once answered for good, the 16
	is "one answer kept per question" "$(find "$CCACHE_DIR/xenci-probes" -name '*.status' | wc -l)" 24
	is "no temporary file left" "$(find "$CCACHE_DIR/xenci-probes" -name 'tmp.*' | wc -l)" 0
	unset RUNS CCACHE_DIR XENCI_PROBE_ID
}

# recipe_python, with a shim first on PATH: a script that runs the real python3.
real=$(command -v python3)
mkdir -p "$tmp/shims" "$tmp/broken"
printf '#!/bin/sh\nexec %s "$@"\n' "$real" >"$tmp/shims/python3"
printf '#!/bin/sh\nexit 3\n' >"$tmp/broken/python3"
chmod +x "$tmp/shims/python3" "$tmp/broken/python3"
want=$("$real" -c 'import sys; print(sys.executable)')
is "PYTHON is the interpreter, not the shim" \
	"$(unset PYTHON; PATH=$tmp/shims:$PATH; recipe_python test; printf '%s' "$PYTHON")" "$want"
is "and is exported" "$(unset PYTHON; recipe_python test; sh -c 'printf %s "$PYTHON"')" "$want"
is "a PYTHON set is kept" "$(PYTHON=/opt/py/bin/python3; recipe_python test; printf '%s' "$PYTHON")" \
	/opt/py/bin/python3
is "a python3 that does not run is an error" \
	"$( (unset PYTHON; PATH=$tmp/broken:$PATH; recipe_python test) 2>&1; echo "rc=$?")" \
	"test: python3 does not run
rc=1"

is_end
