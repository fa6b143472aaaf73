#include "client/loadgen/progress_bar.h"

#include <algorithm>

#include "absl/strings/str_format.h"

namespace gqa::loadgen {

ProgressBar::ProgressBar(std::ostream& out, bool is_tty, int total, std::string label)
    : out_(out), is_tty_(is_tty), total_(total), label_(std::move(label)) {}

std::string ProgressBar::Line(int completed, int failed, int total, double elapsed_s, int width) {
  const int done = completed + failed;
  const int filled = total > 0 ? std::min(width, done * width / total) : width;
  std::string bar(static_cast<size_t>(filled), '=');
  if (filled < width) bar += '>';
  bar.resize(static_cast<size_t>(width), ' ');
  std::string line = absl::StrFormat("[%s] %d/%d", bar, done, total);
  if (failed > 0) line += absl::StrFormat(" (%d failed)", failed);
  line += absl::StrFormat(" %.1f s", elapsed_s);
  if (elapsed_s > 0) line += absl::StrFormat(" %.2f req/s", done / elapsed_s);
  return line;
}

void ProgressBar::Update(int completed, int failed, double elapsed_s) {
  const std::string prefix = label_.empty() ? "" : label_ + " ";
  if (is_tty_) {
    if (last_draw_s_ >= 0 && elapsed_s - last_draw_s_ < kRedrawSeconds) return;
    last_draw_s_ = elapsed_s;
    // "\033[K" clears what a longer previous line left behind.
    out_ << "\r" << prefix << Line(completed, failed, total_, elapsed_s) << "\033[K" << std::flush;
    return;
  }
  const int done = completed + failed;
  const int decile = total_ > 0 ? done * 10 / total_ : 10;
  if (decile <= last_decile_) return;
  last_decile_ = decile;
  out_ << prefix << Line(completed, failed, total_, elapsed_s) << "\n" << std::flush;
}

void ProgressBar::Finish(int completed, int failed, double elapsed_s) {
  last_draw_s_ = -1;  // force the final redraw
  Update(completed, failed, elapsed_s);
  if (is_tty_) out_ << "\n" << std::flush;
}

}  // namespace gqa::loadgen
