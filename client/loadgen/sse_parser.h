// SseParser: the `text/event-stream` (server-sent events) framing of an
// OpenAI streaming response, as the WHATWG HTML standard defines it, fed the
// response body in whatever pieces the socket delivers.
//
// Lines end at "\r\n", "\n" or "\r" (a "\r\n" split across two Feed calls is
// one line end). "data:" lines append their value (one leading space
// dropped) to the event's data, joined by "\n"; a blank line ends the event,
// which is emitted when it had data. Comments (":..."), "event:", "id:",
// "retry:" and unknown fields are ignored. Bytes after the last line end wait
// for the next Feed; an unterminated last event is never emitted (as a
// browser's EventSource).
//
// Thread ownership: one parser per stream, used by one thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gqa::loadgen {

class SseParser {
 public:
  // Appends the data of every event completed by `bytes` to `events`.
  void Feed(std::string_view bytes, std::vector<std::string>* events);

 private:
  void Line(std::string_view line, std::vector<std::string>* events);

  std::string line_;       // the current line so far
  std::string data_;       // the current event's data so far
  bool has_data_ = false;  // a data line was seen (its value may be empty)
  bool after_cr_ = false;  // the last byte seen was a '\r' ending a line
};

}  // namespace gqa::loadgen
