# shellcheck shell=bash
# recipe-lib.sh — what the build recipes (build.sh, build-tools.sh,
# build-linux.sh, payloads.sh) share; they source it from their own folder.
# Each function takes the recipe's name (for messages) first.

# recipe_ccache NAME CROSS [TREE] — sets cc ("[probe-cache.sh ccache ]CROSSgcc")
# and hostcc ("[probe-cache.sh ccache ]gcc"): ccache in $CCACHE_DIR (default
# $XENCI_CACHE/ccache, then ~/.cache/xenci/ccache) unless XENCI_CCACHE=0, ccache
# is missing or the folder is not writable (e.g. a sandbox); the compiler
# probes' answers kept beside it (probe-cache.sh: Xen's make asks the same ~140
# questions of the toolchain at every build), under XENCI_PROBE_ID, which it
# exports: the sha256 of the compiler's and assembler's --version; not when the
# recipe's folder holds a space (make splits CC at spaces).
# TREE, the work tree the build runs in, becomes ccache's base_dir (unless
# CCACHE_BASEDIR is set) and the working directory is not hashed: ccache then
# rewrites the absolute paths below TREE into relative ones, so the same
# revision built in another folder (a new agent workspace, a fresh clone's
# tests) hits the cache (ccache manual, "Compiling in different directories";
# the debug info then names the folder of the build that filled the cache).
# shellcheck disable=SC2034 # cc and hostcc are the caller's
recipe_ccache() {
	cc="${2}gcc"
	hostcc=gcc
	if [ "${XENCI_CCACHE:-1}" != 0 ] && command -v ccache >/dev/null; then
		export CCACHE_DIR=${CCACHE_DIR:-${XENCI_CACHE:-$HOME/.cache/xenci}/ccache}
		if mkdir -p "$CCACHE_DIR" 2>/dev/null && [ -w "$CCACHE_DIR" ]; then
			local probe
			probe="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/probe-cache.sh"
			XENCI_PROBE_ID=$({ "$cc" --version && gcc --version &&
				"${2}as" --version; } 2>&1 | sha256sum)
			export XENCI_PROBE_ID=${XENCI_PROBE_ID%% *}
			case $probe in *[[:space:]]*) probe= ;; esac
			cc="${probe:+$probe }ccache $cc"
			hostcc="${probe:+$probe }ccache gcc"
			if [ -n "${3:-}" ] && [ "$3" != / ]; then
				export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$3}
				export CCACHE_NOHASHDIR=1
			fi
		else
			echo "$1: $CCACHE_DIR is not writable; building without ccache" >&2
		fi
	fi
}

# recipe_python NAME — sets and exports PYTHON, the Python 3 interpreter the
# recipe and the build it runs call: $PYTHON when set, else python3's own
# executable (sys.executable), asked once. A version manager's python3 on
# PATH (pyenv's shim: a bash script that starts pyenv on every call) costs
# ~0.1-0.9 s a call; Xen's hypervisor build runs Python twice per compat
# header and again in tools/get-fields.sh, through its PYTHON, which an
# exported PYTHON sets (xen/Makefile: `export PYTHON ?= ...`); the tools'
# configure records it; Linux's build takes it as PYTHON3 (build-linux.sh).
recipe_python() {
	if [ -z "${PYTHON:-}" ]; then
		PYTHON=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) ||
			{ echo "$1: python3 does not run" >&2; exit 1; }
		[ -x "$PYTHON" ] || { echo "$1: python3 names no executable ($PYTHON)" >&2; exit 1; }
	fi
	export PYTHON
}

# recipe_common_dir DIR [DIR2] — prints the deepest folder holding both
# absolute paths (DIR alone when DIR2 is empty): the base_dir of a build whose
# objects are outside its source tree.
recipe_common_dir() {
	local a=$1 b=${2:-$1}
	while [ "$a" != / ] && [ "$b" != "$a" ] && [ "${b#"$a"/}" = "$b" ]; do
		a=$(dirname "$a")
	done
	printf '%s\n' "$a"
}

# recipe_check_fragment NAME FRAGMENT CONFIG — every `CONFIG_X=v` and
# `# CONFIG_X is not set` line of FRAGMENT holds in CONFIG (after
# olddefconfig); else the recipe fails naming the line.
recipe_check_fragment() {
	local line want sym
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*) want=$line ;;
		"# CONFIG_"*" is not set") want=$line ;;
		*) continue ;;
		esac
		sym=${want#\# }
		sym=${sym%%[= ]*}
		if [ "$want" = "# $sym is not set" ]; then
			if grep -q "^$sym=" "$3"; then
				echo "$1: $2: $sym could not be unset (a dependency selects it)" >&2
				exit 1
			fi
		elif ! grep -qxF "$want" "$3"; then
			echo "$1: $2: '$want' did not take effect (unmet dependency?)" >&2
			exit 1
		fi
	done <"$2"
}
