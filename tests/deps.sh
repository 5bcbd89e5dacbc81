#!/bin/sh
# Checks the Debian packages a make target needs. As root, installs the missing
# ones; otherwise stops with the exact apt-get line.
set -u
what=${1:-build}
missing=""
have_header() { printf '#include <%s>\n' "$1" | ${CC:-cc} -E -x c - >/dev/null 2>&1; }
have_header zlib.h || missing="$missing zlib1g-dev"
command -v ${CC:-cc} >/dev/null 2>&1 || missing="$missing gcc"
command -v make >/dev/null 2>&1 || missing="$missing make"
if [ "$what" = check ]; then
	command -v bats >/dev/null 2>&1 || missing="$missing bats"
	command -v mandoc >/dev/null 2>&1 || missing="$missing mandoc"
	command -v xmllint >/dev/null 2>&1 || missing="$missing libxml2-utils"
fi
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "retain: installing:$missing" >&2
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing; } >&2 || {
		echo "retain: could not install:$missing" >&2; exit 1; }
	exit 0
fi
echo "retain: missing packages. Run:" >&2
echo "  sudo apt-get install -y$missing" >&2
exit 1
