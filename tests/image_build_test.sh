#!/usr/bin/env bash
# Builds docker/Dockerfile without a daemon and runs `tandem --help` and `tandem doctor` in the
# image (deploy/build-image.sh). Opt-in: the image build compiles Tandem again inside the image
# (about half an hour on 2 cores), so it runs only with TANDEM_IMAGE_TEST=1:
#   TANDEM_IMAGE_TEST=1 ctest --test-dir build -L image --output-on-failure
# Skipped (exit 77, with the reason) otherwise, or where the machine cannot build images.
# Env: TANDEM_SOURCE_DIR.
set -uo pipefail
if [[ "${TANDEM_IMAGE_TEST:-0}" != 1 ]]; then
  echo "skipped: building the image compiles Tandem again (~30 min on 2 cores); set TANDEM_IMAGE_TEST=1"
  exit 77
fi
exec "$TANDEM_SOURCE_DIR/deploy/build-image.sh" --tag tandem:cpu-test
