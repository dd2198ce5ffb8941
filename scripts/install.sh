#!/usr/bin/env bash
# gomirror installer: system user, tree directory, config file, systemd units.
# Idempotent: running it again changes nothing that is already in place and
# never overwrites an existing /etc/gomirror/config.json.
#
# Usage: scripts/install.sh [--root DIR] [--dest DIR] [--no-enable]
#   --root DIR    install under DIR instead of / (packaging, tests): no user
#                 is created, no ownership changed, systemctl is not called
#   --dest DIR    the served tree (default /srv/gomirror; the units'
#                 ReadWritePaths= is rewritten to match)
#   --no-enable   install the units but do not enable/start the timers
# Installing the gomirror command itself is separate: `npm install -g gomirror`
# (the units run `/usr/bin/env gomirror`).
set -euo pipefail

ROOT=""
DEST="/srv/gomirror"
ENABLE=1
USER_NAME="gomirror"
SRC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT="${2:?--root needs a directory}"; shift 2 ;;
    --root=*) ROOT="${1#--root=}"; shift ;;
    --dest) DEST="${2:?--dest needs a directory}"; shift 2 ;;
    --dest=*) DEST="${1#--dest=}"; shift ;;
    --no-enable) ENABLE=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done

case "$DEST" in
  *[!A-Za-z0-9._/@+-]*) echo "install.sh: --dest may only hold letters, digits and . _ / @ + -, got $DEST" >&2; exit 2 ;;
  /*) ;;
  *) echo "install.sh: --dest must be an absolute path, got $DEST" >&2; exit 2 ;;
esac
if [ -n "$ROOT" ]; then
  mkdir -p "$ROOT"
  ROOT="$(cd "$ROOT" && pwd)"
fi

say() { echo "install.sh: $*"; }

UNIT_DIR="$ROOT/etc/systemd/system"
CONF_DIR="$ROOT/etc/gomirror"
CONF_FILE="$CONF_DIR/config.json"

# 1. The system user (only on the real system).
if [ -z "$ROOT" ]; then
  if id -u "$USER_NAME" >/dev/null 2>&1; then
    say "user $USER_NAME exists"
  else
    useradd --system --user-group --home-dir "$DEST" --no-create-home \
      --shell /usr/sbin/nologin --comment "gomirror Go module mirror" "$USER_NAME"
    say "created system user $USER_NAME"
  fi
fi

# 2. The tree (the state directory lives inside it: $DEST/.gomirror).
install -d -m 0755 "$ROOT$DEST"
if [ -z "$ROOT" ]; then
  chown "$USER_NAME:$USER_NAME" "$DEST"
fi

# 3. The config file: written once, never overwritten.
install -d -m 0755 "$CONF_DIR"
if [ -e "$CONF_FILE" ]; then
  say "keeping existing $CONF_FILE"
else
  tmp="$(mktemp "$CONF_DIR/.config.json.XXXXXX")"
  cat > "$tmp" <<JSON
{
  "dest": "$DEST",
  "log-format": "json",
  "log-level": "info"
}
JSON
  chmod 0644 "$tmp"
  mv "$tmp" "$CONF_FILE"
  say "wrote $CONF_FILE"
fi

# 4. The units, with ReadWritePaths= matching --dest; replaced only when they differ.
install -d -m 0755 "$UNIT_DIR"
changed=0
for unit in "$SRC_DIR"/systemd/*.service "$SRC_DIR"/systemd/*.timer; do
  name="$(basename "$unit")"
  tmp="$(mktemp "$UNIT_DIR/.$name.XXXXXX")"
  sed "s|^ReadWritePaths=/srv/gomirror\$|ReadWritePaths=$DEST|" "$unit" > "$tmp"
  chmod 0644 "$tmp"
  if [ -f "$UNIT_DIR/$name" ] && cmp -s "$tmp" "$UNIT_DIR/$name"; then
    rm -f "$tmp"
  else
    mv "$tmp" "$UNIT_DIR/$name"
    changed=1
    say "installed $UNIT_DIR/$name"
  fi
done

# 5. Tell systemd, when it runs this system.
if [ -z "$ROOT" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  if [ "$changed" = 1 ]; then systemctl daemon-reload; fi
  if [ "$ENABLE" = 1 ]; then
    systemctl enable --now gomirror-sync.timer gomirror-verify.timer
    say "enabled gomirror-sync.timer and gomirror-verify.timer"
  fi
else
  say "systemd is not running here (or --root given): enable later with"
  say "  systemctl daemon-reload && systemctl enable --now gomirror-sync.timer gomirror-verify.timer"
fi
say "done. Check with: gomirror status --config /etc/gomirror/config.json"
