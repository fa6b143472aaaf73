// ProgressBar: gqa-bench's progress on stderr while a run is going.
// On a terminal: one line redrawn in place ("\r"), at most every
// kRedrawSeconds; otherwise (a log file, a pipe): a plain line at every
// further 10% of the requests, so logs stay short.
//
// Thread ownership: one thread (the dispatcher, via RunStreams' ProgressFn).
#pragma once

#include <ostream>
#include <string>

namespace gqa::loadgen {

class ProgressBar {
 public:
  static constexpr double kRedrawSeconds = 0.2;

  // `label` prefixes every line (e.g. "rate 4"); `is_tty`: redraw in place.
  ProgressBar(std::ostream& out, bool is_tty, int total, std::string label = "");

  // Elapsed seconds since the run's start; the bar decides whether to draw.
  void Update(int completed, int failed, double elapsed_s);
  // Draws the final state and ends the line.
  void Finish(int completed, int failed, double elapsed_s);

  // "[=========>          ] 45/100 (2 failed) 12.3 s 3.66 req/s"; for tests.
  static std::string Line(int completed, int failed, int total, double elapsed_s, int width = 30);

 private:
  std::ostream& out_;
  const bool is_tty_;
  const int total_;
  const std::string label_;
  double last_draw_s_ = -1;
  int last_decile_ = -1;  // non-tty: the last 10% step printed
};

}  // namespace gqa::loadgen
