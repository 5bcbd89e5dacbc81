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
need_locale=""
if [ "$what" = check ]; then
	command -v bats >/dev/null 2>&1 || missing="$missing bats"
	command -v mandoc >/dev/null 2>&1 || missing="$missing mandoc"
	command -v xmllint >/dev/null 2>&1 || missing="$missing libxml2-utils"
	command -v chromium >/dev/null 2>&1 || missing="$missing chromium"     # report screenshot test
	command -v setpriv >/dev/null 2>&1 || missing="$missing util-linux"    # read-only folder test
	# tests/determinism.bats compares runs under de_DE.UTF-8
	locale -a 2>/dev/null | grep -qi '^de_DE\.utf-\?8$' || need_locale=1
fi
gen_locale() {
	command -v locale-gen >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq locales >&2
	sed -i 's/^# *de_DE.UTF-8/de_DE.UTF-8/' /etc/locale.gen && locale-gen >/dev/null
}
[ -z "$missing" ] && [ -z "$need_locale" ] && exit 0
if [ -z "$missing" ] && [ "$(id -u)" = 0 ]; then
	echo "retain: generating the de_DE.UTF-8 locale" >&2
	gen_locale || { echo "retain: could not generate de_DE.UTF-8" >&2; exit 1; }
	exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "retain: installing:$missing" >&2
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing; } >&2 || {
		echo "retain: could not install:$missing" >&2; exit 1; }
	[ -z "$need_locale" ] || gen_locale || { echo "retain: could not generate de_DE.UTF-8" >&2; exit 1; }
	exit 0
fi
echo "retain: missing packages. Run:" >&2
[ -z "$missing" ] || echo "  sudo apt-get install -y$missing" >&2
[ -z "$need_locale" ] || echo "  sudo apt-get install -y locales && sudo sed -i 's/^# *de_DE.UTF-8/de_DE.UTF-8/' /etc/locale.gen && sudo locale-gen" >&2
exit 1
