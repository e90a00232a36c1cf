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
	is "TREE is base_dir" "$(env_of 1 "" /w/src)" "ccache gcc|/w/src|1"
	is "a set base_dir is kept" "$(env_of 1 /mine /w/src)" "ccache gcc|/mine|1"
	is "TREE=/ sets nothing" "$(env_of 1 "" /)" "ccache gcc||"
	is "no TREE sets nothing" "$(env_of 1 "" "")" "ccache gcc||"
	is "XENCI_CCACHE=0" "$(env_of 0 "" /w/src)" "gcc||"

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
