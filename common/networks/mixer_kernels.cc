#include "common/networks/mixer_kernels.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/autograd.h>

#include <vector>

#include "common/networks/fast_math.h"

namespace tandem::networks {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// Shapes of one call: rows (states) R, agents N, actions K (joint actions M for the joint pass),
// mixer width E.
struct Dims {
  int64_t rows, agents, actions, width;
};

// Joint actions for states [begin, end): out[r, m] = sum_e ELU(b1[r,e] + q[r,m] . w1[r,:,e])
// w2[r,e] + b2[r] (`actions` is M here). Every loop over e is a plain vectorized pass; `scratch`
// holds E floats (the hidden layer of one joint action).
TANDEM_VECTOR_CLONES
void ForwardJoint(int64_t begin, int64_t end, Dims dims, const float* __restrict q,
                  const float* __restrict w1, const float* __restrict b1,
                  const float* __restrict w2, const float* __restrict b2, float* __restrict out,
                  float* __restrict scratch) {
  const int64_t n = dims.agents, m = dims.actions, e = dims.width;
  for (int64_t r = begin; r < end; ++r) {
    const float* __restrict w1_r = w1 + r * n * e;
    const float* __restrict b1_r = b1 + r * e;
    const float* __restrict w2_r = w2 + r * e;
    for (int64_t a = 0; a < m; ++a) {
      const float* __restrict q_ra = q + (r * m + a) * n;
      for (int64_t x = 0; x < e; ++x) scratch[x] = b1_r[x];
      for (int64_t i = 0; i < n; ++i) {
        const float qi = q_ra[i];
        for (int64_t x = 0; x < e; ++x) scratch[x] += qi * w1_r[i * e + x];
      }
      float sum = 0;
#pragma omp simd reduction(+ : sum)
      for (int64_t x = 0; x < e; ++x) sum += Elu(scratch[x]) * w2_r[x];
      out[r * m + a] = sum + b2[r];
    }
  }
}

// Its backward for states [begin, end), recomputing the hidden layer: from g = dL/dout[r,m],
//   dh = g w2 ELU'(h) -> d_b1 += dh, d_w1[i] += dh q_i, d_w2 += g ELU(h), d_b2 += g,
//   d_q[r,m,i] = dh . w1[r,i]. `scratch` holds 2 E floats.
TANDEM_VECTOR_CLONES
void BackwardJoint(int64_t begin, int64_t end, Dims dims, const float* __restrict grad,
                   const float* __restrict q, const float* __restrict w1,
                   const float* __restrict b1, const float* __restrict w2, float* __restrict d_q,
                   float* __restrict d_w1, float* __restrict d_b1, float* __restrict d_w2,
                   float* __restrict d_b2, float* __restrict scratch) {
  const int64_t n = dims.agents, m = dims.actions, e = dims.width;
  float* __restrict hidden = scratch;
  float* __restrict d_hidden = scratch + e;
  for (int64_t r = begin; r < end; ++r) {
    const float* __restrict w1_r = w1 + r * n * e;
    const float* __restrict b1_r = b1 + r * e;
    const float* __restrict w2_r = w2 + r * e;
    float* __restrict d_w1_r = d_w1 + r * n * e;
    float* __restrict d_b1_r = d_b1 + r * e;
    float* __restrict d_w2_r = d_w2 + r * e;
    for (int64_t x = 0; x < n * e; ++x) d_w1_r[x] = 0;
    for (int64_t x = 0; x < e; ++x) d_b1_r[x] = d_w2_r[x] = 0;
    float d_b2_r = 0;
    for (int64_t a = 0; a < m; ++a) {
      const float* __restrict q_ra = q + (r * m + a) * n;
      float* __restrict d_q_ra = d_q + (r * m + a) * n;
      const float g = grad[r * m + a];
      if (g == 0) {
        for (int64_t i = 0; i < n; ++i) d_q_ra[i] = 0;
        continue;
      }
      for (int64_t x = 0; x < e; ++x) hidden[x] = b1_r[x];
      for (int64_t i = 0; i < n; ++i) {
        const float qi = q_ra[i];
        for (int64_t x = 0; x < e; ++x) hidden[x] += qi * w1_r[i * e + x];
      }
      for (int64_t x = 0; x < e; ++x) {
        const float h = hidden[x];
        const float act = Elu(h);
        const float dh = g * w2_r[x] * (h > 0 ? 1.0F : act + 1.0F);
        d_w2_r[x] += g * act;
        d_b1_r[x] += dh;
        d_hidden[x] = dh;
      }
      for (int64_t i = 0; i < n; ++i) {
        const float qi = q_ra[i];
        const float* __restrict w1_ri = w1_r + i * e;
        float* __restrict d_w1_ri = d_w1_r + i * e;
        float sum = 0;
#pragma omp simd reduction(+ : sum)
        for (int64_t x = 0; x < e; ++x) {
          d_w1_ri[x] += d_hidden[x] * qi;
          sum += d_hidden[x] * w1_ri[x];
        }
        d_q_ra[i] = sum;
      }
      d_b2_r += g;
    }
    d_b2[r] = d_b2_r;
  }
}

class MixJointActionsFunction : public torch::autograd::Function<MixJointActionsFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& q, const at::Tensor& w1,
                            const at::Tensor& b1, const at::Tensor& w2, const at::Tensor& b2) {
    const Dims dims{q.size(0), q.size(2), q.size(1), b1.size(1)};
    at::Tensor out = at::empty({dims.rows, dims.actions}, q.options());
    const float* qv = q.data_ptr<float>();
    const float* v1 = w1.data_ptr<float>();
    const float* c1 = b1.data_ptr<float>();
    const float* v2 = w2.data_ptr<float>();
    const float* c2 = b2.data_ptr<float>();
    float* o = out.data_ptr<float>();
    at::parallel_for(0, dims.rows, 16, [&](int64_t begin, int64_t end) {
      std::vector<float> scratch(dims.width);
      ForwardJoint(begin, end, dims, qv, v1, c1, v2, c2, o, scratch.data());
    });
    ctx->save_for_backward({q, w1, b1, w2});
    return out;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor& q = saved[0];
    const Dims dims{q.size(0), q.size(2), q.size(1), saved[2].size(1)};
    const at::Tensor grad = grad_outputs[0].contiguous();
    at::Tensor d_q = at::empty_like(q);
    at::Tensor d_w1 = at::empty_like(saved[1]);
    at::Tensor d_b1 = at::empty_like(saved[2]);
    at::Tensor d_w2 = at::empty_like(saved[3]);
    at::Tensor d_b2 = at::empty({dims.rows}, q.options());
    const float* g = grad.data_ptr<float>();
    const float* qv = q.data_ptr<float>();
    const float* v1 = saved[1].data_ptr<float>();
    const float* c1 = saved[2].data_ptr<float>();
    const float* v2 = saved[3].data_ptr<float>();
    float* dq = d_q.data_ptr<float>();
    float* dv1 = d_w1.data_ptr<float>();
    float* dc1 = d_b1.data_ptr<float>();
    float* dv2 = d_w2.data_ptr<float>();
    float* dc2 = d_b2.data_ptr<float>();
    at::parallel_for(0, dims.rows, 16, [&](int64_t begin, int64_t end) {
      std::vector<float> scratch(2 * dims.width);
      BackwardJoint(begin, end, dims, g, qv, v1, c1, v2, dq, dv1, dc1, dv2, dc2, scratch.data());
    });
    return {d_q, d_w1, d_b1, d_w2, d_b2};
  }
};

// Forward for states [begin, end): out[r, i, j] = sum_e ELU(base[r,e] + d w1[r,i,e]) w2[r,e] +
// b2[r] with d = q[r,i,j] - chosen[r,i]. The sum over e is the vectorized loop.
TANDEM_VECTOR_CLONES
void ForwardStates(int64_t begin, int64_t end, Dims dims, const float* __restrict q,
                   const float* __restrict chosen, const float* __restrict base,
                   const float* __restrict w1, const float* __restrict w2,
                   const float* __restrict b2, float* __restrict out) {
  const int64_t n = dims.agents, k = dims.actions, e = dims.width;
  for (int64_t r = begin; r < end; ++r) {
    const float* __restrict base_r = base + r * e;
    const float* __restrict w2_r = w2 + r * e;
    for (int64_t i = 0; i < n; ++i) {
      const float* __restrict w1_ri = w1 + (r * n + i) * e;
      const float c = chosen[r * n + i];
      for (int64_t j = 0; j < k; ++j) {
        const float d = q[(r * n + i) * k + j] - c;
        float sum = 0;
#pragma omp simd reduction(+ : sum)
        for (int64_t x = 0; x < e; ++x) sum += Elu(base_r[x] + d * w1_ri[x]) * w2_r[x];
        out[(r * n + i) * k + j] = sum + b2[r];
      }
    }
  }
}

// Backward for states [begin, end), recomputing the hidden layer: from g = dL/dout[r,i,j],
//   dh = g w2 ELU'(h)  ->  d_base += dh, d_w1[r,i] += dh d, d_w2 += g ELU(h), d_b2 += g,
//   d_q[r,i,j] = dh . w1[r,i], d_chosen[r,i] -= d_q[r,i,j].
// Every output is per state, so states are independent and the gradients need no reduction
// across threads.
TANDEM_VECTOR_CLONES
void BackwardStates(int64_t begin, int64_t end, Dims dims, const float* __restrict grad,
                    const float* __restrict q, const float* __restrict chosen,
                    const float* __restrict base, const float* __restrict w1,
                    const float* __restrict w2, float* __restrict d_q, float* __restrict d_chosen,
                    float* __restrict d_base, float* __restrict d_w1, float* __restrict d_w2,
                    float* __restrict d_b2) {
  const int64_t n = dims.agents, k = dims.actions, e = dims.width;
  for (int64_t r = begin; r < end; ++r) {
    const float* __restrict base_r = base + r * e;
    const float* __restrict w2_r = w2 + r * e;
    float* __restrict d_base_r = d_base + r * e;
    float* __restrict d_w2_r = d_w2 + r * e;
    for (int64_t x = 0; x < e; ++x) d_base_r[x] = d_w2_r[x] = 0;
    float d_b2_r = 0;
    for (int64_t i = 0; i < n; ++i) {
      const float* __restrict w1_ri = w1 + (r * n + i) * e;
      float* __restrict d_w1_ri = d_w1 + (r * n + i) * e;
      for (int64_t x = 0; x < e; ++x) d_w1_ri[x] = 0;
      const float c = chosen[r * n + i];
      float d_c = 0;
      for (int64_t j = 0; j < k; ++j) {
        const int64_t at = (r * n + i) * k + j;
        const float g = grad[at];
        if (g == 0) {
          d_q[at] = 0;
          continue;
        }
        const float d = q[at] - c;
        float d_d = 0;
#pragma omp simd reduction(+ : d_d)
        for (int64_t x = 0; x < e; ++x) {
          const float h = base_r[x] + d * w1_ri[x];
          const float a = Elu(h);
          const float dh = g * w2_r[x] * (h > 0 ? 1.0F : a + 1.0F);
          d_w2_r[x] += g * a;
          d_base_r[x] += dh;
          d_w1_ri[x] += dh * d;
          d_d += dh * w1_ri[x];
        }
        d_q[at] = d_d;
        d_c -= d_d;
        d_b2_r += g;
      }
      d_chosen[r * n + i] = d_c;
    }
    d_b2[r] = d_b2_r;
  }
}

class MixDeviationsFunction : public torch::autograd::Function<MixDeviationsFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& agent_q,
                            const at::Tensor& chosen, const at::Tensor& base, const at::Tensor& w1,
                            const at::Tensor& w2, const at::Tensor& b2) {
    const Dims dims{agent_q.size(0), agent_q.size(1), agent_q.size(2), base.size(1)};
    at::Tensor out = at::empty_like(agent_q);
    const float* q = agent_q.data_ptr<float>();
    const float* c = chosen.data_ptr<float>();
    const float* bs = base.data_ptr<float>();
    const float* v1 = w1.data_ptr<float>();
    const float* v2 = w2.data_ptr<float>();
    const float* bias = b2.data_ptr<float>();
    float* o = out.data_ptr<float>();
    at::parallel_for(0, dims.rows, 16, [&](int64_t begin, int64_t end) {
      ForwardStates(begin, end, dims, q, c, bs, v1, v2, bias, o);
    });
    ctx->save_for_backward({agent_q, chosen, base, w1, w2});
    return out;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor& agent_q = saved[0];
    const at::Tensor& base = saved[2];
    const Dims dims{agent_q.size(0), agent_q.size(1), agent_q.size(2), base.size(1)};
    const at::Tensor grad = grad_outputs[0].contiguous();
    at::Tensor d_q = at::empty_like(agent_q);
    at::Tensor d_chosen = at::empty_like(saved[1]);
    at::Tensor d_base = at::empty_like(base);
    at::Tensor d_w1 = at::empty_like(saved[3]);
    at::Tensor d_w2 = at::empty_like(saved[4]);
    at::Tensor d_b2 = at::empty({dims.rows}, base.options());
    const float* g = grad.data_ptr<float>();
    const float* q = agent_q.data_ptr<float>();
    const float* c = saved[1].data_ptr<float>();
    const float* bs = base.data_ptr<float>();
    const float* v1 = saved[3].data_ptr<float>();
    const float* v2 = saved[4].data_ptr<float>();
    float* dq = d_q.data_ptr<float>();
    float* dc = d_chosen.data_ptr<float>();
    float* dbs = d_base.data_ptr<float>();
    float* dv1 = d_w1.data_ptr<float>();
    float* dv2 = d_w2.data_ptr<float>();
    float* db2 = d_b2.data_ptr<float>();
    at::parallel_for(0, dims.rows, 16, [&](int64_t begin, int64_t end) {
      BackwardStates(begin, end, dims, g, q, c, bs, v1, v2, dq, dc, dbs, dv1, dv2, db2);
    });
    return {d_q, d_chosen, d_base, d_w1, d_w2, d_b2};
  }
};

}  // namespace

at::Tensor MixJointActionsReference(const at::Tensor& q, const at::Tensor& w1, const at::Tensor& b1,
                                    const at::Tensor& w2, const at::Tensor& b2) {
  const int64_t r = q.size(0), e = b1.size(1);
  const at::Tensor hidden = at::elu(at::baddbmm(b1.view({r, 1, e}), q, w1));  // [R, M, E]
  return at::baddbmm(b2.view({r, 1, 1}), hidden, w2.view({r, e, 1})).squeeze(-1);
}

at::Tensor MixJointActions(const at::Tensor& q, const at::Tensor& w1, const at::Tensor& b1,
                           const at::Tensor& w2, const at::Tensor& b2) {
  const bool fused = q.is_cpu() && q.scalar_type() == at::kFloat &&
                     w1.scalar_type() == at::kFloat && b1.scalar_type() == at::kFloat;
  if (!fused) return MixJointActionsReference(q, w1, b1, w2, b2);
  return MixJointActionsFunction::apply(q.contiguous(), w1.contiguous(), b1.contiguous(),
                                        w2.contiguous(), b2.contiguous());
}

at::Tensor MixDeviationsReference(const at::Tensor& agent_q, const at::Tensor& chosen,
                                  const at::Tensor& base, const at::Tensor& w1,
                                  const at::Tensor& w2, const at::Tensor& b2) {
  const int64_t r = agent_q.size(0), e = base.size(1);
  const at::Tensor d = (agent_q - chosen.unsqueeze(-1)).unsqueeze(-1);  // [R, N, K, 1]
  const at::Tensor hidden = at::elu(base.view({r, 1, 1, e}) + d * w1.unsqueeze(2));
  return (hidden * w2.view({r, 1, 1, e})).sum(-1) + b2.view({r, 1, 1});
}

at::Tensor MixDeviations(const at::Tensor& agent_q, const at::Tensor& chosen,
                         const at::Tensor& base, const at::Tensor& w1, const at::Tensor& w2,
                         const at::Tensor& b2) {
  const bool fused = agent_q.is_cpu() && agent_q.scalar_type() == at::kFloat &&
                     base.scalar_type() == at::kFloat && w1.scalar_type() == at::kFloat;
  if (!fused) return MixDeviationsReference(agent_q, chosen, base, w1, w2, b2);
  return MixDeviationsFunction::apply(agent_q.contiguous(), chosen.contiguous(), base.contiguous(),
                                      w1.contiguous(), w2.contiguous(), b2.contiguous());
}

}  // namespace tandem::networks
