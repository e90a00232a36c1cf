#!/usr/bin/env bash
# tests/docs/test-docs.sh — the commands the docs give, run for real where this machine can:
#  - --help and --version of the three programs; a bad option exits 2, as the man pages
#    say; every option a program's --help names, every controller configuration key and
#    agent-file key is in its man page; the man pages format without warnings;
#  - xenci-agent --check of every board file in boards/ (must pass) and boards/examples/
#    (must pass, or fail only for hardware or secrets absent here: a missing serial device
#    or token file; the same file with those pointed at stand-ins here must then pass);
#  - make install DESTDIR=… puts every file in place and the installed programs run;
#    make install PREFIX=… gives units that systemd-analyze verify accepts, whose
#    exposure stays bounded, whose users sysusers.d makes (in a scratch root), and a
#    controller that starts from the example configuration and serves its page's assets;
#  - README's `xenci token create …` for a partner's agent makes a token that works;
#  - docs/operations.md's backup of the live database restores into a controller that
#    takes the tokens made before it;
#  - docs/contributing-a-board.md: its ```yaml file=PATH board and agent files are
#    checked like the examples; its ```sh-here blocks run in order (the installed
#    programs first on PATH, /usr/local read as the install prefix); the trial agent they
#    set up declares its QEMU board to the installed controller, which shows it idle on
#    the board's page and in `xenci boards`; as root, that controller runs as nobody
#    under strace and every system call it made must pass its unit's SystemCallFilter.
#    ```sh blocks need hardware or root: not run.
# Ends with "N passed, N failed". Every process it starts is killed by PID.
set -uo pipefail
root=${XENCI_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${XENCI_BUILD:-$root/build}
tmp=$(mktemp -d)
pids=()
pass=0
fail=0

cleanup() {
	local p
	# A traced controller is strace's child: it goes first (strace ignores SIGTERM
	# in the background and waits for it).
	for p in "${pids[@]}"; do
		pkill -TERM -P "$p" 2>/dev/null
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

ok() {
	pass=$((pass + 1))
	echo "ok   $1"
}
bad() {
	fail=$((fail + 1))
	echo "FAIL $1"
	[[ -n ${2:-} && -s $2 ]] && sed 's/^/     | /' "$2" | head -20
}
# check NAME CMD...: passes when CMD exits 0; its output is kept in $tmp/out.
check() {
	local name=$1
	shift
	if "$@" >"$tmp/out" 2>&1; then ok "$name"; else bad "$name" "$tmp/out"; fi
}

# --- the programs ------------------------------------------------------------------------
for prog in xenci-controller xenci-agent xenci; do
	bin=$build/$prog
	if out=$("$bin" --help 2>&1) && grep -q "^usage: $prog" <<<"$out"; then
		ok "$prog --help"
	else
		bad "$prog --help: $out"
	fi
	if out=$("$bin" --version 2>&1) && [[ $out =~ ^$prog\ [0-9a-z.-]+$ ]]; then
		ok "$prog --version ($out)"
	else
		bad "$prog --version: $out"
	fi
	"$bin" --no-such-option >/dev/null 2>&1
	rc=$?
	if [[ $rc == 2 ]]; then ok "$prog --no-such-option exits 2"; else bad "$prog bad option exits $rc"; fi
	case $prog in xenci) man=$root/packaging/man/xenci.1 ;; *) man=$root/packaging/man/$prog.8 ;; esac
	missing=""
	for opt in $("$bin" --help 2>&1 | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
		grep -qF -- "${opt//-/\\-}" "$man" || missing+=" $opt"
	done
	if [[ -z $missing ]]; then ok "$(basename "$man") names every option of --help"; else bad "$(basename "$man") lacks:$missing"; fi
	if command -v groff >/dev/null; then
		check "$(basename "$man") formats without warnings" bash -c \
			"w=\$(groff -man -Tutf8 -ww -z '$man' 2>&1); [[ -z \$w ]] || { echo \"\$w\"; exit 1; }"
	fi
done

# Every key of the controller's configuration and of the agent file is in its man page.
keys_in_man() { # NAME SOURCE MAN: the .name = "…" of SOURCE's vfield tables, set in bold
	local missing="" k
	while read -r k; do
		grep -qE "^\.(B|BR|RB|BI) (.*[ \"])?$k([ \",)]|\$)" "$3" || missing+=" $k"
	done < <(grep -oE '\.name = "[a-z_]+"' "$2" | cut -d'"' -f2 | sort -u)
	if [[ -z $missing ]]; then ok "$1: every key in $(basename "$3")"; else bad "$1: $(basename "$3") lacks:$missing"; fi
}
keys_in_man "controller/config.c" "$root/controller/config.c" "$root/packaging/man/xenci-controller.8"
sed -n '/agent_fields\[\]\|limits_fields\[\]/,/^};/p' "$root/lab-agent/agent-config.c" >"$tmp/agent-fields.c"
keys_in_man "lab-agent/agent-config.c agent file" "$tmp/agent-fields.c" "$root/packaging/man/xenci-agent.8"

# --- board and agent files ---------------------------------------------------------------
# Messages about what only the lab has: a serial device, a token file.
absent_re='(no serial device|token_file: cannot read)'

# standin FILE: a copy in $tmp/standin/ (same folder layout below $2) whose serial devices,
# token files, TFTP, work and cache folders are stand-ins that exist here.
standin() {
	local f=$1 dst=$2
	mkdir -p "$(dirname "$dst")" "$tmp/standin-tftp" "$tmp/standin-work"
	echo xci_standin >"$tmp/standin.token"
	sed -E -e "s|^(\s*device:\s*).*|\1/dev/null|" \
		-e "s|^(\s*token_file:\s*).*|\1$tmp/standin.token|" \
		-e "s|^(\s*tftp_dir:\s*).*|\1$tmp/standin-tftp|" \
		-e "s|^(\s*work_dir:\s*).*|\1$tmp/standin-work|" \
		-e "s|^(\s*cache_dir:\s*).*|\1$tmp/standin-work/cache|" "$f" >"$dst"
}

# check_board NAME FILE COPY_ROOT: FILE passes --check, or fails only with $absent_re
# messages and its stand-in copy (below COPY_ROOT, next to its neighbours) passes.
check_board() {
	local name=$1 f=$2 copy=$3 rc
	"$build/xenci-agent" --check "$f" >"$tmp/check" 2>&1
	rc=$?
	if [[ $rc == 0 ]]; then
		ok "xenci-agent --check $name"
		return
	fi
	if grep -vE "$absent_re|files? OK" "$tmp/check" | grep -q .; then
		bad "xenci-agent --check $name: not only absent hardware" "$tmp/check"
		return
	fi
	standin "$f" "$copy"
	if "$build/xenci-agent" --check "$copy" >"$tmp/check2" 2>&1; then
		ok "xenci-agent --check $name: only absent here ($(grep -oE "$absent_re" "$tmp/check" | sort -u | paste -sd, -)); passes with stand-ins"
	else
		bad "xenci-agent --check $name with stand-ins" "$tmp/check2"
	fi
}

before_var=$(ls -d /var/lib/xenci-agent /var/cache/xenci-agent 2>/dev/null)
cp -r "$root/boards" "$tmp/boards-copy"
for f in "$root"/boards/*.yaml; do
	check "xenci-agent --check boards/$(basename "$f")" "$build/xenci-agent" --check "$f"
done
for f in "$root"/boards/examples/*.yaml; do
	check_board "boards/examples/$(basename "$f")" "$f" "$tmp/boards-copy/examples/$(basename "$f")"
done
after_var=$(ls -d /var/lib/xenci-agent /var/cache/xenci-agent 2>/dev/null)
if [[ $before_var == "$after_var" ]]; then ok "--check of the examples created no folder"; else bad "--check created $after_var"; fi

# --- make install ------------------------------------------------------------------------
dest=$tmp/dest
# -o: install the programs as built; never rebuild them here (others may be editing).
noremake=(-o "$build/xenci-controller" -o "$build/xenci-agent" -o "$build/xenci")
check "make install DESTDIR" make -C "$root" --no-print-directory "${noremake[@]}" BUILD="$build" install DESTDIR="$dest" PREFIX=/usr/local
for f in bin/xenci-controller bin/xenci-agent bin/xenci share/man/man1/xenci.1 \
	share/man/man8/xenci-controller.8 share/man/man8/xenci-agent.8 \
	lib/systemd/system/xenci-controller.service lib/systemd/system/xenci-agent@.service \
	lib/sysusers.d/xenci.conf share/xenci/web/xenci.css share/xenci/web/xenci.js \
	share/xenci/jobs/xen-smoke.yaml share/xenci/schema/0001-core.sql \
	share/xenci/boards/qemu-x86_64.yaml share/xenci/boards/examples/agent.yaml \
	share/xenci/hypervisor/build.sh share/xenci/examples/controller.yaml; do
	[[ -e $dest/usr/local/$f ]] || missing_inst+=" $f"
done
if [[ -z ${missing_inst:-} ]]; then ok "installed files in place"; else bad "not installed:$missing_inst"; fi
if [[ -x $dest/usr/local/share/xenci/hypervisor/build.sh ]]; then ok "hypervisor scripts executable"; else bad "build.sh not executable"; fi
if grep -q '@[A-Z]*@' "$dest"/usr/local/lib/systemd/system/* "$dest"/usr/local/share/xenci/examples/*; then
	bad "placeholders left in the installed units or examples"
else
	ok "units and examples name the install paths"
fi
for prog in xenci-controller xenci-agent xenci; do
	check "installed $prog --version" "$dest/usr/local/bin/$prog" --version
done

prefix=$tmp/prefix
check "make install PREFIX" make -C "$root" --no-print-directory "${noremake[@]}" BUILD="$build" install PREFIX="$prefix"
if command -v systemd-analyze >/dev/null; then
	for u in "$prefix"/lib/systemd/system/*.service; do
		check "systemd-analyze verify $(basename "$u")" env MANPATH="$prefix/share/man" systemd-analyze verify "$u"
	done
fi
if command -v systemd-sysusers >/dev/null; then
	mkdir -p "$tmp/sysroot/etc"
	check "systemd-sysusers --root: the users of the units" systemd-sysusers --root="$tmp/sysroot" "$prefix/lib/sysusers.d/xenci.conf"
	check "sysusers: xenci, xenci-agent in dialout and plugdev" bash -c \
		"grep -q '^xenci:' '$tmp/sysroot/etc/passwd' && grep -q '^xenci-agent:' '$tmp/sysroot/etc/passwd' &&
		 grep -q '^dialout:.*xenci-agent' '$tmp/sysroot/etc/group' && grep -q '^plugdev:.*xenci-agent' '$tmp/sysroot/etc/group'"
	for u in xenci-controller.service:xenci xenci-agent@.service:xenci-agent; do
		check "${u%%:*} runs as a user sysusers makes" grep -qx "User=${u#*:}" "$prefix/lib/systemd/system/${u%%:*}"
	done
fi
# The hardening stays: systemd's exposure score of each unit under a bound.
if command -v systemd-analyze >/dev/null && systemd-analyze security --help 2>&1 | grep -q -- --offline; then
	for u in xenci-controller.service:2.0 xenci-agent@.service:4.5; do
		score=$(systemd-analyze security --offline=yes "$prefix/lib/systemd/system/${u%%:*}" 2>&1 |
			grep -oE 'Overall exposure level for [^:]+: [0-9.]+' | grep -oE '[0-9.]+$')
		if [[ -n $score ]] && awk -v s="$score" -v m="${u#*:}" 'BEGIN { exit !(s <= m) }'; then
			ok "systemd-analyze security ${u%%:*}: exposure $score (at most ${u#*:})"
		else
			bad "systemd-analyze security ${u%%:*}: exposure '${score}' over ${u#*:}"
		fi
	done
fi
check "installed controller --check of the example configuration" \
	"$prefix/bin/xenci-controller" --check --config "$prefix/share/xenci/examples/controller.yaml"

# The installed controller from the example configuration (its own data folder and port).
sed -e "s|^data:.*|data: $tmp/ctl|" -e "s|^listen:.*|listen: 127.0.0.1:0|" \
	"$prefix/share/xenci/examples/controller.yaml" >"$tmp/controller.yaml"
(cd "$tmp" && exec "$prefix/bin/xenci-controller" --config "$tmp/controller.yaml") >"$tmp/ctl.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [[ -s $tmp/ctl/controller.url ]] && break; sleep 0.1; done
url=$(cat "$tmp/ctl/controller.url" 2>/dev/null)
if [[ -n $url ]]; then ok "installed controller serves ($url)"; else bad "installed controller did not start" "$tmp/ctl.log"; fi
if [[ -n $url ]]; then
	if curl -fsS "$url/static/xenci.css" -o "$tmp/css" && cmp -s "$tmp/css" "$root/web/xenci.css"; then
		ok "installed controller serves web/xenci.css from the installed web_dir"
	else
		bad "installed controller: /static/xenci.css"
	fi
	check "installed controller /metrics" bash -c "curl -fsS '$url/metrics' | grep -q '^xenci_queue_depth '"
fi

# docs/operations.md's backup of a running controller: SQLite's online backup, an
# integrity check, and a controller that starts on the copy and has the same tokens.
if [[ -n $url ]] && command -v sqlite3 >/dev/null; then
	probe=$("$prefix/bin/xenci-controller" token create --role user --name backup-probe --data "$tmp/ctl" \
		--schema "$prefix/share/xenci/schema")
	mkdir -p "$tmp/backup"
	check "operations: sqlite3 .backup of the live database" sqlite3 "$tmp/ctl/xenci.db" ".backup '$tmp/backup/xenci.db'"
	check "operations: PRAGMA integrity_check of the copy" bash -c "[[ \$(sqlite3 '$tmp/backup/xenci.db' 'PRAGMA integrity_check') == ok ]]"
	check "operations: the copy lists the migrations" bash -c \
		"[[ \$(sqlite3 '$tmp/backup/xenci.db' 'SELECT count(*) FROM schema_migrations') == $(find "$root/schema" -name "[0-9][0-9][0-9][0-9]-*.sql" | wc -l) ]]"
	check "operations: the copy holds the token made before it" bash -c \
		"sqlite3 '$tmp/backup/xenci.db' 'SELECT name FROM tokens' | grep -qx backup-probe"
	(cd "$tmp" && exec "$prefix/bin/xenci-controller" --config "$tmp/controller.yaml" --data "$tmp/backup") >"$tmp/restore.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do [[ -s $tmp/backup/controller.url ]] && break; sleep 0.1; done
	burl=$(cat "$tmp/backup/controller.url" 2>/dev/null)
	check "operations: a controller starts on the restored copy" curl -fsS "$burl/api/v1/version"
	check "operations: the restored controller takes the token" curl -fsS -H "Authorization: Bearer $probe" "$burl/api/v1/boards"
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer xci_not_a_token" "$burl/api/v1/boards")
	if [[ $code == 401 ]]; then ok "operations: and refuses an unknown one (401)"; else bad "operations: unknown token got $code"; fi
fi

# README's partner workflow: the admin's `xenci token create …` for a partner's agent,
# as README writes it, against the installed controller with an admin token.
# shellcheck disable=SC2016 # backticks are literal here
readme_cmd=$(grep -oE '`xenci token create[^`]*`' "$root/README.md" | head -1 | tr -d '`')
if [[ -n $url && -n $readme_cmd ]]; then
	admin=$("$prefix/bin/xenci-controller" token create --role admin --name docs-test --data "$tmp/ctl" \
		--schema "$prefix/share/xenci/schema")
	read -ra words <<<"$readme_cmd"
	if out=$(XENCI_URL=$url XENCI_TOKEN=$admin PATH="$prefix/bin:$PATH" "${words[@]}" 2>&1) &&
		tok=$(grep -oE 'xci_[A-Za-z0-9_-]{44}' <<<"$out" | head -1) && [[ -n $tok ]] &&
		curl -fsS -o /dev/null -H "Authorization: Bearer $tok" "$url/api/v1/boards"; then
		ok "README: '$readme_cmd' makes a token the controller takes"
	else
		bad "README: '$readme_cmd': $out"
	fi
else
	bad "README: no 'xenci token create' command found, or no controller"
fi

# expand_filter @GROUP|NAME: the system calls it names, groups expanded.
expand_filter() {
	local x
	if [[ $1 != @* ]]; then
		echo "$1"
		return
	fi
	systemd-analyze syscall-filter "$1" | awk 'NR > 1 && $1 !~ /^#/ { print $1 }' |
		while read -r x; do expand_filter "$x"; done
}
# check_syscall_filter UNIT TRACE: every system call of TRACE (strace -f, from the
# program's own execve on) passes UNIT's SystemCallFilter= lines (allow, then ~deny).
check_syscall_filter() {
	local unit=$1 trace=$2 allow deny used bad_calls="" c
	allow=$(grep -E '^SystemCallFilter=[^~]' "$unit" | cut -d= -f2- | tr ' ' '\n' |
		while read -r c; do [[ -n $c ]] && expand_filter "$c"; done | sort -u)
	deny=$(grep -E '^SystemCallFilter=~' "$unit" | cut -d'~' -f2- | tr ' ' '\n' |
		while read -r c; do [[ -n $c ]] && expand_filter "$c"; done | sort -u)
	used=$(awk '/execve\(".*xenci-controller"/ { on = 1 } on' "$trace" |
		grep -oE '^[0-9]+ +[a-z0-9_]+\(' | awk '{ print $2 }' | tr -d '(' | sort -u)
	for c in $used; do
		if ! grep -qx "$c" <<<"$allow" || grep -qx "$c" <<<"$deny"; then bad_calls+=" $c"; fi
	done
	if [[ -z $used ]]; then
		bad "$(basename "$unit"): no system calls traced"
	elif [[ -z $bad_calls ]]; then
		ok "$(basename "$unit"): the $(wc -w <<<"$used") system calls of a traced run pass its SystemCallFilter"
	else
		bad "$(basename "$unit"): SystemCallFilter refuses:$bad_calls"
	fi
}

# --- docs/contributing-a-board.md ----------------------------------------------------------
doc=$root/docs/contributing-a-board.md
work=$tmp/doc
mkdir -p "$work"
# ```yaml file=PATH blocks: PATH below $work/files, checked like the examples.
awk -v out="$work/files" '
	/^```yaml file=/ { f = out "/" substr($2, 6); sub("//", "/", f); n = split(f, a, "/");
		d = substr(f, 1, length(f) - length(a[n])); system("mkdir -p \"" d "\""); on = 1; next }
	/^```/ { if (on) close(f); on = 0; next }
	on { print > f }' "$doc"
# Stand-ins for all first: an agent file's boards are its neighbours' copies.
while IFS= read -r f; do
	standin "$f" "$work/standin${f#"$work/files"}"
done < <(find "$work/files" -name '*.yaml' 2>/dev/null)
nfiles=0
while IFS= read -r f; do
	nfiles=$((nfiles + 1))
	rel=${f#"$work/files"}
	check_board "docs: $rel" "$f" "$work/standin$rel"
done < <(find "$work/files" -name '*.yaml' 2>/dev/null | sort)
if ((nfiles >= 3)); then ok "docs: $nfiles board and agent files found"; else bad "docs: only $nfiles yaml file= blocks"; fi

# ```sh-here blocks, in order, in one scratch folder, with the installed programs first
# on PATH and /usr/local standing for the install prefix.
awk -v out="$work/block" '
	/^```sh-here/ { n++; on = 1; next }
	/^```/ { on = 0; next }
	on { print > (out "-" sprintf("%02d", n) ".sh") }' "$doc"
nblocks=0
for b in "$work"/block-*.sh; do
	[[ -e $b ]] || break
	nblocks=$((nblocks + 1))
	sed -i "s|/usr/local|$prefix|g" "$b"
	check "docs: sh-here block $(basename "$b" .sh) ($(head -1 "$b"))" \
		env -C "$work" PATH="$prefix/bin:$PATH" bash -euo pipefail "$b"
done
if ((nblocks >= 2)); then ok "docs: $nblocks sh-here blocks found"; else bad "docs: only $nblocks sh-here blocks"; fi

# The doc's trial: the installed controller on the trial's data folder (where the doc
# made the agent's token), the agent from the doc's agent file (only the port differs).
if [[ -s $work/trial/agent.yaml && -s $work/trial/agent.token ]]; then
	# As root, with strace and setpriv: it runs as an unprivileged user, as under its unit,
	# and its system calls are recorded for the unit's SystemCallFilter below.
	wrap=()
	if [[ $(id -u) == 0 ]] && command -v strace >/dev/null && command -v setpriv >/dev/null; then
		chmod 755 "$tmp" && chown -R nobody:nogroup "$work/trial/ci"
		wrap=(strace -f -qq -o "$tmp/ctl.trace" setpriv --reuid=nobody --regid=nogroup --clear-groups)
	fi
	(cd "$work" && exec "${wrap[@]}" "$prefix/bin/xenci-controller" --config "$prefix/share/xenci/examples/controller.yaml" \
		--data trial/ci --listen 127.0.0.1:0) >"$tmp/trial-ctl.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do [[ -s $work/trial/ci/controller.url ]] && break; sleep 0.1; done
	turl=$(cat "$work/trial/ci/controller.url" 2>/dev/null)
	sed -e "s|^controller:.*|controller: $turl|" "$work/trial/agent.yaml" >"$work/trial/agent-here.yaml"
	"$prefix/bin/xenci-agent" "$work/trial/agent-here.yaml" >"$tmp/agent.log" 2>&1 &
	pids+=($!)
	state=""
	for _ in $(seq 100); do
		state=$(curl -fsS "$turl/api/v1/boards/qemu-x86_64" 2>/dev/null | grep -oE '"state": *"[a-z]+"' | head -1)
		[[ $state == *idle* ]] && break
		sleep 0.1
	done
	if [[ $state == *idle* ]]; then ok "docs: the trial agent's board is idle on the controller"; else bad "docs: trial board state '$state'" "$tmp/agent.log"; fi
	check "docs: the board's page shows it" bash -c "curl -fsS '$turl/boards/qemu-x86_64' | grep -q 'qemu-x86_64'"
	check "docs: xenci boards lists it" bash -c "'$prefix/bin/xenci' --url '$turl' boards | grep -E 'qemu-x86_64.*idle'"
	if ((${#wrap[@]})); then
		for path in / /metrics /static/xenci.js /api/v1/agents /api/v1/queue; do curl -fsS "$turl$path" >/dev/null; done
		check_syscall_filter "$prefix/lib/systemd/system/xenci-controller.service" "$tmp/ctl.trace"
	fi
else
	bad "docs: the sh-here blocks made no trial agent file or token"
fi

echo "$pass passed, $fail failed"
[[ $fail == 0 ]]
