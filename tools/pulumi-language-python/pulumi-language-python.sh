#!/bin/sh
# Starts the Python language host built from sdk v@HOST_VERSION@ (see scripts/install-pulumi). That host takes
# the project's root and virtualenv as flags, where newer engines pass them with each request. The engine
# starts the host in the program's directory (Pulumi.yaml's, or its `main`), so look upwards for Pulumi.yaml
# and read the `virtualenv` runtime option from it.
host="$(dirname "$0")/pulumi-language-python-v@HOST_VERSION@"
dir=$PWD
while :; do
  for file in "$dir/Pulumi.yaml" "$dir/Pulumi.yml"; do
    if [ -f "$file" ]; then
      venv=$(sed -n 's/^[[:space:]]*virtualenv:[[:space:]]*//p' "$file" | head -n 1 |
        sed -e 's/[[:space:]]*#.*$//' -e 's/^["'\'']//' -e 's/["'\'']$//')
      if [ -n "$venv" ]; then
        exec "$host" -root="$dir" -virtualenv="$venv" "$@"
      fi
      exec "$host" -root="$dir" "$@"
    fi
  done
  [ "$dir" = / ] && break
  dir=$(dirname "$dir")
done
exec "$host" "$@"
