# shellcheck shell=bash
# recipe-lib.sh — what the build recipes (build.sh, build-linux.sh) share; they
# source it from their own folder. Each function takes the recipe's name
# (for messages) first.

# recipe_ccache NAME CROSS — sets cc ("[ccache ]CROSSgcc") and hostcc
# ("[ccache ]gcc"): ccache in $CCACHE_DIR (default $XENCI_CACHE/ccache, then
# ~/.cache/xenci/ccache) unless XENCI_CCACHE=0, ccache is missing or the folder
# is not writable (e.g. a sandbox).
# shellcheck disable=SC2034 # cc and hostcc are the caller's
recipe_ccache() {
	cc="${2}gcc"
	hostcc=gcc
	if [ "${XENCI_CCACHE:-1}" != 0 ] && command -v ccache >/dev/null; then
		export CCACHE_DIR=${CCACHE_DIR:-${XENCI_CACHE:-$HOME/.cache/xenci}/ccache}
		if mkdir -p "$CCACHE_DIR" 2>/dev/null && [ -w "$CCACHE_DIR" ]; then
			cc="ccache $cc"
			hostcc="ccache gcc"
		else
			echo "$1: $CCACHE_DIR is not writable; building without ccache" >&2
		fi
	fi
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
