#!/usr/bin/env bash
# Installs every Debian 12 package Tandem needs to build, test and run. Idempotent: packages that
# are already installed are left alone and nothing is downloaded when nothing is missing.
#
# Usage: deploy/install-deps.sh [--runtime] [--image-tools]
#   --runtime      only the shared libraries and tools needed to run the binaries (Docker images).
#   --image-tools  also buildah and debootstrap, to build the images without a Docker daemon
#                  (deploy/build-image.sh).
set -euo pipefail

runtime_only=0
image_tools=0
for arg in "$@"; do
  case "$arg" in
    --runtime) runtime_only=1 ;;
    --image-tools) image_tools=1 ;;
    -h | --help)
      sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "install-deps.sh: unknown argument '$arg' (try --help)" >&2
      exit 2
      ;;
  esac
done

# Libraries every Tandem process loads at run time. libopenblas0-openmp matters: without it Debian's
# libtorch falls back to the reference BLAS, about 25x slower on the learner's matrix multiplies.
runtime_packages=(
  libtorch1.13 libopenblas0-openmp
  libgrpc++1.51 libprotobuf32
  libmujoco2.2.2
  libabsl20220623
  libprometheus-cpp-core1.0
  libhdf5-103-1
  libgoogle-glog0v6
  ca-certificates
)

# Headers, code generators and tools needed to build and test. gnuplot renders `tandem run`'s
# learning curves; prometheus (promtool and the server), docker-compose and python3-yaml validate the
# deployment files in the tests; python3-h5py checks that datasets read in plain Python. The Python
# package (python/) is built with pybind11 against Debian's python3 and NumPy; its replay client
# uses python3-grpcio with stubs from grpc_python_plugin, pytest runs its tests, and its PyTorch
# examples use python3-torch (the same LibTorch as libtorch-dev). clang-14 and its libFuzzer runtime
# build the fuzz targets of tests/fuzz/. MuJoCo's CMake config looks for OpenGL (libqhull-dev,
# libgl-dev and libopengl-dev; libmujoco-dev does not pull the last two, found by building the
# image from a bare Debian).
build_packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libtorch-dev libgloo-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libmujoco-dev libqhull-dev libgl-dev libopengl-dev
  libabsl-dev
  prometheus-cpp-dev
  libgtest-dev libgmock-dev googletest
  libbenchmark-dev
  libhdf5-dev zlib1g-dev
  libgoogle-glog-dev libgflags-dev
  clang-format openssl
  gnuplot-nox
  prometheus docker-compose python3-yaml python3-h5py
  pybind11-dev python3-dev python3-numpy python3-pytest python3-grpcio python3-protobuf python3-torch
  clang-14 libclang-rt-14-dev
)

packages=("${runtime_packages[@]}")
if [[ $runtime_only -eq 0 ]]; then
  packages+=("${build_packages[@]}")
fi
if [[ $image_tools -eq 1 ]]; then
  packages+=(buildah debootstrap)
fi

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps.sh: all ${#packages[@]} packages already installed"
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  sudo_cmd=()
elif command -v sudo >/dev/null 2>&1; then
  sudo_cmd=(sudo)
else
  echo "install-deps.sh: missing packages (${missing[*]}) and neither root nor sudo is available" >&2
  exit 1
fi

echo "install-deps.sh: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
