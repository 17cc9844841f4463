#!/usr/bin/env bash
# One-server install of the qwen-lessons workshop hub on a fresh Debian or Ubuntu machine (deploy/README.md).
# Run as root from a checkout of the repository:
#
#   sudo deploy/jupyterhub/install.sh [--hostname NAME] [--port 443] [--cert FILE --key FILE] [--password WORDS]
#                                     [--admin NAME] [--wheel FILE] [--root DIR] [--no-apt] [--no-systemd]
#
# What it does, in order (each step prints one line):
#   1. apt-get installs Python (venv), Node.js and npm, git and openssl           (--no-apt: skipped)
#   2. the course environment /opt/qwen-lessons/env: the course package (pip install .[hub,zh], not editable) with the
#      hub, the idle culler, the systemd spawner, nbgitpuller, jupyter-resource-usage and JupyterLab's Chinese language
#      pack, at binder/requirements.txt's pins, so the room runs the environment Binder and CI run
#   3. configurable-http-proxy from npm at a pinned version, in /opt/qwen-lessons/proxy
#   4. the notebooks published to the course repository /opt/qwen-lessons/course.git (publish_notebooks.sh)
#   5. TLS: the instructor's certificate (--cert/--key), or a self-signed one for --hostname (make_cert.sh)
#   6. /etc/qwen-lessons/hub.env (the room's settings and the shared password, readable by root only)
#   7. the systemd unit qwen-lessons-hub.service: enabled (starts on boot) and started  (--no-systemd: written only)
# and prints the address and the shared password to write on the board.
#
# --wheel FILE installs the course from a built wheel (python -m pip wheel --no-deps .) instead of this checkout.
# --root DIR installs under DIR instead of / (a test, or an image being built): every path above is prefixed with DIR
# and the files written name those prefixed paths. Without systemd running (a container, a test), step 7 only writes
# the unit and says why; without apt-get, step 1 says so. Running it again updates the environment and keeps the
# password, the certificate and the learners' files.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
CHP_VERSION=5.3.0  # the configurable-http-proxy the room test runs (.ci/run installs the same)
root=/ hostname="" port=443 cert="" key="" password=${QWEN_HUB_PASSWORD:-} admin="" wheel="" use_apt=yes use_systemd=yes
python=${QWEN_INSTALL_PYTHON:-python3}

usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
    case $1 in
        --root) root=$2; shift 2 ;;
        --hostname) hostname=$2; shift 2 ;;
        --port) port=$2; shift 2 ;;
        --cert) cert=$2; shift 2 ;;
        --key) key=$2; shift 2 ;;
        --password) password=$2; shift 2 ;;
        --admin) admin=$2; shift 2 ;;
        --wheel) wheel=$2; shift 2 ;;
        --no-apt) use_apt=no; shift ;;
        --no-systemd) use_systemd=no; shift ;;
        -h|--help) usage 0 ;;
        *) echo "install.sh: unknown option $1" >&2; usage 2 ;;
    esac
done
say() { echo "install.sh: $*"; }
fail() { echo "install.sh: $*" >&2; exit 1; }
[ -n "$cert" ] && [ -z "$key" ] && fail "--cert needs --key (the certificate's private key)"
[ -z "$cert" ] && [ -n "$key" ] && fail "--key needs --cert"
case $port in ''|*[!0-9]*) fail "--port must be a number from 1 to 65535, not '$port'" ;; esac
{ [ "$port" -ge 1 ] && [ "$port" -le 65535 ]; } || fail "--port must be a number from 1 to 65535, not $port"
if [ -n "$password" ] && [ ${#password} -lt 8 ]; then
    fail "--password must have at least 8 characters (JupyterHub's shared-password rule)"
fi

root=$(mkdir -p "$root" && cd "$root" && pwd)
root=${root%/}  # "" for /
prefix=$root/opt/qwen-lessons
etc=$root/etc/qwen-lessons
state=$root/var/lib/qwen-lessons-hub
unit=$root/etc/systemd/system/qwen-lessons-hub.service
env_dir=$prefix/env
[ -n "$hostname" ] || hostname=$(hostname -f 2>/dev/null || hostname)

# 1. system packages
if [ "$use_apt" = no ]; then
    say "1/7 system packages: skipped (--no-apt); needs python3 (3.11+) with venv, node and npm, git, openssl"
elif ! command -v apt-get >/dev/null 2>&1; then
    say "1/7 system packages: skipped (no apt-get: not Debian or Ubuntu); needs python3 (3.11+) with venv, node and npm, git, openssl"
else
    say "1/7 system packages: apt-get install python3-venv nodejs npm git openssl fonts-noto-cjk"
    apt-get update -qq
    # fonts-noto-cjk: the Chinese notebooks' figures draw their labels with it (without it they stay English)
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv nodejs npm git openssl fonts-noto-cjk >/dev/null
fi
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || fail "$("$python" --version 2>&1) is too old: the course needs Python 3.11 or newer (set QWEN_INSTALL_PYTHON)"
for tool in node npm git openssl; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool not found (install it, or run without --no-apt)"
done

# 2. the course environment
course=$SRC
[ -z "$wheel" ] || course=$(cd "$(dirname "$wheel")" && pwd)/$(basename "$wheel")
say "2/7 course environment: $env_dir (pip install $course[hub,zh], constrained by binder/requirements.txt)"
[ -x "$env_dir/bin/python" ] || "$python" -m venv "$env_dir"
# shellcheck disable=SC2086  # QWEN_INSTALL_PIP_OPTIONS holds several options (e.g. --no-index --find-links DIR)
"$env_dir/bin/python" -m pip install --quiet --disable-pip-version-check ${QWEN_INSTALL_PIP_OPTIONS:-} \
    -c "$SRC/binder/requirements.txt" "$course[hub,zh]"
"$env_dir/bin/python" -c "import qwen_lessons, jupyterhub, systemdspawner, jupyterhub_idle_culler, nbgitpuller, jupyter_resource_usage, jupyterlab_language_pack_zh_CN"

# 3. the proxy
say "3/7 configurable-http-proxy $CHP_VERSION: $prefix/proxy"
npm install --prefix "$prefix/proxy" --no-audit --no-fund --silent "configurable-http-proxy@$CHP_VERSION" >/dev/null
chp_bin=$prefix/proxy/node_modules/.bin
[ -x "$chp_bin/configurable-http-proxy" ] || fail "npm did not install configurable-http-proxy"

# 4. the notebooks and the hub's configuration
say "4/7 notebooks: $prefix/course.git"
"$HERE/publish_notebooks.sh" "$SRC/notebooks" "$prefix/course.git" | sed 's/^/    /'
install -m 644 "$HERE/jupyterhub_config.py" "$HERE/learner_server_config.py" "$prefix/"
install -m 755 "$HERE/publish_notebooks.sh" "$prefix/publish_notebooks.sh"

# 5. TLS
mkdir -p "$etc/tls" "$state"
chmod 700 "$etc"
if [ -n "$cert" ]; then
    install -m 644 "$cert" "$etc/tls/hub.crt"
    install -m 600 "$key" "$etc/tls/hub.key"
    say "5/7 TLS: your certificate $cert, copied to $etc/tls/"
elif [ -s "$etc/tls/hub.crt" ]; then
    say "5/7 TLS: keeping the certificate already in $etc/tls/hub.crt"
else
    say "5/7 TLS: no --cert given, making a self-signed certificate for $hostname"
    "$HERE/make_cert.sh" "$hostname" "$etc/tls/hub.crt" "$etc/tls/hub.key" | sed 's/^/    /'
fi

# 6. the room's settings (kept on a re-run, so the password on the board stays valid)
if [ -s "$etc/hub.env" ] && [ -z "$password" ]; then
    password=$(sed -n 's/^QWEN_HUB_PASSWORD=//p' "$etc/hub.env")
fi
[ -n "$password" ] || password=$(openssl rand -hex 6)
admin_password=""
[ ! -s "$etc/hub.env" ] || admin_password=$(sed -n 's/^QWEN_HUB_ADMIN_PASSWORD=//p' "$etc/hub.env")
[ -n "$admin_password" ] || admin_password=$(openssl rand -hex 16)  # JupyterHub asks 32 characters or more
say "6/7 settings: $etc/hub.env"
umask 077
cat >"$etc/hub.env" <<ENV
# qwen-lessons hub settings (read by qwen-lessons-hub.service; every name is explained in jupyterhub_config.py)
QWEN_HUB_PASSWORD=$password
QWEN_HUB_ADMIN_USERS=$admin
QWEN_HUB_ADMIN_PASSWORD=$admin_password
QWEN_HUB_PORT=$port
QWEN_HUB_SSL_CERT=$etc/tls/hub.crt
QWEN_HUB_SSL_KEY=$etc/tls/hub.key
QWEN_HUB_COURSE_PYTHON=$env_dir/bin/python
QWEN_HUB_COURSE_REPO=$prefix/course.git
QWEN_HUB_MEM_LIMIT=1G
PATH=$chp_bin:$env_dir/bin:/usr/local/bin:/usr/bin:/bin
ENV
umask 022

# 7. the systemd unit
mkdir -p "$(dirname "$unit")"
cat >"$unit" <<UNIT
[Unit]
Description=qwen-lessons workshop hub (JupyterHub on port $port)
After=network-online.target
Wants=network-online.target

[Service]
User=root
WorkingDirectory=$state
EnvironmentFile=$etc/hub.env
ExecStart=$env_dir/bin/jupyterhub -f $prefix/jupyterhub_config.py
Restart=on-failure
RestartSec=5

[Install]
WantedBy=multi-user.target
UNIT
if [ "$use_systemd" = no ]; then
    say "7/7 systemd: unit written to $unit, not started (--no-systemd)"
elif [ ! -d /run/systemd/system ]; then
    say "7/7 systemd: unit written to $unit, not started (systemd is not running here: a container?)"
    use_systemd=no
elif [ -n "$root" ]; then
    say "7/7 systemd: unit written to $unit, not started (--root $root: not this machine's /etc)"
    use_systemd=no
else
    systemctl daemon-reload
    systemctl enable --now qwen-lessons-hub.service >/dev/null 2>&1
    systemctl restart qwen-lessons-hub.service  # a re-run picks up the new environment and settings
    say "7/7 systemd: qwen-lessons-hub.service enabled (starts on boot) and started"
fi
if [ "$use_systemd" = no ]; then
    echo "    start it by hand: cd $state && set -a && . $etc/hub.env && set +a && $env_dir/bin/jupyterhub -f $prefix/jupyterhub_config.py"
fi

address=https://$hostname
[ "$port" = 443 ] || address=$address:$port
echo
echo "The room:  $address/"
echo "Password:  $password   (any name; learners reuse their name after a break)"
[ -z "$admin" ] || echo "Admin:     $admin   password: $admin_password   page: $address/hub/admin (who is running)"
