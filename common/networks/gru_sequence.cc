#include "common/networks/gru_sequence.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/autograd.h>

#include <cmath>

namespace tandem::networks {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

class GruSequenceFunction : public torch::autograd::Function<GruSequenceFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& inputs,
                            const at::Tensor& initial, const at::Tensor& weight_ih,
                            const at::Tensor& weight_hh, const at::Tensor& bias_ih,
                            const at::Tensor& bias_hh) {
    const int64_t steps = inputs.size(0), rows = inputs.size(1), h = initial.size(1);
    // Input-side gates of every step in one product: [T * R, 3H].
    const at::Tensor gi = at::addmm(bias_ih, inputs.reshape({steps * rows, -1}), weight_ih.t())
                              .view({steps, rows, 3 * h});
    at::Tensor hidden = at::empty({steps, rows, h}, inputs.options());
    // Saved per step for the backward pass, [T, 4, R, H]: r, z, n and W_hn h + b_hn.
    at::Tensor saved = at::empty({steps, 4, rows, h}, inputs.options());
    const at::Tensor w_hh_t = weight_hh.t();
    at::Tensor gh = at::empty({rows, 3 * h}, inputs.options());
    at::Tensor previous = initial.contiguous();
    for (int64_t t = 0; t < steps; ++t) {
      // Vectorized ATen kernels for the gates (sigmoid and tanh dominate a scalar loop).
      at::addmm_out(gh, bias_hh, previous, w_hh_t);
      const at::Tensor in = gi[t];
      const at::Tensor keep = saved[t];
      at::Tensor r = keep[0], z = keep[1], n = keep[2], hn = keep[3];
      at::sigmoid_out(r, at::add(in.narrow(1, 0, h), gh.narrow(1, 0, h)));
      at::sigmoid_out(z, at::add(in.narrow(1, h, h), gh.narrow(1, h, h)));
      hn.copy_(gh.narrow(1, 2 * h, h));
      at::tanh_out(n, at::addcmul(in.narrow(1, 2 * h, h), r, hn));
      // h' = n + z (h - n).
      at::Tensor out = hidden[t];
      at::lerp_out(out, n, previous, z);
      previous = out;
    }
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
        const int64_t plane = rows * h;  // one of r, z, n, hn
        for (int64_t row = begin; row < end; ++row) {
          const float* k_row = keep + row * h;
          float* gi_row = dgi + row * 3 * h;
          float* gh_row = dgh + row * 3 * h;
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
            dh_direct[row * h + j] = dh * z;
          }
        }
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
  return GruSequenceFunction::apply(inputs.contiguous(), initial.contiguous(), weight_ih, weight_hh,
                                    bias_ih, bias_hh);
}

}  // namespace tandem::networks
