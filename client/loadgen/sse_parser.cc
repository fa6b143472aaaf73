#include "client/loadgen/sse_parser.h"

namespace gqa::loadgen {

void SseParser::Feed(std::string_view bytes, std::vector<std::string>* events) {
  for (const char c : bytes) {
    if (after_cr_ && c == '\n') {  // the '\n' of a "\r\n" already ended the line
      after_cr_ = false;
      continue;
    }
    after_cr_ = c == '\r';
    if (c == '\r' || c == '\n') {
      Line(line_, events);
      line_.clear();
    } else {
      line_.push_back(c);
    }
  }
}

void SseParser::Line(std::string_view line, std::vector<std::string>* events) {
  if (line.empty()) {  // dispatch
    if (has_data_) events->push_back(std::move(data_));
    data_.clear();
    has_data_ = false;
    return;
  }
  if (line.front() == ':') return;  // a comment
  const size_t colon = line.find(':');
  const std::string_view field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field != "data") return;  // event, id, retry: nothing a benchmark needs
  if (has_data_) data_.push_back('\n');
  data_.append(value);
  has_data_ = true;
}

}  // namespace gqa::loadgen
