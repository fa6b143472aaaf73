// Early-return helpers for absl::Status / absl::StatusOr.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define GQA_CONCAT_INNER_(a, b) a##b
#define GQA_CONCAT_(a, b) GQA_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function when `expr` is not OK.
#define GQA_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::absl::Status gqa_status_ = (expr);       \
    if (!gqa_status_.ok()) return gqa_status_; \
  } while (0)

// `lhs` = the value of a StatusOr `rexpr`, or returns its error.
#define GQA_ASSIGN_OR_RETURN(lhs, rexpr) \
  GQA_ASSIGN_OR_RETURN_IMPL_(GQA_CONCAT_(gqa_statusor_, __LINE__), lhs, rexpr)
#define GQA_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                               \
  if (!tmp.ok()) return std::move(tmp).status();    \
  lhs = std::move(tmp).value()
