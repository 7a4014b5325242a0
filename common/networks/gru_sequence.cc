#include "common/networks/gru_sequence.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/autograd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "common/networks/fast_math.h"

namespace tandem::networks {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// The gate arithmetic of a step is a few dozen flops per element, so it runs as one pass over the
// rows, written for the compiler to vectorize (TANDEM_VECTOR_CLONES, fast_math.h).

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

// Where each step's rows start in the packed layout: offsets[t] = rows_per_step[0..t) summed.
std::vector<int64_t> Offsets(const std::vector<int64_t>& rows_per_step) {
  std::vector<int64_t> offsets(rows_per_step.size() + 1, 0);
  for (size_t t = 0; t < rows_per_step.size(); ++t) {
    offsets[t + 1] = offsets[t] + rows_per_step[t];
  }
  return offsets;
}

// The forward pass over packed steps: `inputs` [P, I], step t's rows at offsets[t] and the first
// rows_per_step[t] of them continuing the first rows of step t - 1 (`initial` [rows_per_step[0],
// H] before step 0). Returns the hidden states [P, H]; `saved`, when not null, receives r, z, n
// and W_hn h + b_hn of every step (four [rows_t, H] planes per step, in step order) for the
// backward pass.
at::Tensor RunForward(const at::Tensor& inputs, const at::Tensor& initial,
                      const at::Tensor& weight_ih, const at::Tensor& weight_hh,
                      const at::Tensor& bias_ih, const at::Tensor& bias_hh,
                      const std::vector<int64_t>& rows_per_step, at::Tensor* saved) {
  const int64_t packed = inputs.size(0), h = initial.size(1);
  const std::vector<int64_t> offsets = Offsets(rows_per_step);
  // Input-side gates of every step in one product: [P, 3H].
  const at::Tensor gi = at::addmm(bias_ih, inputs, weight_ih.t());
  at::Tensor hidden = at::empty({packed, h}, inputs.options());
  if (saved != nullptr) *saved = at::empty({4 * packed * h}, inputs.options());
  const at::Tensor w_hh_t = weight_hh.t();
  at::Tensor gh_buffer =
      at::empty({rows_per_step.empty() ? 0 : rows_per_step[0], 3 * h}, inputs.options());
  at::Tensor previous = initial.contiguous();
  for (size_t t = 0; t < rows_per_step.size(); ++t) {
    const int64_t rows = rows_per_step[t];
    if (rows == 0) break;
    at::Tensor gh = gh_buffer.narrow(0, 0, rows);
    at::addmm_out(gh, bias_hh, previous.narrow(0, 0, rows), w_hh_t);
    const float* gi_t = gi.data_ptr<float>() + offsets[t] * 3 * h;
    const float* gh_t = gh.data_ptr<float>();
    const float* hp = previous.data_ptr<float>();
    float* out = hidden.data_ptr<float>() + offsets[t] * h;
    float* keep = saved != nullptr ? saved->data_ptr<float>() + 4 * offsets[t] * h : nullptr;
    at::parallel_for(0, rows, 64, [&](int64_t begin, int64_t end) {
      ForwardRows(begin, end, rows, h, gi_t, gh_t, hp, out, keep);
    });
    previous = hidden.narrow(0, offsets[t], rows);
  }
  return hidden;
}

class GruSequenceFunction : public torch::autograd::Function<GruSequenceFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& inputs,
                            const at::Tensor& initial, const at::Tensor& weight_ih,
                            const at::Tensor& weight_hh, const at::Tensor& bias_ih,
                            const at::Tensor& bias_hh, const std::vector<int64_t>& rows_per_step) {
    at::Tensor saved;
    const at::Tensor hidden =
        RunForward(inputs, initial, weight_ih, weight_hh, bias_ih, bias_hh, rows_per_step, &saved);
    ctx->save_for_backward({inputs, initial, weight_ih, weight_hh, hidden, saved});
    ctx->saved_data["rows_per_step"] = rows_per_step;
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
    const std::vector<int64_t> rows_per_step = ctx->saved_data["rows_per_step"].toIntVector();
    const std::vector<int64_t> offsets = Offsets(rows_per_step);
    const at::Tensor grad_hidden = grad_outputs[0].contiguous();
    const int64_t packed = inputs.size(0), h = initial.size(1);
    const int64_t steps = static_cast<int64_t>(rows_per_step.size());
    // Gradients of the gates' pre-activations, input side and hidden side, for every row.
    at::Tensor d_gi = at::empty({packed, 3 * h}, inputs.options());
    at::Tensor d_gh = at::empty({packed, 3 * h}, inputs.options());
    // dL/dh_t arriving from step t + 1, for step t's rows (the rows step t + 1 continued; zero
    // for the rest).
    at::Tensor d_next = at::zeros({initial.size(0), h}, inputs.options());
    at::Tensor d_initial = at::zeros_like(initial);
    const at::Tensor contiguous_initial = initial.contiguous();
    int64_t carried_rows = 0;
    for (int64_t t = steps - 1; t >= 0; --t) {
      const int64_t rows = rows_per_step[t];
      if (rows == 0) continue;
      at::Tensor carried = d_next.narrow(0, 0, rows);
      if (carried_rows < rows) carried.narrow(0, carried_rows, rows - carried_rows).zero_();
      const float* g_out = grad_hidden.data_ptr<float>() + offsets[t] * h;
      const float* keep = saved.data_ptr<float>() + 4 * offsets[t] * h;
      const float* hp = t > 0 ? hidden.data_ptr<float>() + offsets[t - 1] * h
                              : contiguous_initial.data_ptr<float>();
      float* dgi = d_gi.data_ptr<float>() + offsets[t] * 3 * h;
      float* dgh = d_gh.data_ptr<float>() + offsets[t] * 3 * h;
      at::Tensor direct = at::empty({rows, h}, inputs.options());
      const float* carried_data = carried.data_ptr<float>();
      float* dh_direct = direct.data_ptr<float>();
      at::parallel_for(0, rows, 64, [&](int64_t begin, int64_t end) {
        BackwardRows(begin, end, rows, h, g_out, carried_data, keep, hp, dgi, dgh, dh_direct);
      });
      // dL/dh_{t-1} = dh * z + d_gh W_hh, for the rows of step t - 1 that step t continued.
      at::Tensor into = t > 0 ? d_next.narrow(0, 0, rows) : d_initial.narrow(0, 0, rows);
      at::addmm_out(into, direct, d_gh.narrow(0, offsets[t], rows), weight_hh);
      carried_rows = rows;
    }
    // h_{t-1} of every packed row, in the rows' order.
    std::vector<at::Tensor> previous_parts;
    previous_parts.reserve(steps);
    for (int64_t t = 0; t < steps; ++t) {
      if (rows_per_step[t] == 0) break;
      previous_parts.push_back(t == 0 ? contiguous_initial.narrow(0, 0, rows_per_step[0])
                                      : hidden.narrow(0, offsets[t - 1], rows_per_step[t]));
    }
    const at::Tensor previous = at::cat(previous_parts, 0);
    const at::Tensor d_inputs = at::mm(d_gi, weight_ih);
    const at::Tensor d_weight_ih = at::mm(d_gi.t(), inputs);
    const at::Tensor d_weight_hh = at::mm(d_gh.t(), previous);
    return {d_inputs, d_initial, d_weight_ih, d_weight_hh, d_gi.sum(0), d_gh.sum(0), at::Tensor()};
  }
};

}  // namespace

at::Tensor GruPackedSequence(const at::Tensor& inputs, const at::Tensor& initial,
                             const at::Tensor& weight_ih, const at::Tensor& weight_hh,
                             const at::Tensor& bias_ih, const at::Tensor& bias_hh,
                             const std::vector<int64_t>& rows_per_step) {
  const bool differentiable =
      at::GradMode::is_enabled() &&
      (inputs.requires_grad() || initial.requires_grad() || weight_ih.requires_grad() ||
       weight_hh.requires_grad() || bias_ih.requires_grad() || bias_hh.requires_grad());
  if (!differentiable) {
    // Nothing to keep for a backward pass (a target network's unroll).
    return RunForward(inputs.contiguous(), initial.contiguous(), weight_ih, weight_hh, bias_ih,
                      bias_hh, rows_per_step, nullptr);
  }
  return GruSequenceFunction::apply(inputs.contiguous(), initial.contiguous(), weight_ih, weight_hh,
                                    bias_ih, bias_hh, rows_per_step);
}

at::Tensor GruSequence(const at::Tensor& inputs, const at::Tensor& initial,
                       const at::Tensor& weight_ih, const at::Tensor& weight_hh,
                       const at::Tensor& bias_ih, const at::Tensor& bias_hh) {
  const int64_t steps = inputs.size(0), rows = inputs.size(1);
  return GruPackedSequence(inputs.reshape({steps * rows, inputs.size(2)}), initial, weight_ih,
                           weight_hh, bias_ih, bias_hh, std::vector<int64_t>(steps, rows))
      .view({steps, rows, initial.size(1)});
}

}  // namespace tandem::networks
