#!/bin/sh
# Publish the course notebooks to the room's git repository (deploy/README.md, "Update the course mid-session").
#
#   deploy/jupyterhub/publish_notebooks.sh NOTEBOOKS_FOLDER [COURSE_REPO]
#
# COURSE_REPO (default /opt/qwen-lessons/course.git) is a bare git repository, made on first use. Each run commits the
# folder's current content on its branch main. A learner's server pulls it with nbgitpuller at every start, and the
# git-pull link pulls it into a running server: new and corrected notebooks arrive, the learner's own edits stay
# (nbgitpuller merges and keeps the learner's side of a conflicting line). No image rebuild, no hub restart.
set -eu
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 NOTEBOOKS_FOLDER [COURSE_REPO]" >&2
    exit 2
fi
src=$(cd "$1" && pwd)
repo=${2:-/opt/qwen-lessons/course.git}
if [ ! -d "$repo" ]; then
    mkdir -p "$(dirname "$repo")"
    git init --quiet --bare "$repo"
    git --git-dir="$repo" symbolic-ref HEAD refs/heads/main
    printf '.ipynb_checkpoints/\n__pycache__/\n' >"$repo/info/exclude"
    # learners' servers run as other users than the repository's owner: git refuses such a repository unless the
    # system configuration names it safe, and the hub config points learners' git at this file (GIT_CONFIG_SYSTEM)
    printf '[safe]\n\tdirectory = %s\n' "$(cd "$repo" && pwd)" >"$repo/learners.gitconfig"
fi
index=$(mktemp)
trap 'rm -f "$index"' EXIT
rm -f "$index"  # git makes a fresh index: the commit is exactly the folder as it is now
export GIT_DIR="$repo" GIT_WORK_TREE="$src" GIT_INDEX_FILE="$index"
git add --all
if git rev-parse --quiet --verify refs/heads/main >/dev/null && git diff --cached --quiet main; then
    echo "course repository $repo: already up to date with $src"
    exit 0
fi
git -c user.name="qwen-lessons instructor" -c user.email="instructor@localhost" \
    commit --quiet -m "Course update from $src"
echo "course repository $repo: published $src as $(git rev-parse --short main)"
