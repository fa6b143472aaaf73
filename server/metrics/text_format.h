// The Prometheus text exposition format, version 0.0.4:
// https://prometheus.io/docs/instrumenting/exposition_formats/
//
//   # HELP gqa_requests_finished_total Requests finished, by reason.
//   # TYPE gqa_requests_finished_total counter
//   gqa_requests_finished_total{reason="stop"} 3
//
// Pure functions, no state.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "server/metrics/metric_snapshot.h"

namespace gqa::metrics {

// The Content-Type an HTTP exposer must send with RenderTextFormat's output.
inline constexpr char kTextFormatContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// A sample value or `le` bound as Prometheus (Go ParseFloat) reads it back
// exactly: integral values below 2^53 plainly ("42"), others in the shortest
// round-trip form ("0.0005", "1.5e-07"), and "+Inf", "-Inf", "NaN".
std::string FormatNumber(double value);

// Label value escaping: backslash -> \\, double quote -> \", newline -> \n.
// Invalid UTF-8 bytes become U+FFFD, since Prometheus rejects the whole
// scrape on one bad byte (a model name is input).
std::string EscapeLabelValue(std::string_view value);

// HELP text escaping: backslash -> \\, newline -> \n (quotes stay).
// Invalid UTF-8 bytes become U+FFFD.
std::string EscapeHelp(std::string_view help);

// Every family with its HELP and TYPE lines (also when it has no series yet),
// then its samples; histograms as cumulative _bucket{le="..."} series ending
// in le="+Inf", then _sum and _count. Ends with a newline.
std::string RenderTextFormat(const std::vector<FamilySnapshot>& families);

}  // namespace gqa::metrics
