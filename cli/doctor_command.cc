#include "cli/doctor_command.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <hdf5.h>
#include <mujoco/mujoco.h>
#include <torch/version.h>

#include <chrono>
#include <iomanip>
#include <string>

#include "common/blas_info.h"
#include "google/protobuf/stubs/common.h"
#include "grpcpp/grpcpp.h"

namespace tandem {
namespace {

// Median-free quick figure: GFLOP/s of a float32 n x n matmul, best of a few runs.
double MatmulGflops(int64_t n) {
  at::Tensor a = at::rand({n, n});
  at::Tensor b = at::rand({n, n});
  at::mm(a, b);  // warm-up
  double best = 0;
  for (int i = 0; i < 5; ++i) {
    auto start = std::chrono::steady_clock::now();
    at::Tensor c = at::mm(a, b);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, 2.0 * n * n * n / seconds / 1e9);
  }
  return best;
}

int RunDoctor(const cli::Args& args, std::ostream& out, std::ostream& err) {
  unsigned hdf5_major = 0, hdf5_minor = 0, hdf5_release = 0;
  H5get_libversion(&hdf5_major, &hdf5_minor, &hdf5_release);
  const BlasInfo blas = DetectBlas();
  out << "tandem doctor\n"
      << "  libtorch     " << TORCH_VERSION_MAJOR << "." << TORCH_VERSION_MINOR << "."
      << TORCH_VERSION_PATCH << " (CUDA " << (at::hasCUDA() ? "available" : "not available")
      << ", intra-op threads " << at::get_num_threads() << ")\n"
      << "  BLAS         " << DescribeBlas(blas) << "\n"
      << "  gRPC         " << grpc::Version() << "\n"
      << "  protobuf     " << google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION)
      << "\n"
      << "  MuJoCo       " << mj_version() / 100 << "." << (mj_version() / 10) % 10 << "."
      << mj_version() % 10 << "\n"
      << "  HDF5         " << hdf5_major << "." << hdf5_minor << "." << hdf5_release << "\n";
  if (!args.GetBool("skip_benchmark")) {
    out << "  matmul       " << std::fixed << std::setprecision(1) << MatmulGflops(512)
        << " GFLOP/s (float32 512x512, best of 5)\n";
  }
  if (blas.is_reference) {
    err << "tandem doctor: LibTorch is running on the reference BLAS (about 25x slower); install "
           "libopenblas0-openmp (deploy/install-deps.sh)\n";
    return cli::kExitFailure;
  }
  out << "OK\n";
  return cli::kExitOk;
}

}  // namespace

cli::Command DoctorCommand() {
  cli::Command command{"doctor",
                       "Report library versions, the BLAS LibTorch uses, CUDA and a matmul "
                       "speed figure; fail if LibTorch runs on the slow reference BLAS."};
  command.flags = {
      {"skip_benchmark", cli::FlagKind::kBool, "Skip the matmul speed figure.", "false"}};
  command.run = RunDoctor;
  return command;
}

}  // namespace tandem
