#!/usr/bin/env bats
# Hardening across programs (RELIABILITY.md promises 4 and 5, issue 9):
#  - fault injection through the project's wrappers (RETAIN_FAIL=KIND:N for
#    KIND alloc, write, fsync, rename, close and N = 1, 2, ... until the run
#    completes) for ingest, dedupe (spilling), rfm, cohort, segment-export,
#    churnscore and synth with -o: every run ends in the reference output
#    (byte for byte) or exit 4 with a message, every output file is either
#    the old one or the complete new one, and no temporary file is left
#    (output folder and TMPDIR/--tmpdir listed after every run);
#  - disk full for real (a tiny tmpfs) and a read-only output folder;
#  - SIGTERM/SIGINT/SIGHUP while the temporary output is open (and, where the
#    program streams, partly written), while dedupe spills and while
#    churnscore copies standard input: nothing left, old output intact; a
#    signal ignored at start (nohup) stays ignored;
#  - a second run on the same output is refused while the first holds it;
#  - `| head -1` is quiet; with SIGPIPE ignored, exit 4 and a clear message;
#    > /dev/full and a closed standard output: exit 4 with a message.

load helpers

setup_file() {
	FIX="$BATS_FILE_TMPDIR/fix"
	export FIX
	mkdir -p "$FIX"
	# small inputs for the fault sweeps
	synth --customers 30 --seed 3 --dup-rate 0.1 --refund-rate 0.1 -o "$FIX/s.csv"
	cp "$FIX/s.csv" "$FIX/bad.csv"
	printf 'C9,O9,2023-02-30,1.00,direct,SKU1\nC9,O9,2023-01-01,abc,direct,SKU1\n' >>"$FIX/bad.csv"
	ingest --attr channel "$FIX/s.csv" -o "$FIX/e.rtn"
	synth --customers 150 --seed 5 --dup-rate 0.1 --format stream -o "$FIX/m.rtn"
	dedupe "$FIX/e.rtn" -o "$FIX/d.rtn"
	rfm "$FIX/d.rtn" -o "$FIX/r.rtn"
	# churnscore needs enough customers for its fit
	synth --customers 300 --seed 2 --format stream | rfm -o "$FIX/r300.rtn"
	# large inputs for signals and pipes (outputs well above a pipe buffer)
	synth --customers 20000 --seed 9 -o "$FIX/big.csv"
	synth --customers 50000 --seed 7 --format stream -o "$FIX/b.rtn"
	dedupe "$FIX/b.rtn" -o "$FIX/bd.rtn"
	rfm "$FIX/bd.rtn" -o "$FIX/br.rtn"
}

# Each test writes into the empty folder $W; spill files go to $T/tmp.
prepare() {
	W="$T/w"
	mkdir -p "$W" "$T/tmp" "$T/ref"
	export TMPDIR="$T/tmp"
}

# Runs CMD once without faults; the files named in $OUTS (relative to $W)
# become the reference in $T/ref, standard error in $T/ref.err.
reference() {
	rm -f "$W"/* "$T"/ref/*
	"$@" >"$T/ref.stdout" 2>"$T/ref.err" || { echo "reference run failed: $*"; cat "$T/ref.err"; return 1; }
	local f
	for f in $OUTS; do
		[ -f "$W/$f" ] || { echo "reference run wrote no $f"; return 1; }
		cp "$W/$f" "$T/ref/$f"
	done
}

# The folder holds exactly the outputs; the temporary folder is empty.
# (Shell globs rather than ls: the sweeps run this thousands of times.)
no_leftovers() {
	local f got=() left=() outs=($OUTS)
	shopt -s dotglob nullglob
	got=("$W"/*)
	left=("$T"/tmp/*)
	shopt -u dotglob nullglob
	for f in $OUTS; do [ -f "$W/$f" ] || { echo "$1: $f missing"; return 1; }; done
	[ "${#got[@]}" -eq "${#outs[@]}" ] || { echo "$1: folder holds ${got[*]##*/}, want $OUTS"; return 1; }
	[ "${#left[@]}" -eq 0 ] || { echo "$1: temporary folder holds ${left[*]##*/}"; return 1; }
}

# is_old FILE: FILE is still the "old" placeholder.
is_old() {
	local line=""
	read -r line <"$1" || true
	[ "$line" = old ]
}

# sweep KIND CMD...: RETAIN_FAIL=KIND:N for N = 1, 2, ... until CMD exits 0.
# Every failing run exits 4 with "PROG: " and a message naming the failure;
# every output is the old file or byte-identical to the reference (and on
# success all of them are the reference); nothing else is left behind.
# Sets SWEPT to the number of injected failures.
sweep() {
	local kind=$1
	shift
	local prog=${PROG:-${1##*/}} n=0 rc f pat
	case $kind in
	alloc) pat='out of memory' ;;
	write) pat='write error|No space left' ;;
	fsync) pat='fsync failed' ;;
	close) pat='close failed|write error' ;;
	rename) pat='cannot rename' ;;
	esac
	while :; do
		n=$((n + 1))
		[ "$n" -le 3000 ] || { echo "$kind: still failing at N=$n"; return 1; }
		for f in $OUTS; do echo old >"$W/$f"; done
		rc=0
		RETAIN_FAIL=$kind:$n "$@" >"$T/stdout" 2>"$T/err" || rc=$?
		for f in $OUTS; do
			if ! is_old "$W/$f" && ! cmp -s "$W/$f" "$T/ref/$f"; then
				echo "$kind:$n: $f is neither the old file nor the complete new one (exit $rc)"
				head -c 400 "$T/err"
				return 1
			fi
		done
		no_leftovers "$kind:$n (exit $rc)" || return 1
		if [ "$rc" -eq 0 ]; then
			for f in $OUTS; do
				cmp -s "$W/$f" "$T/ref/$f" || { echo "$kind:$n: exit 0 but $f differs"; return 1; }
			done
			cmp -s "$T/stdout" "$T/ref.stdout" || { echo "$kind:$n: standard output differs"; return 1; }
			cmp -s "$T/err" "$T/ref.err" || { echo "$kind:$n: standard error differs:"; cat "$T/err"; return 1; }
			break
		fi
		if [ "$rc" -ne 4 ]; then
			echo "$kind:$n: exit $rc, want 4: $(head -c 400 "$T/err")"
			return 1
		fi
		if ! grep -Eq "^$prog: .*($pat)" "$T/err"; then
			echo "$kind:$n: message lacks /$prog: .*($pat)/: $(head -c 400 "$T/err")"
			return 1
		fi
	done
	SWEPT=$((n - 1))
}

# All five kinds; each must have injected at least one failure (so the
# program really goes through the wrappers) and then completed.
sweep_all() {
	local kind
	for kind in alloc write fsync rename close; do
		sweep "$kind" "$@" || return 1
		[ "$SWEPT" -ge 1 ] || { echo "$kind: no call was ever failed: not using the wrappers?"; return 1; }
		echo "$kind: $SWEPT failing runs, then the reference output"
	done
}

@test "fault injection: ingest -o with a rejects file" {
	prepare
	OUTS="out.rtn rej.tsv"
	reference ingest --attr channel --max-rejects 5 --rejects "$W/rej.tsv" "$FIX/bad.csv" -o "$W/out.rtn"
	[ "$(inspect --count "$T/ref/out.rtn")" -eq "$(($(wc -l <"$FIX/s.csv") - 1))" ]
	[ "$(wc -l <"$T/ref/rej.tsv")" -eq 3 ]
	sweep_all ingest --attr channel --max-rejects 5 --rejects "$W/rej.tsv" "$FIX/bad.csv" -o "$W/out.rtn"
}

@test "fault injection: dedupe -o while spilling (--memory 1k), with --dups" {
	prepare
	OUTS="out.rtn dups.rtn"
	reference dedupe --stats --memory 1k --tmpdir "$T/tmp" --dups "$W/dups.rtn" "$FIX/m.rtn" -o "$W/out.rtn"
	# it really spills, and really removes duplicates
	grep -Eq 'sort 1: .* [1-9][0-9]* runs spilled' "$T/ref.err"
	[ "$(inspect --count "$T/ref/dups.rtn")" -gt 0 ]
	[ "$(($(inspect --count "$T/ref/out.rtn") + $(inspect --count "$T/ref/dups.rtn")))" -eq "$(inspect --count "$FIX/m.rtn")" ]
	sweep_all dedupe --stats --memory 1k --tmpdir "$T/tmp" --dups "$W/dups.rtn" "$FIX/m.rtn" -o "$W/out.rtn"
}

@test "fault injection: rfm -o with --breaks-out" {
	prepare
	OUTS="out.rtn breaks"
	reference rfm --breaks-out "$W/breaks" "$FIX/d.rtn" -o "$W/out.rtn"
	[ "$(inspect --count "$T/ref/out.rtn")" -eq "$(inspect --no-names "$FIX/d.rtn" | cut -f1 | sort -u | wc -l)" ]
	sweep_all rfm --breaks-out "$W/breaks" "$FIX/d.rtn" -o "$W/out.rtn"
}

@test "fault injection: cohort -o, stream and CSV" {
	prepare
	OUTS="out.rtn"
	reference cohort "$FIX/d.rtn" -o "$W/out.rtn"
	[ "$(inspect --count "$T/ref/out.rtn")" -gt 10 ]
	sweep_all cohort "$FIX/d.rtn" -o "$W/out.rtn"
	OUTS="out.csv"
	reference cohort --format csv "$FIX/d.rtn" -o "$W/out.csv"
	[ "$(wc -l <"$T/ref/out.csv")" -gt 10 ]
	sweep_all cohort --format csv "$FIX/d.rtn" -o "$W/out.csv"
}

@test "fault injection: cohort --partial and --combine -o" {
	prepare
	cohort --partial --asof 2024-12-31 "$FIX/e.rtn" -o "$T/p1.rtn"
	OUTS="p2.rtn"
	reference cohort --partial --asof 2024-12-31 "$FIX/d.rtn" -o "$W/p2.rtn"
	sweep_all cohort --partial --asof 2024-12-31 "$FIX/d.rtn" -o "$W/p2.rtn"
	cp "$T/ref/p2.rtn" "$T/p2.rtn"
	OUTS="c.rtn"
	reference cohort --combine "$T/p1.rtn" "$T/p2.rtn" -o "$W/c.rtn"
	[ "$(inspect --count "$T/ref/c.rtn")" -gt 10 ]
	sweep_all cohort --combine "$T/p1.rtn" "$T/p2.rtn" -o "$W/c.rtn"
}

@test "fault injection: synth -o with --truth and --alias-file, CSV and stream" {
	prepare
	OUTS="s.csv truth.tsv alias.csv"
	reference synth --customers 20 --alias-rate 0.2 --alias-file "$W/alias.csv" --truth "$W/truth.tsv" -o "$W/s.csv"
	[ "$(wc -l <"$T/ref/truth.tsv")" -eq 21 ]
	sweep_all synth --customers 20 --alias-rate 0.2 --alias-file "$W/alias.csv" --truth "$W/truth.tsv" -o "$W/s.csv"
	OUTS="s.rtn"
	reference synth --customers 20 --format stream -o "$W/s.rtn"
	sweep_all synth --customers 20 --format stream -o "$W/s.rtn"
}

@test "fault injection: segment-export -o (CSV and JSON Lines)" {
	prepare
	OUTS="out.csv"
	reference segment-export "$FIX/r.rtn" -o "$W/out.csv"
	[ "$(wc -l <"$T/ref/out.csv")" -eq "$(($(inspect --count "$FIX/r.rtn") + 1))" ]
	sweep_all segment-export "$FIX/r.rtn" -o "$W/out.csv"
	OUTS="out.jsonl"
	reference segment-export --format jsonl --fields customer,segment,revenue "$FIX/r.rtn" -o "$W/out.jsonl"
	sweep_all segment-export --format jsonl --fields customer,segment,revenue "$FIX/r.rtn" -o "$W/out.jsonl"
}

@test "fault injection: segment-export --split-by: each file old or complete" {
	prepare
	OUTS=""
	segment-export --split-by segment "$FIX/r.rtn" -o "$T/split/"
	OUTS=$(ls "$T/split")
	[ "$(echo $OUTS | wc -w)" -ge 4 ]
	W="$T/split"
	reference segment-export --split-by segment "$FIX/r.rtn" -o "$W/"
	# (a failure part-way leaves the files written before it in place, as
	# segment-export(1) CAVEATS says; each file itself is all or nothing)
	sweep_all segment-export --split-by segment "$FIX/r.rtn" -o "$W/"
}

@test "fault injection: churnscore -o with --params-out, and from standard input (temporary copy)" {
	prepare
	OUTS="out.rtn params"
	reference churnscore --params-out "$W/params" "$FIX/r300.rtn" -o "$W/out.rtn"
	[ "$(inspect --count "$T/ref/out.rtn")" -eq 300 ]
	sweep_all churnscore --params-out "$W/params" "$FIX/r300.rtn" -o "$W/out.rtn"
	# standard input is copied to a temporary file in $TMPDIR to be read twice:
	# it must go too (no_leftovers lists $T/tmp after every run)
	OUTS="out.rtn"
	reference bash -c 'exec churnscore -o "$1" <"$2"' sh "$W/out.rtn" "$FIX/r300.rtn"
	PROG=churnscore sweep_all bash -c 'exec churnscore -o "$1" <"$2"' sh "$W/out.rtn" "$FIX/r300.rtn"
}

# ---- signals ----

# kill_midwrite SIG NEED_BYTES CMD...: runs CMD (which writes $W/out) and,
# once its temporary output (or the files matching $WATCH) exists (and, if NEED_BYTES is 1, holds data),
# stops it, checks the temporary file is still there (so the signal lands
# mid-write), sends SIG and lets it run. It must die of SIG, leave no
# temporary or lock file and keep the old output. Tries again when the run
# finished before it could be caught (up to 8 times).
kill_midwrite() {
	local sig=$1 need=$2
	shift 2
	local attempt pid tmp caught rc want
	want=$((128 + $(kill -l "$sig")))
	for attempt in 1 2 3 4 5 6 7 8; do
		rm -rf "${W:?}"/* "$W"/.??* "$T"/tmp/*
		echo old >"$W/out"
		# (background jobs of a non-interactive shell start with SIGINT
		# ignored, which the programs respect: restore the default, as an
		# interactive shell would)
		env --default-signal=INT,TERM,HUP "$@" >/dev/null 2>"$T/err" &
		pid=$!
		caught=""
		while [ -z "$caught" ] && kill -0 "$pid" 2>/dev/null; do
			for tmp in ${WATCH:-"$W"/.out.??????}; do
				[ -f "$tmp" ] || continue
				[ "$need" = 0 ] || [ -s "$tmp" ] || continue
				kill -STOP "$pid"
				if [ -f "$tmp" ]; then caught=$tmp; else caught=late; fi
				break
			done
		done
		if [ -n "$caught" ] && [ "$caught" != late ]; then
			kill -"$sig" "$pid"
			kill -CONT "$pid"
			rc=0
			wait "$pid" || rc=$?
			[ "$rc" -eq "$want" ] || { echo "$*: exit $rc after SIG$sig, want $want"; cat "$T/err"; return 1; }
			[ "$(cat "$W/out")" = old ] || { echo "$*: old output replaced"; return 1; }
			[ "$(ls -A "$W")" = out ] || { echo "$*: left $(ls -A "$W" | tr '\n' ' ')"; return 1; }
			[ -z "$(ls -A "$T/tmp")" ] || { echo "$*: left spill files $(ls -A "$T/tmp")"; return 1; }
			return 0
		fi
		kill -CONT "$pid" 2>/dev/null || true
		wait "$pid" || true
	done
	echo "$*: never caught with its temporary output open"
	return 1
}

@test "SIGTERM and SIGINT mid-write: ingest (streaming, data already written)" {
	prepare
	kill_midwrite TERM 1 ingest "$FIX/big.csv" -o "$W/out"
	kill_midwrite INT 1 ingest "$FIX/big.csv" -o "$W/out"
}

@test "SIGTERM and SIGINT mid-write: dedupe while merging spilled runs" {
	prepare
	kill_midwrite TERM 1 dedupe --memory 1M --tmpdir "$T/tmp" "$FIX/b.rtn" -o "$W/out"
	kill_midwrite INT 1 dedupe --memory 1M --tmpdir "$T/tmp" "$FIX/b.rtn" -o "$W/out"
}

@test "SIGTERM and SIGINT mid-write: rfm" {
	prepare
	kill_midwrite TERM 1 rfm "$FIX/bd.rtn" -o "$W/out"
	kill_midwrite INT 1 rfm "$FIX/bd.rtn" -o "$W/out"
}

@test "SIGTERM and SIGINT mid-write: cohort (stream and CSV)" {
	prepare
	kill_midwrite TERM 0 cohort --period day "$FIX/bd.rtn" -o "$W/out"
	kill_midwrite INT 0 cohort --period day --format csv "$FIX/bd.rtn" -o "$W/out"
}

@test "SIGTERM and SIGINT mid-write: churnscore" {
	prepare
	kill_midwrite TERM 1 churnscore "$FIX/br.rtn" -o "$W/out"
	kill_midwrite INT 1 churnscore "$FIX/br.rtn" -o "$W/out"
}

@test "SIGTERM while dedupe spills sorted runs, and while churnscore copies standard input: temporary files removed" {
	prepare
	WATCH="$T/tmp/retain-sort.*" kill_midwrite TERM 1 dedupe --memory 1M --tmpdir "$T/tmp" "$FIX/b.rtn" -o "$W/out"
	WATCH="$T/tmp/retain-sort.*" kill_midwrite HUP 1 dedupe --memory 1M "$FIX/b.rtn" -o "$W/out"
	WATCH="$T/tmp/churnscore.*" kill_midwrite TERM 0 bash -c 'exec churnscore -o "$1" <"$2"' sh "$W/out" "$FIX/br.rtn"
}

@test "signals ignored at start stay ignored (nohup): a hang-up mid-write does not stop the run" {
	prepare
	ingest "$FIX/big.csv" -o "$T/ref.rtn"
	echo old >"$W/out"
	bash -c 'trap "" HUP; exec ingest "$1" -o "$2"' sh "$FIX/big.csv" "$W/out" 2>"$T/err" &
	local pid=$! tmp sent=""
	while [ -z "$sent" ] && kill -0 "$pid" 2>/dev/null; do
		for tmp in "$W"/.out.??????; do
			[ -s "$tmp" ] || continue
			kill -HUP "$pid" && sent=1
			break
		done
	done
	wait "$pid"
	[ -n "$sent" ]
	[ ! -s "$T/err" ]
	[ "$(ls -A "$W")" = out ]
	[ "$(inspect "$W/out")" = "$(inspect "$T/ref.rtn")" ]
}

@test "SIGTERM and SIGINT mid-write: segment-export" {
	prepare
	kill_midwrite TERM 1 segment-export "$FIX/br.rtn" -o "$W/out"
	kill_midwrite INT 1 segment-export "$FIX/br.rtn" -o "$W/out"
}

# ---- disk full and read-only folders, for real ----

# on_full CMD...: runs CMD with $T/full a fresh 64 KiB tmpfs (private mount
# namespace: unshare -m as root, else a user namespace) holding out = "old".
# Prints "EXIT OUT-CONTENT FILES-LEFT"; standard error goes to $T/full.err.
on_full() {
	mkdir -p "$T/full"
	local ns=-m
	[ "$(id -u)" = 0 ] || ns=-rm
	unshare $ns bash -c '
		F=$1; shift
		mount -t tmpfs -o size=64k none "$F" || exit 99
		echo old >"$F/out"
		rc=0
		"$@" >/dev/null 2>"$F.err" || rc=$?
		echo "$rc $(cat "$F/out") $(ls -A "$F" | tr "\n" " ")"' sh "$T/full" "$@"
}

@test "disk full for real (64 KiB tmpfs): exit 4 naming the file, old output kept, nothing left" {
	local F="$T/full" c out
	for c in "ingest $FIX/big.csv" "dedupe $FIX/b.rtn" "rfm $FIX/bd.rtn" "cohort --period day $FIX/bd.rtn" \
		"cohort --period day --format html $FIX/bd.rtn" "segment-export $FIX/br.rtn" \
		"churnscore $FIX/br.rtn" "synth --customers 5000"; do
		out=$(on_full $c -o "$F/out")
		[ "$out" = "4 old out " ] || { echo "$c: $out: $(cat "$F.err")"; false; }
		grep -Eq "^${c%% *}: $F/out: write error: No space left on device$" "$F.err" || { echo "$c: $(cat "$F.err")"; false; }
	done
	# spill files and churnscore's copy of standard input in a full TMPDIR
	out=$(on_full env TMPDIR="$F" dedupe --memory 1M "$FIX/b.rtn" -o "$T/d.rtn")
	[ "$out" = "4 old out " ]
	grep -q "^dedupe: $F/retain-sort\..*: write error: No space left on device" "$F.err"
	[ ! -e "$T/d.rtn" ]
	out=$(on_full bash -c 'TMPDIR=$1 exec churnscore -o "$2" <"$3"' sh "$F" "$T/c.rtn" "$FIX/br.rtn")
	[ "$out" = "4 old out " ]
	grep -q "^churnscore: $F/churnscore\..*: write error: No space left on device" "$F.err"
	[ ! -e "$T/c.rtn" ]
}

@test "read-only output folder: exit 4 'cannot create file', old output kept" {
	# as root, permissions do not stop writes: run the programs as nobody
	# (setpriv), with inputs and the folder readable by everyone
	chmod 755 "$T"
	mkdir -m 755 "$T/in" "$T/ro"
	cp "$FIX/s.csv" "$FIX/e.rtn" "$FIX/d.rtn" "$FIX/r.rtn" "$FIX/r300.rtn" "$T/in/"
	chmod 644 "$T"/in/*
	echo old >"$T/ro/out"
	as_other() { "$@"; }
	if [ "$(id -u)" = 0 ]; then
		as_other() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
	else
		chmod 555 "$T/ro"
	fi
	local c rc I="$T/in"
	for c in "ingest $I/s.csv" "dedupe $I/e.rtn" "rfm $I/d.rtn" "cohort $I/d.rtn" "cohort --format csv $I/d.rtn" \
		"segment-export $I/r.rtn" "churnscore $I/r300.rtn" "synth --customers 5" "rfm --breaks-out $T/ro/b $I/d.rtn"; do
		rc=0
		as_other "$BIN/${c%% *}" ${c#* } -o "$T/ro/out" 2>"$T/err" || rc=$?
		[ "$rc" -eq 4 ] || { echo "$c: exit $rc: $(cat "$T/err")"; false; }
		grep -Eq "^${c%% *}: $T/ro/(out|b): cannot create file: Permission denied$" "$T/err" || { echo "$c: $(cat "$T/err")"; false; }
		[ "$(ls -A "$T/ro")" = out ] && [ "$(cat "$T/ro/out")" = old ]
	done
	chmod 755 "$T/ro"
}

@test "-o with an empty name or a folder name: usage error (exit 2), nothing created" {
	mkdir "$T/cwd"
	cd "$T/cwd"
	local c rc
	for c in "ingest $FIX/s.csv" "dedupe $FIX/e.rtn" "rfm $FIX/d.rtn" "cohort $FIX/d.rtn" \
		"segment-export $FIX/r.rtn" "churnscore $FIX/r300.rtn" "synth --customers 5"; do
		rc=0
		$c -o "" 2>"$T/err" || rc=$?
		[ "$rc" -eq 2 ] && grep -q "^${c%% *}: empty output file name$" "$T/err" || { echo "$c -o '': exit $rc: $(cat "$T/err")"; false; }
		rc=0
		$c -o "$T/new/" 2>"$T/err" || rc=$?
		[ "$rc" -eq 2 ] && grep -q "^${c%% *}: $T/new/: names a folder, not a file$" "$T/err" || { echo "$c -o DIR/: exit $rc: $(cat "$T/err")"; false; }
		[ -z "$(ls -A "$T/cwd")" ] && [ ! -e "$T/new" ]
	done
	rc=0
	rfm --breaks-out "" "$FIX/d.rtn" -o "$T/r.rtn" 2>"$T/err" || rc=$?
	[ "$rc" -eq 2 ] && [ ! -e "$T/r.rtn" ]
}

# ---- a second run on the same output ----

# refused CMD...: while another holder has the output's lock (flock(2) on
# .out.lock, as a first run does; here this shell holds it on fd 8), CMD is
# refused with exit 4 and a clear message; the old output and the lock file
# stay; nothing else is left.
refused() {
	echo old >"$W/out"
	exec 8>"$W/.out.lock"
	flock -n 8
	local rc=0
	"$@" >/dev/null 2>"$T/err" 8>&- || rc=$?
	exec 8>&-
	[ "$rc" -eq 4 ] || { echo "$*: exit $rc, want 4"; cat "$T/err"; return 1; }
	grep -q "out: another run is writing this file" "$T/err" || { echo "$*: $(cat "$T/err")"; return 1; }
	[ "$(cat "$W/out")" = old ] || { echo "$*: old output replaced"; return 1; }
	[ "$(ls -A "$W" | sort | tr '\n' ' ')" = ".out.lock out " ] || { echo "$*: left $(ls -A "$W")"; return 1; }
	rm -f "$W/.out.lock"
}

@test "a run is refused while another run holds the same output (every program with -o)" {
	prepare
	refused ingest "$FIX/s.csv" -o "$W/out"
	refused dedupe "$FIX/e.rtn" -o "$W/out"
	refused rfm "$FIX/d.rtn" -o "$W/out"
	refused cohort "$FIX/d.rtn" -o "$W/out"
	refused cohort --format csv "$FIX/d.rtn" -o "$W/out"
	refused segment-export "$FIX/r.rtn" -o "$W/out"
	refused churnscore "$FIX/r300.rtn" -o "$W/out"
	refused synth --customers 5 -o "$W/out"
}

# Two real runs: the first reads all but the last byte of its input (through
# a FIFO) and waits with the output open; the second is refused; the first
# then gets the last byte and completes with the right output.
overlap() {
	local input=$1
	shift
	rm -f "$W/in"
	mkfifo "$W/in"
	(
		head -c -1 "$input"
		while [ ! -e "$T/go" ]; do sleep 0.1; done
		tail -c 1 "$input"
	) >"$W/in" 3>&- &
	local feeder=$! first i rc
	"$@" "$W/in" -o "$W/out" 2>"$T/err1" 3>&- &
	first=$!
	for i in $(seq 100); do
		[ -e "$W/.out.lock" ] && break
		sleep 0.1
	done
	rc=0
	"$@" "$input" -o "$W/out" 2>"$T/err2" || rc=$?
	touch "$T/go"
	wait "$first"
	wait "$feeder"
	rm -f "$T/go" "$W/in"
	[ "$rc" -eq 4 ] || { echo "second run: exit $rc, want 4"; cat "$T/err2"; return 1; }
	grep -q "another run is writing this file" "$T/err2"
	[ "$(ls -A "$W")" = out ] || { echo "left $(ls -A "$W")"; return 1; }
}

@test "two overlapping runs: the second is refused, the first completes (every program with -o)" {
	prepare
	overlap "$FIX/s.csv" ingest --format csv
	[ "$(inspect "$W/out")" = "$(ingest "$FIX/s.csv" | inspect)" ]
	overlap "$FIX/e.rtn" dedupe
	[ "$(inspect "$W/out")" = "$(inspect "$FIX/d.rtn")" ]
	overlap "$FIX/r.rtn" segment-export
	cmp "$W/out" <(segment-export "$FIX/r.rtn")
	overlap "$FIX/r300.rtn" churnscore
	[ "$(inspect "$W/out")" = "$(churnscore "$FIX/r300.rtn" | inspect)" ]
	overlap "$FIX/d.rtn" rfm
	[ "$(inspect "$W/out")" = "$(rfm "$FIX/d.rtn" | inspect)" ]
	overlap "$FIX/d.rtn" cohort --format csv
	cmp "$W/out" <(cohort --format csv "$FIX/d.rtn")
}

@test "> /dev/full and a closed standard output: exit 4 with a message (every program, text and streams)" {
	local c rc
	for c in "ingest $FIX/s.csv" "dedupe $FIX/e.rtn" "rfm $FIX/d.rtn" "rfm --summary $FIX/d.rtn" \
		"cohort $FIX/d.rtn" "cohort --format table --color never $FIX/d.rtn" "segment-export $FIX/r.rtn" \
		"segment-export --summary $FIX/r.rtn" "churnscore $FIX/r300.rtn" "inspect $FIX/d.rtn" \
		"inspect --header $FIX/d.rtn" "inspect --count $FIX/d.rtn" "synth --customers 5"; do
		rc=0
		$c >/dev/full 2>"$T/err" || rc=$?
		[ "$rc" -eq 4 ] && grep -q "^${c%% *}: .*write error: No space left on device$" "$T/err" ||
			{ echo "$c >/dev/full: exit $rc: $(cat "$T/err")"; false; }
		rc=0
		$c >&- 2>"$T/err" || rc=$?
		[ "$rc" -eq 4 ] && grep -q "^${c%% *}: standard output: write error: Bad file descriptor$" "$T/err" ||
			{ echo "$c >&-: exit $rc: $(cat "$T/err")"; false; }
	done
}

# ---- broken pipes ----

# piped "CMD ...": `| head -1` ends quietly (the program dies of SIGPIPE and
# says nothing); with SIGPIPE ignored it exits 4 naming the broken pipe.
piped() {
	local out
	out=$(bash -c "$1 2>'$T/err' | head -1 >/dev/null; echo \${PIPESTATUS[0]}")
	[ "$out" = 141 ] || { echo "$1 | head -1: exit $out, want 141 (SIGPIPE)"; cat "$T/err"; return 1; }
	[ ! -s "$T/err" ] || { echo "$1 | head -1 is not quiet: $(cat "$T/err")"; return 1; }
	out=$(bash -c "trap '' PIPE; $1 2>'$T/err' | head -1 >/dev/null; echo \${PIPESTATUS[0]}")
	local prog=${1%% *}
	[ "$out" = 4 ] || { echo "$1 (SIGPIPE ignored): exit $out, want 4"; cat "$T/err"; return 1; }
	grep -Eq "^$prog: standard output: write error: Broken pipe$" "$T/err" ||
		{ echo "$1 (SIGPIPE ignored): unclear message: $(cat "$T/err")"; return 1; }
	[ "$(wc -l <"$T/err")" -eq 1 ] || { echo "$1: more than one message: $(cat "$T/err")"; return 1; }
}

@test "| head -1 is quiet; SIGPIPE ignored gives exit 4 and a clear message (every program)" {
	piped "ingest '$FIX/big.csv'"
	piped "dedupe '$FIX/b.rtn'"
	piped "rfm '$FIX/bd.rtn'"
	piped "cohort --period day '$FIX/bd.rtn'"
	piped "cohort --period day --format csv '$FIX/bd.rtn'"
	piped "cohort --period day --format html '$FIX/bd.rtn'"
	piped "segment-export '$FIX/br.rtn'"
	piped "segment-export --format jsonl '$FIX/br.rtn'"
	piped "churnscore '$FIX/br.rtn'"
	piped "inspect '$FIX/bd.rtn'"
	piped "inspect --format jsonl '$FIX/br.rtn'"
	piped "synth --customers 20000"
	piped "synth --customers 20000 --format stream"
}
