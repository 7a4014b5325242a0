// Conservative Q-learning for QMIX trained on offline episodes (OVMSE eqs. 8-10; CFCQL, Shao et
// al., NeurIPS 2023). The learner adds alpha times
//   mean over the batch's steps of [ push_up(s_t) - Q_tot(s_t, a_t) ]
// to its TD loss, where a_t is the data's joint action and push_up is one of:
//   MACQL   logsumexp over M joint actions drawn uniformly (every agent any of its K actions) of
//           Q_tot(s, a_m) * avail(a_m); a sample with an unavailable action counts as 0 (CFCQL's
//           raw_cql baseline)
//   CFCQL   sum_i lambda_i logsumexp over agent i's available actions j of Q_tot(s, (j, a_-i)):
//           one agent deviates from the data at a time (counterfactual), the others keep theirs
// lambda_i = softmax over agents of tau * d_i, d_i = KL(mu_i || beta_i) with mu_i the softmax over
// i's available actions of its counterfactual Q_tot values and beta_i the behaviour policy; tau 0
// gives 1/N. Cal-QL (MACal-QL): every Q_tot inside the log-sum-exp is first raised to at least
// the step's Monte-Carlo return in its episode, so values already below the behaviour policy's
// return are not pushed further down.
#ifndef TANDEM_LEARNER_CQL_H_
#define TANDEM_LEARNER_CQL_H_

#include <ATen/core/Tensor.h>

#include <functional>

namespace tandem::learner {

// Mixes M joint actions per state row: q [R, M, N] -> Q_tot [R, M] (the rows' states are bound).
using JointActionMixer = std::function<at::Tensor(const at::Tensor& q)>;

// Mixes every single-agent deviation from one joint action per state row: all agents' values
// `agent_q` [R, N, K] and the joint action's `chosen` [R, N] -> [R, N, K], entry (r, i, j) the
// Q_tot with agent i's value replaced by agent_q[r, i, j] (QmixMixer::MixDeviations; VDN's sum).
using DeviationMixer =
    std::function<at::Tensor(const at::Tensor& agent_q, const at::Tensor& chosen)>;

// Q_tot of every single-agent deviation from the data's joint action: [R, N, K] with entry
// (r, i, j) = Q_tot(s_r, a_r with agent i's action replaced by j). `agent_q` [R, N, K] holds every
// agent's Q values, `actions` [R, N] (int64) the data's joint actions.
at::Tensor CounterfactualQtot(const at::Tensor& agent_q, const at::Tensor& actions,
                              const DeviationMixer& mix);

// CFCQL's push-up per row [R]: sum_i lambda_i logsumexp_j over agent i's available actions
// (`avail` [R, N, K] bool) of `counterfactual` [R, N, K]; `lambda` [R, N]. `floor` [R] (Cal-QL) is
// undefined, or the value every counterfactual Q_tot is raised to first.
at::Tensor CfcqlPushUp(const at::Tensor& counterfactual, const at::Tensor& avail,
                       const at::Tensor& lambda, const at::Tensor& floor);

// CFCQL's agent weights [R, N] (no gradient): softmax over agents of tau * KL(mu_i || beta_i),
// `behaviour_probs` [R, N, K] the behaviour policy. tau 0 gives uniform weights (beta unused and
// may be undefined).
at::Tensor CfcqlAgentWeights(const at::Tensor& counterfactual, const at::Tensor& avail,
                             const at::Tensor& behaviour_probs, double tau);

// `samples` joint actions per row [R, M, N] (LibTorch's default generator, seeded by the
// learner): each agent's action uniform over all K (CFCQL's raw_cql draw), or with
// `available_only` uniform over its available ones.
at::Tensor SampleJointActions(const at::Tensor& avail, int samples, bool available_only);

// MACQL's push-up per row [R]: the log-sum-exp of Q_tot over the sampled joint actions
// (SampleJointActions; an unavailable joint action counts 0, as in CFCQL's raw_cql) and the
// current greedy joint action (each agent's best available action), eq. 9's sample from the
// current policy. Under a monotonic mixer the greedy joint action is Q_tot's argmax, the term the
// log-sum-exp over the whole joint space is dominated by; random joint actions of many agents
// almost never include the data's, so without it the term pushes the data's Q_tot up without a
// counterweight and pretraining diverges (3s5z, alpha 50: Q_tot 155 after 76 updates where
// returns stay below 20). `floor` as for CfcqlPushUp (MACal-QL), applied to every sample.
at::Tensor MacqlPushUp(const at::Tensor& agent_q, const at::Tensor& avail,
                       const JointActionMixer& mix, int samples, const at::Tensor& floor,
                       bool available_only = false);

// Discounted return-to-go of every step of padded episodes: `reward` [B, T], `step_mask` [B, T]
// (1 where entry t is a step) -> [B, T], G_t = r_t + gamma G_{t+1} within each episode.
at::Tensor MonteCarloReturns(const at::Tensor& reward, const at::Tensor& step_mask, double gamma);

// mean over the rows where `mask` [R] is 1 of push_up - q_tot.
at::Tensor ConservativeTerm(const at::Tensor& push_up, const at::Tensor& q_tot,
                            const at::Tensor& mask);

}  // namespace tandem::learner

#endif  // TANDEM_LEARNER_CQL_H_
