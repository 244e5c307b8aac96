# Sourced by scripts/serve and scripts/test: makes .venv with the portal installed.
# Usage: . scripts/setup.sh [test]
set -euo pipefail

want_extras="${1:-}"
PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      PYTHON="$candidate"; break
    fi
  done
fi
if [ -z "$PYTHON" ]; then
  echo "需要 Python 3.11 或更新版本（可用 PYTHON=/path/to/python 指定）。" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  echo "== 创建虚拟环境 .venv"
  "$PYTHON" -m venv .venv
fi

spec="."
[ "$want_extras" = "test" ] && spec=".[test]"
stamp=".venv/.portal-setup-$(cat setup.cfg pyproject.toml | sha1sum | cut -c1-12)-${want_extras:-base}"
if [ ! -f "$stamp" ]; then
  echo "== 安装依赖（$spec）"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e "$spec"
  touch "$stamp"
fi

echo "== 编译界面翻译"
.venv/bin/pybabel compile -d portal/translations >/dev/null
