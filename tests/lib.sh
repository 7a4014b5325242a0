# Helpers the shell tests share: `source "$TANDEM_SOURCE_DIR/tests/lib.sh"`.

# Counts a failure and says what failed; the test ends with `exit 1` when failed > 0.
failed=0
fail() {
  echo "FAIL $*"
  failed=$((failed + 1))
}

# The body of an HTTP GET (a metrics endpoint, Prometheus' API) on stdout; fails after 5 s.
http_get() {
  python3 -c 'import sys,urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "$1"
}

# child_pid RUN_DIR NAME: the pid a `tandem run` directory's processes.txt lists for child NAME
# (empty while it is not listed).
child_pid() {
  awk -v name="$2" '$1 == name { print $3 }' "$1/processes.txt" 2>/dev/null
}
