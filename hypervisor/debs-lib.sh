# shellcheck shell=bash
# debs-lib.sh — Debian packages of one architecture, fetched with
# `apt-get download` and never installed: what payloads.sh and sysroot.sh
# share; they source it from their own folder.
#
# debs_init NAME ARCH (x86_64 | arm64) sets
#   debarch   Debian's name of ARCH (amd64 | arm64)
#   debs      the folder of the .debs: $cache/debs/ARCH
#   apt_opts  apt's options for debarch: the host's own lists when debarch is
#             the host's, else a private list of the host's sources for that
#             architecture only ($cache/apt-DEBARCH), without touching
#             dpkg's architectures; fetched once (XENCI_APT_REFRESH=1 updates
#             them first)
# with cache=${XENCI_CACHE:-~/.cache/xenci}. NAME prefixes the messages.
# debs_download PKG... prints the path of each PKG's .deb, a line each in
# order (the newest version the lists know), downloading each once: a second
# run is offline. One `apt-cache policy` resolves them all (each apt-cache
# costs ~75 ms: itself and the dpkg it asks for the architectures; a call per
# package was most of a cached payloads.sh run).
# debs_candidates PKG... prints "PKG VERSION" lines: apt's candidates.
# apt_cache ARGS... is apt-cache with apt_opts.

debs_init() {
	debs_name=$1
	case $2 in
	x86_64) debarch=amd64 ;;
	arm64) debarch=arm64 ;;
	*) echo "$debs_name: no Debian architecture for $2" >&2; exit 2 ;;
	esac
	local tool
	for tool in apt-get apt-cache dpkg-deb; do
		command -v "$tool" >/dev/null || { echo "$debs_name: missing tool: $tool" >&2; exit 1; }
	done
	cache=${XENCI_CACHE:-$HOME/.cache/xenci}
	debs=$cache/debs/$2
	mkdir -p "$debs"
	apt_opts=()
	# As root, apt cannot hand downloads to its _apt sandbox user in our cache
	# folders and warns; say so up front instead.
	[ "$(id -u)" -ne 0 ] || apt_opts=(-o APT::Sandbox::User=root)
	debs_alt=
	if [ "$debarch" != "$(dpkg --print-architecture)" ]; then
		debs_alt=$cache/apt-$debarch
		apt_opts+=(
			-o "APT::Architecture=$debarch"
			-o "APT::Architectures=$debarch"
			-o "Dir::State::Lists=$debs_alt/lists"
			-o "Dir::Cache=$debs_alt/cache"
			# keep apt's binary cache of the lists: later runs skip re-parsing them
			-o Dir::Cache::pkgcache=pkgcache.bin
			-o Dir::Cache::srcpkgcache=srcpkgcache.bin
		)
		mkdir -p "$debs_alt/lists/partial" "$debs_alt/cache/archives/partial"
		if [ "${XENCI_APT_REFRESH:-0}" = 1 ] ||
			! compgen -G "$debs_alt/lists/*_Packages*" >/dev/null; then
			debs_apt_update
		fi
	else
		# The host's lists, with apt's binary cache of them kept in our cache.
		mkdir -p "$cache/apt-host"
		apt_opts+=(
			-o "Dir::Cache::pkgcache=$cache/apt-host/pkgcache.bin"
			-o "Dir::Cache::srcpkgcache=$cache/apt-host/srcpkgcache.bin"
		)
	fi
}

debs_apt_update() {
	echo "$debs_name: updating the $debarch package lists" >&2
	apt-get -qq "${apt_opts[@]}" update ||
		{ echo "$debs_name: apt-get update for $debarch failed" >&2; exit 1; }
}

apt_cache() { apt-cache "${apt_opts[@]}" "$@"; }

# A stale list (404) is refreshed once and the download tried again.
debs_download() {
	local pkg ver file cands
	local -A cand=()
	cands=$(debs_candidates "$@") || exit 1
	while read -r pkg ver; do
		[ -z "$pkg" ] || cand[$pkg]=$ver
	done <<<"$cands"
	for pkg in "$@"; do
		ver=${cand[$pkg]:-}
		if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
			echo "$debs_name: apt knows no package $pkg for $debarch" >&2
			exit 1
		fi
		file=$(debs_fetch "$pkg" "$ver") || exit 1
		echo "$file"
	done
}

# debs_candidates PKG... prints "PKG VERSION" for each package apt has a
# candidate of ("(none)" when it has none), from one `apt-cache policy`; when
# apt-cache fails (a broken or locked cache), its errors and status 1:
# "NAME:" (or "NAME:ARCH:") at the margin, then "  Candidate: VERSION".
debs_candidates() {
	local text status
	text=$(apt_cache policy "$@" 2>&1)
	status=$?
	if [ "$status" -ne 0 ]; then
		echo "$debs_name: apt-cache policy failed for $debarch ($status):" >&2
		printf '%s\n' "$text" | grep -E '^(E|W):' | head -n 5 >&2
		return 1
	fi
	printf '%s\n' "$text" | awk '
		/^[^ ].*:$/ { name = substr($0, 1, length($0) - 1); sub(/:[a-z0-9]+$/, "", name) }
		/^  Candidate:/ && name != "" { print name, $2; name = "" }'
}

# debs_fetch PKG VERSION prints the path of that .deb, downloading it when the
# cache has none.
debs_fetch() {
	local pkg=$1 ver=$2 file
	file=$(find "$debs" -maxdepth 1 -name "${pkg}_${ver//:/%3a}_*.deb" -print -quit)
	if [ -z "$file" ]; then
		echo "$debs_name: downloading $pkg $ver ($debarch)" >&2
		# As root, apt downloads unsandboxed and says so; that notice is harmless.
		if ! (cd "$debs" && apt-get -qq "${apt_opts[@]}" download "$pkg=$ver" 2>/dev/null); then
			debs_apt_update
			(cd "$debs" && apt-get -qq "${apt_opts[@]}" download "$pkg=$ver") ||
				{ echo "$debs_name: apt-get download $pkg=$ver failed" >&2; exit 1; }
		fi
		file=$(find "$debs" -maxdepth 1 -name "${pkg}_${ver//:/%3a}_*.deb" -print -quit)
		[ -n "$file" ] || { echo "$debs_name: apt-get download $pkg left no .deb in $debs" >&2; exit 1; }
	fi
	echo "$file"
}
