#!/bin/bash
# Build a release tarball and copy it to the production web host.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(git describe --tags --always)
tar czf "/tmp/webapp-$version.tar.gz" --exclude=.git --exclude=.env .
scp "/tmp/webapp-$version.tar.gz" prod-web:/srv/releases/
ssh prod-web "sudo /srv/bin/activate-release webapp-$version"
echo "deployed $version"
