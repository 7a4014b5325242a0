// Macros for propagating `absl::Status` errors.
//
//   RETURN_IF_ERROR(WriteHeader(file));
//   ASSIGN_OR_RETURN(std::unique_ptr<Table> table, Table::Create(spec));
//   ASSIGN_OR_RETURN(auto batch, ParseBatch(msg), _.WithPrefix("batch 3: "));
#ifndef TANDEM_COMMON_STATUS_MACROS_H_
#define TANDEM_COMMON_STATUS_MACROS_H_

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace tandem::internal {

// Lets the optional third argument of ASSIGN_OR_RETURN edit the error before it is returned.
class StatusBuilder {
 public:
  explicit StatusBuilder(absl::Status status) : status_(std::move(status)) {}
  // Prepends `prefix` to the message, keeping the code.
  StatusBuilder& WithPrefix(absl::string_view prefix) {
    status_ = absl::Status(status_.code(), absl::StrCat(prefix, status_.message()));
    return *this;
  }
  operator absl::Status() const { return status_; }  // NOLINT: implicit by design.
  template <typename T>
  operator absl::StatusOr<T>() const {  // NOLINT: implicit by design.
    return status_;
  }

 private:
  absl::Status status_;
};

}  // namespace tandem::internal

#define TANDEM_STATUS_CONCAT_INNER_(a, b) a##b
#define TANDEM_STATUS_CONCAT_(a, b) TANDEM_STATUS_CONCAT_INNER_(a, b)

// Evaluates `expr` (an absl::Status) and returns it from the enclosing function if it is not OK.
#define RETURN_IF_ERROR(expr)                                            \
  do {                                                                   \
    ::absl::Status tandem_status_ = (expr);                              \
    if (ABSL_PREDICT_FALSE(!tandem_status_.ok())) return tandem_status_; \
  } while (0)

#define TANDEM_ASSIGN_OR_RETURN_2_(lhs, rexpr) \
  TANDEM_ASSIGN_OR_RETURN_IMPL_(TANDEM_STATUS_CONCAT_(tandem_statusor_, __LINE__), lhs, rexpr, _)
#define TANDEM_ASSIGN_OR_RETURN_3_(lhs, rexpr, error_expr)                                     \
  TANDEM_ASSIGN_OR_RETURN_IMPL_(TANDEM_STATUS_CONCAT_(tandem_statusor_, __LINE__), lhs, rexpr, \
                                error_expr)
#define TANDEM_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr, error_expr) \
  auto statusor = (rexpr);                                              \
  if (ABSL_PREDICT_FALSE(!statusor.ok())) {                             \
    ::tandem::internal::StatusBuilder _(std::move(statusor).status());  \
    (void)_;                                                            \
    return ::absl::Status(error_expr);                                  \
  }                                                                     \
  lhs = std::move(statusor).value()
#define TANDEM_GET_4TH_ARG_(a1, a2, a3, a4, ...) a4

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status (optionally edited by a
// third argument that may use the builder `_`), otherwise moves the value into `lhs`.
// `lhs` may declare a variable; wrap types containing commas in parentheses-free aliases.
#define ASSIGN_OR_RETURN(...)                                                                      \
  TANDEM_GET_4TH_ARG_(__VA_ARGS__, TANDEM_ASSIGN_OR_RETURN_3_, TANDEM_ASSIGN_OR_RETURN_2_, unused) \
  (__VA_ARGS__)

#endif  // TANDEM_COMMON_STATUS_MACROS_H_
