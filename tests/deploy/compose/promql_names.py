"""Metric names referenced by a PromQL expression, and metric families of a scrape.

Used by check_dashboard.py to prove that every series a dashboard panel or a
rule asks for is one gqa-server really exports. Prometheus 2.42 (Debian 12)
has no parse API (/api/v1/parse_query came later), so this is a small lexer:
strings, label matchers, grouping clauses and durations are removed first, then
every remaining identifier that is not a keyword and not followed by "(" (a
function or aggregation) is a metric name.
"""
import re

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^}]*\}")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)",
                       re.IGNORECASE)
_BRACKETS = re.compile(r"\[[^\]]*\]")
_IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and",
             "or", "unless", "offset", "inf", "nan", "atan2"}
_HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
_TYPE_LINE = re.compile(r"^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)\s*$")


def metric_names(expr):
    """The set of metric names `expr` selects (e.g. {"up", "gqa_x_bucket"})."""
    s = _STRING.sub('""', expr)
    s = _MATCHERS.sub(" ", s)
    s = _GROUPING.sub(" ", s)
    s = _BRACKETS.sub(" ", s)
    names = set()
    for m in _IDENT.finditer(s):
        start = m.start()
        if start > 0 and (s[start - 1].isdigit() or s[start - 1] == "."):
            continue  # the exponent of 1e3, the x of 0x1f, the unit of a duration
        if s[m.end():].lstrip().startswith("("):
            continue  # a function or an aggregation operator
        if m.group(0).lower() in _KEYWORDS:
            continue
        names.add(m.group(0))
    return names


def scrape_families(text):
    """{family name: type} from the `# TYPE` lines of a text-format scrape."""
    families = {}
    for line in text.splitlines():
        m = _TYPE_LINE.match(line)
        if m:
            families[m.group(1)] = m.group(2)
    return families


def family_of(name, families):
    """The exported family that serves series `name`, or None.

    A histogram family F serves F_bucket, F_sum and F_count; a summary F_sum
    and F_count; every other family only its own name.
    """
    if name in families:
        return name
    for suffix in _HISTOGRAM_SUFFIXES:
        base = name[:-len(suffix)]
        if name.endswith(suffix) and families.get(base) == "histogram":
            return base
        if name.endswith(suffix) and suffix != "_bucket" and families.get(base) == "summary":
            return base
    return None


def self_test():
    """The lexer on the shapes the dashboard and the rules use."""
    cases = {
        'histogram_quantile(0.99, sum by (le) (rate(a_seconds_bucket{job=~"$j", le!="1"}[5m])))':
            {"a_seconds_bucket"},
        "sum(rate(x_sum[1m])) / sum(rate(x_count[1m]))": {"x_sum", "x_count"},
        'min_over_time(w[10m]) > 0 and deriv(w[10m]) > 0': {"w"},
        'up{job="gqa-server"} == 0': {"up"},
        'a * on (instance) group_left (model) b offset 5m': {"a", "b"},
        'sum without (code) (rate(c_total{code="RESOURCE_EXHAUSTED"}[1m])) > 1e3': {"c_total"},
        'job:gqa_x:rate1m{code="a{b}"} > bool 0.5': {"job:gqa_x:rate1m"},
        'label_replace(m, "dst", "$1", "src", "(.*)")': {"m"},
        "sum by (le) (rate(h_bucket[1m:10s]))": {"h_bucket"},
    }
    for expr, want in cases.items():
        got = metric_names(expr)
        assert got == want, f"metric_names({expr!r}) = {got}, want {want}"
    fams = {"h": "histogram", "c_total": "counter", "s": "summary"}
    assert family_of("h_bucket", fams) == "h"
    assert family_of("h_count", fams) == "h"
    assert family_of("s_sum", fams) == "s"
    assert family_of("s_bucket", fams) is None
    assert family_of("c_total", fams) == "c_total"
    assert family_of("c", fams) is None
    assert scrape_families("# HELP a x\n# TYPE a gauge\na 1\n# TYPE b_total counter\n") == {
        "a": "gauge", "b_total": "counter"}
