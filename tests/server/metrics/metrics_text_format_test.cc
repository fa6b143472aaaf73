#include <cmath>
#include <limits>
#include <string>

#include "gtest/gtest.h"
#include "server/metrics/text_format.h"

namespace gqa::metrics {
namespace {

TEST(FormatNumberTest, IntegersArePlain) {
  EXPECT_EQ(FormatNumber(0), "0");
  EXPECT_EQ(FormatNumber(-0.0), "0");
  EXPECT_EQ(FormatNumber(42), "42");
  EXPECT_EQ(FormatNumber(-7), "-7");
  EXPECT_EQ(FormatNumber(32768), "32768");
  EXPECT_EQ(FormatNumber(1e6), "1000000");
  EXPECT_EQ(FormatNumber(9007199254740991.0), "9007199254740991");  // 2^53 - 1
}

TEST(FormatNumberTest, FloatsRoundTripInShortestForm) {
  EXPECT_EQ(FormatNumber(0.0005), "0.0005");
  EXPECT_EQ(FormatNumber(2.5), "2.5");
  EXPECT_EQ(FormatNumber(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(FormatNumber(1.5e-7), "1.5e-07");
  EXPECT_EQ(FormatNumber(1e300), "1e+300");
  const double third = 1.0 / 3.0;
  EXPECT_EQ(std::stod(FormatNumber(third)), third);
}

TEST(FormatNumberTest, SpecialValuesUsePrometheusSpelling) {
  EXPECT_EQ(FormatNumber(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatNumber(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatNumber(std::nan("")), "NaN");
}

TEST(EscapeTest, LabelValueEscapesBackslashQuoteNewline) {
  EXPECT_EQ(EscapeLabelValue("plain"), "plain");
  EXPECT_EQ(EscapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(EscapeLabelValue("tab\tstays"), "tab\tstays");
  EXPECT_EQ(EscapeLabelValue("caf\xC3\xA9 \xE2\x82\xAC"), "caf\xC3\xA9 \xE2\x82\xAC");
}

TEST(EscapeTest, HelpKeepsQuotes) {
  EXPECT_EQ(EscapeHelp("say \"hi\"\\\nnext"), "say \"hi\"\\\\\\nnext");
}

TEST(EscapeTest, InvalidUtf8BecomesReplacementCharacter) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(EscapeLabelValue("a\xFF"
                             "b"),
            "a" + fffd + "b");
  EXPECT_EQ(EscapeLabelValue("\xC3"), fffd);                            // truncated
  EXPECT_EQ(EscapeLabelValue("\xC0\xAF"), fffd + fffd);                 // overlong '/'
  EXPECT_EQ(EscapeLabelValue("\xED\xA0\x80"), fffd + fffd + fffd);      // surrogate
  EXPECT_EQ(EscapeLabelValue("\xF0\x9F\x98\x80"), "\xF0\x9F\x98\x80");  // U+1F600
}

TEST(RenderTextFormatTest, RendersAllTypes) {
  FamilySnapshot counter{"c_total", "A counter.", MetricType::kCounter, {}};
  counter.series.push_back({{{"code", "A\"B"}}, 3, {}});
  FamilySnapshot gauge{"g", "Line one\nline two.", MetricType::kGauge, {}};
  gauge.series.push_back({{}, 0.25, {}});
  FamilySnapshot empty{"e", "No series yet.", MetricType::kGauge, {}};
  FamilySnapshot hist{"h_seconds", "A histogram.", MetricType::kHistogram, {}};
  SeriesSnapshot h;
  h.labels = {{"kind", "x"}};
  h.histogram = {{0.5, 1}, {1, 3, 4}, 3.75, 4};
  hist.series.push_back(h);

  EXPECT_EQ(RenderTextFormat({counter, gauge, empty, hist}),
            "# HELP c_total A counter.\n"
            "# TYPE c_total counter\n"
            "c_total{code=\"A\\\"B\"} 3\n"
            "# HELP g Line one\\nline two.\n"
            "# TYPE g gauge\n"
            "g 0.25\n"
            "# HELP e No series yet.\n"
            "# TYPE e gauge\n"
            "# HELP h_seconds A histogram.\n"
            "# TYPE h_seconds histogram\n"
            "h_seconds_bucket{kind=\"x\",le=\"0.5\"} 1\n"
            "h_seconds_bucket{kind=\"x\",le=\"1\"} 3\n"
            "h_seconds_bucket{kind=\"x\",le=\"+Inf\"} 4\n"
            "h_seconds_sum{kind=\"x\"} 3.75\n"
            "h_seconds_count{kind=\"x\"} 4\n");
}

TEST(RenderTextFormatTest, EmptyRegistryRendersNothing) { EXPECT_EQ(RenderTextFormat({}), ""); }

}  // namespace
}  // namespace gqa::metrics
