# Shared by scripts/run and scripts/test: a project virtualenv installed from constraints.txt.
# Re-installs only when pyproject.toml or constraints.txt changed since the last install.
ensure_venv() {
  local extras="$1"
  local python="${PYTHON:-python3}"
  local stamp=".venv/.installed${extras:+-$extras}"
  if [ ! -x .venv/bin/python ]; then
    echo "sesame: creating .venv with $($python --version)" >&2
    "$python" -m venv .venv
  fi
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ]; then
    echo "sesame: installing dependencies (pinned in constraints.txt)" >&2
    .venv/bin/python -m pip install --quiet --disable-pip-version-check \
      -c constraints.txt -e ".${extras:+[$extras]}"
    touch "$stamp"
  fi
}
