#!/usr/bin/env bash
# Installs every Debian package listed in $1 that is not installed yet, plus Node.js
# when there is no node, plus the browser tests' npm packages. Quick when all are there.
set -euo pipefail
list=${1:-debian-packages.txt}
mapfile -t want < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$list")
command -v node >/dev/null 2>&1 || want+=(nodejs)
command -v npm >/dev/null 2>&1 || want+=(npm)

missing=()
for p in "${want[@]}"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ $st == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]})); then
	sudo=""
	[[ $(id -u) == 0 ]] || sudo=sudo
	echo "deps: installing ${missing[*]}"
	# Refresh the package lists when they are missing or older than a day.
	if [[ -z $(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -1) ]]; then
		$sudo apt-get update -q
	fi
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The browser tests drive Debian's chromium with playwright-core from npm.
if [[ -f tests/browser/package.json && ! -d tests/browser/node_modules/playwright-core ]]; then
	(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi
exit 0
