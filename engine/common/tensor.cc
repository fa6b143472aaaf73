#include "engine/common/tensor.h"

#include "absl/strings/str_cat.h"

namespace gqa {

std::string Tensor::ShapeString() const {
  std::string s = "[";
  for (int i = 0; i < ndim; ++i) absl::StrAppend(&s, std::string(i ? ", " : ""), shape[i]);
  absl::StrAppend(&s, "] ", std::string(DTypeName(dtype)));
  return s;
}

}  // namespace gqa
