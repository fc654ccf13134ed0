# Sourced by ./qload and .ci/run: sets JAVA_HOME to a JDK 25 or newer, or explains what to install.
# Order: $JAVA_HOME if it is 25+, then JDKs under /usr/lib/jvm (newest first), then `java` on PATH.

qload_java_major() { # prints the feature version of the JDK at $1, or nothing
  local release="$1/release" v
  [ -x "$1/bin/javac" ] || return 0
  if [ -f "$release" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$release")
  else
    v=$("$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)
  fi
  echo "$v"
}

qload_find_jdk() {
  local candidate major
  if [ -n "${JAVA_HOME:-}" ]; then
    major=$(qload_java_major "$JAVA_HOME")
    if [ -n "$major" ] && [ "$major" -ge 25 ]; then return 0; fi
  fi
  for candidate in $(ls -d /usr/lib/jvm/*/ /opt/java/*/ /usr/local/lib/jvm/*/ 2>/dev/null | sort -rV); do
    candidate="${candidate%/}"
    major=$(qload_java_major "$candidate")
    if [ -n "$major" ] && [ "$major" -ge 25 ]; then export JAVA_HOME="$candidate"; return 0; fi
  done
  if command -v javac >/dev/null 2>&1; then
    candidate=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
    major=$(qload_java_major "$candidate")
    if [ -n "$major" ] && [ "$major" -ge 25 ]; then export JAVA_HOME="$candidate"; return 0; fi
  fi
  cat >&2 <<'MSG'
qload needs a JDK 25 or newer, and none was found (checked $JAVA_HOME, /usr/lib/jvm, /opt/java and the java on PATH).
Install one, for example Eclipse Temurin 25 (https://adoptium.net, or `apt-get install temurin-25-jdk`
from Adoptium's apt repository), then run this again or set JAVA_HOME to it.
MSG
  return 1
}
