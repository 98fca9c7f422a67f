# shellcheck shell=bash disable=SC2154  # ci and start are the sourcing script's
# What .ci/fresh-debian and .ci/arm64-package share: Debian roots made with mmdebstrap from this
# machine's own apt sources, cached as tarballs, entered with chroot in a mount and PID namespace
# of the script's own, and removed on exit, Ctrl-C included. Sourced, not run; the script sets
# `ci` (its name in messages) and `start` (SECONDS at its start) first.

say() { echo "$ci: $* ($((SECONDS - start)) s)"; }

# --- Inside the namespace -------------------------------------------------------------------

# mount_root <dir> <archives>: /dev, /proc, a read-only /sys and apt's download folder, shared by
# every root of the cache, in the root at <dir>. They vanish with the namespace.
mount_root() {
  mount --rbind /dev "$1/dev"
  mount -t proc proc "$1/proc"
  mount --bind /sys "$1/sys"
  mount -o remount,bind,ro "$1/sys"
  mount --bind "$2" "$1/var/cache/apt/archives"
}

# chroot_env <dir> <command...>: the command in the root at <dir>, with a clean environment (the
# proxies passed on).
chroot_env() {
  local dir=$1
  shift
  chroot "$dir" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
    ${http_proxy:+http_proxy=$http_proxy} ${https_proxy:+https_proxy=$https_proxy} \
    ${no_proxy:+no_proxy=$no_proxy} "$@"
}

# run_step <name> <function>: runs one step, says how it ended and how long it took, and adds
# the name to `failed` if it failed.
failed=()
run_step() {
  local name=$1 t0=$SECONDS
  echo "$ci: [$name]"
  if "$2"; then
    echo "$ci: [$name] passed ($((SECONDS - t0)) s)"
  else
    echo "$ci: [$name] FAILED ($((SECONDS - t0)) s)" >&2
    failed+=("$name")
  fi
}

# --- Outside it -----------------------------------------------------------------------------

# need_root_and_mmdebstrap: exits 0 with a "skipped" line where the script cannot run (not root,
# or no mmdebstrap and none installable with apt-get); with CI=true the last case fails instead.
need_root_and_mmdebstrap() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "$ci skipped: needs root (chroot, mounts)"
    exit 0
  fi
  command -v mmdebstrap >/dev/null && return 0
  if command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null 2>&1 ||
      true
  fi
  command -v mmdebstrap >/dev/null && return 0
  if [ "${CI:-}" = true ]; then
    echo "$ci: mmdebstrap is missing and could not be installed" >&2
    exit 1
  fi
  echo "$ci skipped: mmdebstrap is missing and could not be installed (apt-get install mmdebstrap)"
  exit 0
}

# apt_sources: sets `codename` (this machine's release), `mirrors` (every Debian repository apt
# knows for it, from deb822 .sources and one-line .list files alike, as apt itself resolves them),
# `apt_settings` (the apt options that decide how packages are fetched) and `include` (what
# mmdebstrap must add to fetch them).
apt_sources() {
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [ -n "$codename" ] || { echo "$ci: no VERSION_CODENAME in /etc/os-release" >&2; exit 1; }
  mapfile -t mirrors < <(apt-get indextargets --no-release-info \
      --format '$(TARGET_OF) $(REPO_URI) $(RELEASE) $(COMPONENT)' 'Created-By: Packages' |
    awk -v c="$codename" '$1 == "deb" && ($3 == c || index($3, c "-") == 1) {
        k = $2 " " $3; if (!(k in comp)) { order[n++] = k; comp[k] = $4 }
        else if (index(" " comp[k] " ", " " $4 " ") == 0) comp[k] = comp[k] " " $4 }
      END { for (i = 0; i < n; i++) print "deb " order[i] " " comp[order[i]] }')
  if ((${#mirrors[@]} == 0)); then
    echo "$ci: this machine's apt sources have no repository for $codename" >&2
    exit 1
  fi
  apt_settings=$(apt-config dump | grep -E '^Acquire::(Check-Valid-Until|Check-Date|Retries|(https?|ftp)::Proxy)' ||
    true)
  include=()
  if printf '%s\n' "${mirrors[@]}" | grep -q ' https://'; then include=(--include=ca-certificates); fi
}

# lock_cache <dir>: makes the cache folder and waits for any other run that uses it (they share
# its tarballs and apt's download folder).
lock_cache() {
  mkdir -p "$1/archives/partial"
  exec 9>"$1/lock"
  if ! flock -n 9; then
    say "waiting for another $ci run to finish"
    flock 9
  fi
}

# make_work <keep>: a work folder in `work`, removed on exit unless <keep> is 1, after the
# namespace (and every process in its roots) is killed and anything mounted under it is unmounted.
make_work() {
  work=$(mktemp -d "/var/tmp/edgeroof-$ci.XXXXXX")
  keep_work=$1
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ "$rc" -ne 0 ]; then echo "$ci: FAILED (exit $rc) after $((SECONDS - start)) s" >&2; fi
  # Ending unshare SIGKILLs the namespace's init (--kill-child), and with it everything in the
  # roots, apt-get and dpkg too, which ignore Ctrl-C while they install.
  if [ -n "${ns_pid:-}" ] && kill -0 "$ns_pid" 2>/dev/null; then
    kill -KILL "$ns_pid" 2>/dev/null || true
    wait "$ns_pid" 2>/dev/null || true
  fi
  # Nothing is mounted here outside the namespace; make sure before deleting anything.
  if findmnt -rn -o TARGET | grep -qF "$work/"; then
    findmnt -rn -o TARGET | grep -F "$work/" | sort -r | xargs -r -n1 umount -l || true
  fi
  if [ "$keep_work" = 1 ]; then
    echo "$ci: kept $work"
  elif findmnt -rn -o TARGET | grep -qF "$work/"; then
    echo "$ci: $work still has mounts; left in place" >&2
  else
    rm -rf --one-file-system "$work"
  fi
  exit "$rc"
}

# in_namespace <args>: the script's --in-namespace part, in the background so that a Ctrl-C or
# TERM here is acted on at once (wait returns for a trap).
in_namespace() {
  unshare --mount --pid --fork --kill-child "$0" --in-namespace "$@" &
  ns_pid=$!
  wait "$ns_pid"
  ns_pid=
}

# cached <tarball> <key>: the tarball is there, made for this key, and intact.
cached() {
  [ -s "$1" ] && [ "$(cat "$1.key" 2>/dev/null)" = "$2" ] &&
    (cd "$(dirname "$1")" && sha256sum --quiet -c "$(basename "$1").sha256" >/dev/null 2>&1)
}
# keep <file> <tarball> <key>: the file becomes the cached tarball for the key.
keep() {
  mv "$1" "$2"
  (cd "$(dirname "$2")" && sha256sum "$(basename "$2")" >"$(basename "$2").sha256")
  echo "$3" >"$2.key"
}

# minbase_root <tarball> <architectures>: a minbase root of `codename` for the architectures
# (mmdebstrap's comma list, the first the native one) from `mirrors`, cached at <tarball>: reused
# while its key (release, sources, settings, architectures, mmdebstrap) and checksum hold.
# Sets `key`. Needs apt_sources and make_work first.
minbase_root() {
  local tarball=$1 archs=$2
  key=$(printf '%s\n' "mmdebstrap $(mmdebstrap --version) minbase $codename $archs ${include[*]}" "${mirrors[@]}" \
          "$apt_settings" | sha256sum | cut -d' ' -f1)
  if cached "$tarball" "$key"; then
    say "reusing the cached $codename minbase root ($archs) $tarball"
    return 0
  fi
  say "building a $codename minbase root ($archs) with mmdebstrap from ${#mirrors[@]} apt sources of this machine"
  printf '%s\n' "$apt_settings" >"$work/apt-settings.conf"
  rm -f "$tarball" "$tarball.key" "$tarball.sha256"
  mmdebstrap --quiet --variant=minbase --mode=root --format=tar --architectures="$archs" \
    --aptopt="$work/apt-settings.conf" "${include[@]}" "$codename" "$work/root.tar" "${mirrors[@]}"
  keep "$work/root.tar" "$tarball" "$key"
  say "cached the root in $tarball ($(du -h "$tarball" | cut -f1))"
}

# unpack_root <tarball> <dir>: a fresh root at <dir> from the tarball, with this machine's DNS.
unpack_root() {
  mkdir "$2"
  tar -xf "$1" -C "$2" --numeric-owner
  cp -L /etc/resolv.conf "$2/etc/resolv.conf"
}
