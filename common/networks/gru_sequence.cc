#include "common/networks/gru_sequence.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/autograd.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace tandem::networks {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// The gate arithmetic of a step is a few dozen flops per element, so it runs as one pass over the
// rows, written for the compiler to vectorize: built for AVX-512 and AVX2 beside the baseline, the
// best one picked at load time.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TANDEM_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define TANDEM_VECTOR_CLONES
#endif

// e^x within 2 ulp for x in [-87, 88] (clamped outside): x = n ln 2 + r with |r| <= ln 2 / 2,
// e^r by its Taylor polynomial to degree 7 (remainder below 6e-9), 2^n from the exponent bits.
__attribute__((always_inline)) inline float Exp(float x) {
  x = std::min(std::max(x, -87.0F), 88.0F);
  const float n = std::floor(x * 1.44269504F + 0.5F);
  const float r = x - n * 0.693145751953125F - n * 1.428606765330187e-06F;
  float p = 1.0F / 5040;
  p = p * r + 1.0F / 720;
  p = p * r + 1.0F / 120;
  p = p * r + 1.0F / 24;
  p = p * r + 1.0F / 6;
  p = p * r + 0.5F;
  p = p * r + 1.0F;
  p = p * r + 1.0F;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return p * scale;
}

__attribute__((always_inline)) inline float Sigmoid(float x) { return 1.0F / (1.0F + Exp(-x)); }
// 1 - 2 / (e^{2x} + 1): exact limits at both ends, absolute error near 1e-7 around 0.
__attribute__((always_inline)) inline float Tanh(float x) {
  return 1.0F - 2.0F / (Exp(2.0F * x) + 1.0F);
}

// One forward step for rows [begin, end): `gi` [R, 3H] input-side gates (with b_ih), `gh` [R, 3H]
// hidden-side (with b_hh), `previous` [R, H] -> `out` [R, H]; with kKeep, `keep` receives r, z, n
// and W_hn h + b_hn as four [R, H] planes for the backward pass.
template <bool kKeep>
__attribute__((always_inline)) inline void ForwardRowsOf(int64_t begin, int64_t end, int64_t rows,
                                                         int64_t h, const float* __restrict gi,
                                                         const float* __restrict gh,
                                                         const float* __restrict previous,
                                                         float* __restrict out,
                                                         float* __restrict keep) {
  const int64_t plane = rows * h;
  for (int64_t row = begin; row < end; ++row) {
    const float* __restrict gi_row = gi + row * 3 * h;
    const float* __restrict gh_row = gh + row * 3 * h;
    const float* __restrict hp = previous + row * h;
    float* __restrict o = out + row * h;
    float* __restrict k = keep + row * h;
#pragma GCC ivdep
    for (int64_t j = 0; j < h; ++j) {
      const float r = Sigmoid(gi_row[j] + gh_row[j]);
      const float z = Sigmoid(gi_row[h + j] + gh_row[h + j]);
      const float hn = gh_row[2 * h + j];
      const float n = Tanh(gi_row[2 * h + j] + r * hn);
      o[j] = n + z * (hp[j] - n);
      if constexpr (kKeep) {
        k[j] = r;
        k[plane + j] = z;
        k[2 * plane + j] = n;
        k[3 * plane + j] = hn;
      }
    }
  }
}

TANDEM_VECTOR_CLONES
void ForwardRows(int64_t begin, int64_t end, int64_t rows, int64_t h, const float* gi,
                 const float* gh, const float* previous, float* out, float* keep) {
  if (keep != nullptr) {
    ForwardRowsOf<true>(begin, end, rows, h, gi, gh, previous, out, keep);
  } else {
    ForwardRowsOf<false>(begin, end, rows, h, gi, gh, previous, out, keep);
  }
}

// One backward step for rows [begin, end): from dL/dh_t (`g_out` + `carried`), the step's kept
// gates and h_{t-1} -> the gates' pre-activation gradients, input side `dgi` and hidden side `dgh`
// (both [R, 3H]), and the part of dL/dh_{t-1} that skips W_hh (`direct`, dh * z).
TANDEM_VECTOR_CLONES
void BackwardRows(int64_t begin, int64_t end, int64_t rows, int64_t h,
                  const float* __restrict g_out, const float* __restrict carried,
                  const float* __restrict keep, const float* __restrict hp, float* __restrict dgi,
                  float* __restrict dgh, float* __restrict direct) {
  const int64_t plane = rows * h;
  for (int64_t row = begin; row < end; ++row) {
    const float* __restrict k_row = keep + row * h;
    float* __restrict gi_row = dgi + row * 3 * h;
    float* __restrict gh_row = dgh + row * 3 * h;
#pragma GCC ivdep
    for (int64_t j = 0; j < h; ++j) {
      const float dh = g_out[row * h + j] + carried[row * h + j];
      const float r = k_row[j], z = k_row[plane + j], n = k_row[2 * plane + j];
      const float hn = k_row[3 * plane + j];
      const float dn = dh * (1 - z) * (1 - n * n);
      const float dz = dh * (hp[row * h + j] - n) * z * (1 - z);
      const float dr = dn * hn * r * (1 - r);
      gi_row[j] = dr;
      gi_row[h + j] = dz;
      gi_row[2 * h + j] = dn;
      gh_row[j] = dr;
      gh_row[h + j] = dz;
      gh_row[2 * h + j] = dn * r;
      direct[row * h + j] = dh * z;
    }
  }
}

// The forward pass; `saved`, when not null, receives r, z, n and W_hn h + b_hn of every step,
// [T, 4, R, H], for the backward pass.
at::Tensor RunForward(const at::Tensor& inputs, const at::Tensor& initial,
                      const at::Tensor& weight_ih, const at::Tensor& weight_hh,
                      const at::Tensor& bias_ih, const at::Tensor& bias_hh, at::Tensor* saved) {
  const int64_t steps = inputs.size(0), rows = inputs.size(1), h = initial.size(1);
  // Input-side gates of every step in one product: [T * R, 3H].
  const at::Tensor gi = at::addmm(bias_ih, inputs.reshape({steps * rows, -1}), weight_ih.t())
                            .view({steps, rows, 3 * h});
  at::Tensor hidden = at::empty({steps, rows, h}, inputs.options());
  if (saved != nullptr) *saved = at::empty({steps, 4, rows, h}, inputs.options());
  const at::Tensor w_hh_t = weight_hh.t();
  at::Tensor gh = at::empty({rows, 3 * h}, inputs.options());
  at::Tensor previous = initial.contiguous();
  for (int64_t t = 0; t < steps; ++t) {
    at::addmm_out(gh, bias_hh, previous, w_hh_t);
    const float* gi_t = gi[t].data_ptr<float>();
    const float* gh_t = gh.data_ptr<float>();
    const float* hp = previous.data_ptr<float>();
    float* out = hidden[t].data_ptr<float>();
    float* keep = saved != nullptr ? (*saved)[t].data_ptr<float>() : nullptr;
    at::parallel_for(0, rows, 64, [&](int64_t begin, int64_t end) {
      ForwardRows(begin, end, rows, h, gi_t, gh_t, hp, out, keep);
    });
    previous = hidden[t];
  }
  return hidden;
}

class GruSequenceFunction : public torch::autograd::Function<GruSequenceFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& inputs,
                            const at::Tensor& initial, const at::Tensor& weight_ih,
                            const at::Tensor& weight_hh, const at::Tensor& bias_ih,
                            const at::Tensor& bias_hh) {
    at::Tensor saved;
    const at::Tensor hidden =
        RunForward(inputs, initial, weight_ih, weight_hh, bias_ih, bias_hh, &saved);
    ctx->save_for_backward({inputs, initial, weight_ih, weight_hh, hidden, saved});
    return hidden;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const auto saved_tensors = ctx->get_saved_variables();
    const at::Tensor& inputs = saved_tensors[0];
    const at::Tensor& initial = saved_tensors[1];
    const at::Tensor& weight_ih = saved_tensors[2];
    const at::Tensor& weight_hh = saved_tensors[3];
    const at::Tensor& hidden = saved_tensors[4];
    const at::Tensor& saved = saved_tensors[5];
    const at::Tensor grad_hidden = grad_outputs[0].contiguous();
    const int64_t steps = inputs.size(0), rows = inputs.size(1), h = initial.size(1);
    // Gradients of the gates' pre-activations, input side and hidden side, for every step.
    at::Tensor d_gi = at::empty({steps, rows, 3 * h}, inputs.options());
    at::Tensor d_gh = at::empty({steps, rows, 3 * h}, inputs.options());
    at::Tensor d_next = at::zeros({rows, h}, inputs.options());  // dL/dh_t from step t + 1
    const at::Tensor contiguous_initial = initial.contiguous();
    for (int64_t t = steps - 1; t >= 0; --t) {
      const float* g_out = grad_hidden[t].data_ptr<float>();
      const float* carried = d_next.data_ptr<float>();
      const float* keep = saved[t].data_ptr<float>();
      const float* hp = (t > 0 ? hidden[t - 1] : contiguous_initial).data_ptr<float>();
      float* dgi = d_gi[t].data_ptr<float>();
      float* dgh = d_gh[t].data_ptr<float>();
      at::Tensor direct = at::empty({rows, h}, inputs.options());
      float* dh_direct = direct.data_ptr<float>();
      at::parallel_for(0, rows, 64, [&](int64_t begin, int64_t end) {
        BackwardRows(begin, end, rows, h, g_out, carried, keep, hp, dgi, dgh, dh_direct);
      });
      // dL/dh_{t-1} = dh * z + d_gh W_hh.
      d_next = at::addmm(direct, d_gh[t], weight_hh);
    }
    const at::Tensor flat_gi = d_gi.view({steps * rows, 3 * h});
    const at::Tensor flat_gh = d_gh.view({steps * rows, 3 * h});
    const at::Tensor previous =
        at::cat({contiguous_initial.unsqueeze(0), hidden.narrow(0, 0, steps - 1)}, 0)
            .view({steps * rows, h});
    const at::Tensor d_inputs = at::mm(flat_gi, weight_ih).view(inputs.sizes());
    const at::Tensor d_weight_ih = at::mm(flat_gi.t(), inputs.reshape({steps * rows, -1}));
    const at::Tensor d_weight_hh = at::mm(flat_gh.t(), previous);
    return {d_inputs, d_next, d_weight_ih, d_weight_hh, flat_gi.sum(0), flat_gh.sum(0)};
  }
};

}  // namespace

at::Tensor GruSequence(const at::Tensor& inputs, const at::Tensor& initial,
                       const at::Tensor& weight_ih, const at::Tensor& weight_hh,
                       const at::Tensor& bias_ih, const at::Tensor& bias_hh) {
  const bool differentiable =
      at::GradMode::is_enabled() &&
      (inputs.requires_grad() || initial.requires_grad() || weight_ih.requires_grad() ||
       weight_hh.requires_grad() || bias_ih.requires_grad() || bias_hh.requires_grad());
  if (!differentiable) {
    // Nothing to keep for a backward pass (a target network's unroll).
    return RunForward(inputs.contiguous(), initial.contiguous(), weight_ih, weight_hh, bias_ih,
                      bias_hh, nullptr);
  }
  return GruSequenceFunction::apply(inputs.contiguous(), initial.contiguous(), weight_ih, weight_hh,
                                    bias_ih, bias_hh);
}

}  // namespace tandem::networks
