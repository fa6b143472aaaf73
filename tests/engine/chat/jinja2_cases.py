"""The cases of compare_with_jinja2.py, and the comparison (runs in the venv)."""
import json
import os
import subprocess
from datetime import datetime

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

HARD = ('He said "hi" & \'bye\'\n\nline two\ttab {{ not_a_var }} {% if x %} {# c #} '
        'caf\u00e9 \u4e2d\u6587 \U0001F600 \\n backslash </s> <|im_end|>')

CONVERSATIONS = {
    "single": [{"role": "user", "content": "Hello!"}],
    "system_single": [{"role": "system", "content": "You are a helpful assistant."},
                      {"role": "user", "content": "What is the capital of France?"}],
    "multi": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello! How can I help?"},
              {"role": "user", "content": "Tell me a joke."}],
    "system_multi": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"},
                     {"role": "assistant", "content": "4"}, {"role": "user", "content": "3+3?"},
                     {"role": "assistant", "content": "6"}, {"role": "user", "content": "And 4+4?"}],
    "hard_content": [{"role": "system", "content": HARD}, {"role": "user", "content": HARD},
                     {"role": "assistant", "content": HARD}, {"role": "user", "content": HARD}],
    "whitespace": [{"role": "user", "content": "  padded question \n\n"},
                   {"role": "assistant", "content": "\n answer with spaces  "},
                   {"role": "user", "content": "\t"}],
    "assistant_last": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}],
    "empty_content": [{"role": "user", "content": ""}],
    "think": [{"role": "user", "content": "Solve it"},
              {"role": "assistant", "content": "<think>\nreasoning here\n</think>\n\nThe answer is 42."},
              {"role": "user", "content": "Why?"},
              {"role": "assistant", "content": "<think>more</think>Because."}],
    "not_alternating": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}],
    "system_only": [{"role": "system", "content": "sys"}],
}

TOKENS = {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}

WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather for a city, in \u00b0C",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
                   "required": ["city"]}}}
TOOL_MESSAGES = [
    {"role": "system", "content": "You can call tools."},
    {"role": "user", "content": "Weather in Paris?"},
    {"role": "assistant", "content": "",
     "tool_calls": [{"type": "function", "function": {"name": "get_weather",
                                                       "arguments": {"city": "Paris", "days": 2}}}]},
    {"role": "tool", "content": "{\"temp\": 21.5}"},
    {"role": "tool", "content": "second result"},
    {"role": "assistant", "content": "It is 21.5 \u00b0C.",
     "tool_calls": [{"function": {"name": "get_weather", "arguments": "{\"city\": \"Lyon\"}"}}]},
    {"role": "user", "content": "<tool_response>x</tool_response>"},
]
GEMMA_LIST = [{"role": "system", "content": [{"type": "text", "text": " list system "}]},
              {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": " describe \n"}]},
              {"role": "assistant", "content": [{"type": "text", "text": "A cat."}]},
              {"role": "user", "content": [{"type": "text", "text": "More"}]}]

# Data for the synthetic templates.
DATA = {
    "n": 3, "neg": -7, "f": 2.5, "big": 1e16, "small": 0.0001, "tiny": 1.5e-05, "third": 1 / 3,
    "s": "  Hello World  ", "csv": "a,b,,c", "uni": "caf\u00e9 \u00df \u4e2d\u6587 \U0001F600",
    "items": [3, 1, 2], "words": ["banana", "Apple", "cherry", "apple"],
    "d": {"b": 1, "a": 2, "c": None},
    "users": [{"name": "Ann", "age": 30, "admin": True, "tags": ["x"]},
              {"name": "bob", "age": 25, "admin": False},
              {"name": "Cy", "age": 41, "admin": True, "tags": []}],
    "nothing": None, "yes": True, "no": False, "empty": [], "emptys": "", "nested": {"a": {"b": [10, 20]}},
    "mixed": [1, "two", 3.0, None, True, {"k": "v"}, [1, 2]],
}

SYNTHETIC = {
    # Whitespace control, trim_blocks, lstrip_blocks.
    "ws_trim_lstrip": "A\n  {% if true %}\n    B\n  {% endif %}\nC\n{# comment #}\nD  {% if true %}x{% endif %}  E\n",
    "ws_dash": "A  \n  {%- if true -%}  \n B \n {%- endif %}  C {{- ' D ' -}}  E\n\t{{ 'F' }}",
    "ws_plus": "A\n  {%+ if true +%}\nB\n  {% endif +%}\nC",
    "ws_var_no_lstrip": "X\n    {{ 'v' }}\n    {% set a = 1 %}\nY",
    "ws_comment_dash": "a  {#- c -#}  b\n  {# c2 #}\nc",
    "ws_crlf": "line1\r\n{% if true %}\r\nline2\r\n{% endif %}\r\n",
    "ws_trailing_newline": "text\n",
    "ws_raw": "{% raw %}{{ not rendered }} {% if %}{% endraw %}\n  {% raw -%}  x  {%- endraw %}|",
    # Literals and printing.
    "lit_print": "{{ 1 }}|{{ -2 }}|{{ 1.0 }}|{{ 2.50 }}|{{ 1e3 }}|{{ 1_000 }}|{{ 0x1f }}|{{ true }}|{{ False }}|"
                 "{{ none }}|{{ None }}|{{ 'a\\'b\\n' }}|{{ \"q\\\"\" }}|{{ 'x' 'y' }}|{{ [1, 'a', none, true, 2.0] }}|"
                 "{{ {'k': 'v', 'n': [1]} }}|{{ (1, 2) }}|{{ (1,) }}|{{ () }}|{{ [] }}|{{ {} }}|{{ '\\u00e9\\x41\\t' }}",
    "lit_floats": "{{ big }}|{{ small }}|{{ tiny }}|{{ third }}|{{ f * 2 }}|{{ 10 / 4 }}|{{ 10 / 5 }}|{{ 0.1 + 0.2 }}|"
                  "{{ 1e22 }}|{{ -0.0 }}|{{ 123456789.0 * 10 }}|{{ 2 ** 0.5 }}",
    "lit_repr": "{{ words }}|{{ d }}|{{ mixed }}|{{ [\"it's\", 'say \"x\"', 'both \\' \"'] }}|{{ uni }}|{{ [uni] }}|{{ nested }}",
    # Arithmetic and operators.
    "ops_arith": "{{ 7 // 2 }}|{{ -7 // 2 }}|{{ 7 % 3 }}|{{ -7 % 3 }}|{{ 7.5 // 2 }}|{{ -7.5 % 2 }}|{{ 2 ** 10 }}|"
                 "{{ 2 ** -1 }}|{{ n * 'ab' }}|{{ [1] * 2 }}|{{ items + [4] }}|{{ 'a' ~ 1 ~ none ~ true }}|"
                 "{{ -n }}|{{ +f }}|{{ 1 + 2 * 3 - 4 / 2 }}|{{ (1 + 2) * 3 }}|{{ n - 1.5 }}|{{ true + 1 }}",
    "ops_compare": "{{ 1 < 2 < 3 }}|{{ 3 > 2 > 2 }}|{{ 1 == 1.0 }}|{{ 'a' < 'b' }}|{{ [1, 2] < [1, 3] }}|"
                   "{{ 'b' in 'abc' }}|{{ 2 in items }}|{{ 'a' in d }}|{{ 'z' not in d }}|{{ 5 not in items }}|"
                   "{{ none == none }}|{{ 1 != 2 }}|{{ 2 >= 2 }}|{{ 3 <= 2 }}|{{ undefined_var == none }}|{{ 'x' in undefined_var }}",
    "ops_logic": "{{ 1 and 'x' }}|{{ 0 and 'x' }}|{{ '' or 'y' }}|{{ 'a' or 'b' }}|{{ not 0 }}|{{ not items }}|"
                 "{{ not empty and yes }}|{{ none or [] }}|{{ 'yes' if yes else 'no' }}|{{ 'yes' if no else 'no' }}|"
                 "{{ 'only' if no }}|{{ 'a' if 0 else 'b' if 1 else 'c' }}",
    # Attributes, subscripts, slices.
    "access": "{{ users[0].name }}|{{ users[1]['age'] }}|{{ users[-1].name }}|{{ nested.a.b[1] }}|{{ nested['a']['b'][0] }}|"
              "{{ users[5] }}|{{ d.missing }}|{{ users.0.name }}|{{ s[2] }}|{{ uni[-1] }}|{{ d['c'] }}|{{ (users[0].tags or ['none'])[0] }}",
    "slices": "{{ items[::-1] }}|{{ items[1:] }}|{{ items[:-1] }}|{{ items[::2] }}|{{ s[2:7] }}|{{ uni[::-1] }}|"
              "{{ items[5:] }}|{{ items[-100:100] }}|{{ s[::-3] }}|{{ words[1:3] }}|{{ 'abcdef'[4:1:-1] }}|{{ items[:] }}",
    # Statements.
    "for_loop": "{% for x in items %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/"
                "{{ loop.length }}/{{ loop.first }}/{{ loop.last }}/{{ loop.previtem }}/{{ loop.nextitem }}={{ x }};{% endfor %}",
    "for_else_filter": "{% for x in empty %}{{ x }}{% else %}none{% endfor %}|"
                       "{% for u in users if u.admin %}{{ loop.index }}:{{ u.name }}{{ ',' if not loop.last }}{% endfor %}|"
                       "{% for k, v in d.items() %}{{ k }}={{ v }} {% endfor %}|{% for k in d %}{{ k }}{% endfor %}|"
                       "{% for c in 'h\u00e9!' %}[{{ c }}]{% endfor %}|{% for a, b in [(1, 2), [3, 4]] %}{{ a + b }}{% endfor %}|"
                       "{% for x in items|sort %}{{ x }}{% endfor %}|{% for i in range(3) %}{{ i }}{% endfor %}|"
                       "{% for i in range(1, 10, 3) %}{{ i }}{% endfor %}|{% for i in range(5, 0, -2) %}{{ i }}{% endfor %}",
    "for_nested_loop": "{% for a in [1, 2] %}{% for b in 'xy' %}{{ loop.index }}{{ b }}{% endfor %}{{ loop.index }}{{ a }};{% endfor %}"
                       "{% for x in items %}{{ loop.cycle('odd', 'even') }}{% endfor %}",
    "for_break_continue": "{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x > 5 %}{% break %}{% endif %}{{ x }}{% endfor %}",
    "if_elif": "{% for v in [0, 1, 2, 3] %}{% if v == 0 %}zero{% elif v == 1 %}one{% elif v == 2 %}two{% else %}many{% endif %} {% endfor %}",
    "set_scope": "{% set a = 1 %}{% for x in items %}{% set a = x %}{{ a }}{% endfor %}|{{ a }}|"
                 "{% if true %}{% set b = 'in-if' %}{% endif %}{{ b }}|{% set p, q = 1, 2 %}{{ p }}{{ q }}|{% set t = 1, 2 %}{{ t }}",
    "set_namespace": "{% set ns = namespace(count=0, found=false, last=none) %}{% for u in users %}{% if u.admin %}"
                     "{% set ns.count = ns.count + 1 %}{% set ns.last = u.name %}{% endif %}{% endfor %}"
                     "{{ ns.count }}|{{ ns.last }}|{{ ns.found }}|{{ ns.missing is defined }}",
    "set_block": "{% set block %}  inner {{ n }}  {% endset %}[{{ block }}]{% set up | upper | trim %}  shout {% endset %}[{{ up }}]",
    "macro_call": "{% macro greet(name, punct='!') %}Hello {{ name }}{{ punct }}{% endmacro %}"
                  "{{ greet('Ann') }}|{{ greet('Bob', '?') }}|{{ greet(punct='.', name='Cy') }}|"
                  "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}"
                  "{% call wrap('b') %}bold {{ n }}{% endcall %}|"
                  "{% macro rec(k) %}{% if k > 0 %}{{ k }}{{ rec(k - 1) }}{% endif %}{% endmacro %}{{ rec(4) }}",
    "filter_block": "{% filter upper %}abc {{ s }}{% endfilter %}|{% filter trim %}   x   {% endfilter %}|"
                    "{% filter replace('a', 'o') | upper %}banana{% endfilter %}",
    # Filters.
    "filters_str": "{{ s|trim }}|{{ s|trim('  H') }}|{{ s|upper }}|{{ s|lower }}|{{ 'hELLO wORLD'|capitalize }}|"
                   "{{ 'hello big-world (x)'|title }}|{{ s|length }}|{{ uni|length }}|{{ uni|upper }}|{{ 'ABC'|lower }}|"
                   "{{ csv|replace(',', ';') }}|{{ csv|replace(',', '', 2) }}|{{ 'ab'|replace('', '-') }}|{{ s|string }}|"
                   "{{ 'x'|safe }}|{{ '<a href=\"x\">&</a>'|e }}|{{ 'hello world foo'|wordcount }}|{{ uni|reverse }}",
    "filters_list": "{{ items|first }}|{{ items|last }}|{{ items|length }}|{{ items|count }}|{{ items|sort }}|"
                    "{{ items|sort(reverse=true) }}|{{ words|sort }}|{{ words|sort(case_sensitive=true) }}|"
                    "{{ words|unique|list }}|{{ words|unique(case_sensitive=true)|list }}|{{ items|reverse|list }}|"
                    "{{ items|join(', ') }}|{{ items|join }}|{{ users|map(attribute='name')|join('/') }}|"
                    "{{ users|selectattr('admin')|map(attribute='name')|list }}|{{ users|rejectattr('admin')|map(attribute='name')|list }}|"
                    "{{ users|selectattr('age', 'gt', 26)|map(attribute='age')|list }}|{{ users|selectattr('name', 'equalto', 'bob')|list|length }}|"
                    "{{ items|select('odd')|list }}|{{ items|reject('odd')|list }}|{{ words|map('upper')|list }}|"
                    "{{ users|sort(attribute='age')|map(attribute='name')|join }}|{{ items|min }}|{{ items|max }}|{{ items|sum }}|"
                    "{{ users|sum(attribute='age') }}|{{ users|map(attribute='tags.0', default='-')|list }}|{{ 'abc'|list }}|"
                    "{{ empty|first }}|{{ users|join(',', attribute='name') }}|{{ d|dictsort }}|{{ items|map('string')|join('+') }}",
    "filters_dict": "{{ d|items|list }}|{% for k, v in d|items %}{{ k }}{{ v }}{% endfor %}|{{ d|length }}|{{ d|list }}|"
                    "{{ d.keys()|list }}|{{ d.values()|list }}|{{ d.get('a') }}|{{ d.get('zz', 'dflt') }}|{{ d.get('zz') }}|"
                    "{{ dict(x=1, y='2') }}|{{ undefined_var|items|list }}",
    "filters_num": "{{ -3|abs }}|{{ neg|abs }}|{{ f|round }}|{{ 3.14159|round(2) }}|{{ 2.5|round }}|{{ 3.5|round }}|"
                   "{{ 2.675|round(2) }}|{{ 3.7|round(0, 'floor') }}|{{ 3.2|round(1, 'ceil') }}|{{ 7|round }}|"
                   "{{ '42'|int }}|{{ ' 7 '|int }}|{{ '3.9'|int }}|{{ 'x'|int }}|{{ 'x'|int(5) }}|{{ 3.9|int }}|{{ none|int }}|"
                   "{{ '2.5'|float }}|{{ 'x'|float }}|{{ 3|float }}|{{ true|int }}|{{ '1_000'|int }}|{{ '1e3'|float }}",
    "filters_default": "{{ missing|default('d') }}|{{ missing|d('d2') }}|{{ none|default('d3') }}|{{ ''|default('d4', true) }}|"
                       "{{ 0|default('d5', boolean=true) }}|{{ 'set'|default('no') }}|{{ missing|default }}|[{{ missing }}]|"
                       "{{ missing|length }}|{{ missing|trim }}|{{ missing|join(',') }}|{{ missing|list }}",
    "filters_tojson": "{{ d|tojson }}|{{ users|tojson }}|{{ uni|tojson }}|{{ mixed|tojson }}|{{ nested|tojson(indent=2) }}|"
                      "{{ users[0]|tojson(indent=4) }}|{{ 'q\"\\\\\\n\\t\\x01\\x7f'|tojson }}|{{ f|tojson }}|{{ big|tojson }}|"
                      "{{ none|tojson }}|{{ empty|tojson(indent=2) }}|{{ d|tojson(sort_keys=true) }}|{{ uni|tojson(ensure_ascii=true) }}|"
                      "{{ (1, 'a')|tojson }}|{{ d|tojson(separators=(',', ':')) }}|{{ {}|tojson(indent=2) }}",
    "filters_indent": "{{ 'a\\nb\\n\\nc'|indent }}|{{ 'a\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent(3, blank=true) }}|"
                      "{{ 'x\\ny'|indent('> ') }}|{{ ''|indent }}",
    # Tests.
    "tests": "{% for v in [missing, none, true, false, 0, 1.5, 'str', [1], {'a': 1}, (1,)] %}"
             "{{ v is defined }}{{ v is undefined }}{{ v is none }}{{ v is boolean }}{{ v is true }}{{ v is false }}"
             "{{ v is number }}{{ v is integer }}{{ v is float }}{{ v is string }}{{ v is mapping }}{{ v is iterable }}"
             "{{ v is sequence }};{% endfor %}|{{ 4 is even }}{{ 3 is odd }}{{ 9 is divisibleby 3 }}{{ 9 is divisibleby(2) }}"
             "{{ 'a' is eq 'a' }}{{ 1 is equalto 1 }}{{ 1 is ne 2 }}{{ 2 is gt 1 }}{{ 2 is lt 1 }}{{ 1 is ge 1 }}{{ 1 is le 0 }}"
             "{{ 2 is in items }}{{ 'abc' is lower }}{{ 'ABC' is upper }}{{ 'aB' is lower }}{{ range is callable }}"
             "{{ none is sameas none }}{{ missing is not defined }}{{ not missing is defined }}{{ d.zz is defined }}"
             "{{ users[0].tags is defined }}{{ users[1].tags is defined }}",
    "methods_str": "{{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip() }}|{{ 'xxaxx'.strip('x') }}|{{ '\\n\\na\\n'.lstrip('\\n') }}|"
                   "{{ s.startswith('  H') }}|{{ s.endswith(('x', '  ')) }}|{{ csv.split(',') }}|{{ ' a  b '.split() }}|"
                   "{{ csv.split(',', 1) }}|{{ csv.rsplit(',', 1) }}|{{ s.replace('l', 'L') }}|{{ s.replace('l', 'L', 1) }}|"
                   "{{ s.upper() }}|{{ s.lower() }}|{{ 'hello wORLD-x'.title() }}|{{ 'hELLO'.capitalize() }}|"
                   "{{ '{} and {}'.format(1, 'b') }}|{{ '{0}{0}{name}'.format('r', name='n') }}|{{ ', '.join(words) }}|"
                   "{{ s.find('World') }}|{{ s.count('l') }}|{{ '123'.isdigit() }}|{{ 'a</think>b'.split('</think>')[-1] }}|"
                   "{{ uni.upper() }}|{{ uni.split(' ') }}",
    "raise_exception": "{% if messages|length > 1 %}{{ raise_exception('Only one message, got ' ~ messages|length) }}{% endif %}ok",
    "strftime": "{{ strftime_now('%Y-%m') }}",
    "undefined_error": "{{ missing.attr }}",
    "type_error": "{{ 'a' + 1 }}",
    "messages_loop": "{% for m in messages %}{{ m.role|upper }}: {{ m['content'] }}\n{% endfor %}"
                     "{% if add_generation_prompt %}ASSISTANT:{% endif %}{{ bos_token }}{{ eos_token }}{{ tools }}{{ documents }}",
}


def env():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return datetime.now().strftime(format)

    e = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    e.filters["tojson"] = tojson
    e.globals["raise_exception"] = raise_exception
    e.globals["strftime_now"] = strftime_now
    return e


def reference(source, case):
    try:
        tmpl = env().from_string(source)
    except jinja2.exceptions.TemplateSyntaxError as ex:
        return {"parse_error": str(ex)}
    ctx = {"messages": case["messages"], "tools": None, "documents": None,
           "add_generation_prompt": case["add_generation_prompt"], "bos_token": case.get("bos_token", ""),
           "eos_token": case.get("eos_token", "")}
    ctx.update(case.get("extra", {}))
    try:
        return {"text": tmpl.render(**ctx)}
    except jinja2.exceptions.TemplateError as ex:
        return {"error": str(ex), "raised": type(ex) is jinja2.exceptions.TemplateError}
    except Exception as ex:  # TypeError and friends from Python operations
        return {"error": str(ex), "raised": False}


def smollm2_template():
    path = os.environ.get("GQA_DEFAULT_MODEL_GGUF") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "gqa-serve",
        "SmolLM2-135M-Instruct.Q4_1.gguf")
    if not os.path.exists(path):
        print(f"note: {path} absent: SmolLM2's template not compared")
        return None
    try:
        import gguf
    except ImportError:
        print("note: the gguf package is not installed: SmolLM2's template not compared")
        return None
    field = gguf.GGUFReader(path).fields["tokenizer.chat_template"]
    return bytes(field.parts[field.data[0]]).decode("utf-8")


def real_templates(models_dir):
    out = {}
    src = smollm2_template()
    if src is not None:
        out["smollm2"] = src
    for name in ["llama3", "qwen3", "gemma3"]:
        path = os.path.join(models_dir, name, "tokenizer_config.json")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                out[name] = json.load(f)["chat_template"]
        else:
            print(f"note: {path} absent")
    return out


def build_cases(models_dir):
    templates = []
    for name, source in real_templates(models_dir).items():
        cases = []
        for conv_name, messages in CONVERSATIONS.items():
            for agp in (True, False):
                cases.append({"label": f"{conv_name}/agp={agp}", "messages": messages,
                              "add_generation_prompt": agp, **TOKENS})
        if name == "qwen3":
            for agp in (True, False):
                cases.append({"label": f"tools/agp={agp}", "messages": TOOL_MESSAGES, "add_generation_prompt": agp,
                              "extra": {"tools": [WEATHER_TOOL, {"type": "function", "function": {"name": "noop"}}]}})
                cases.append({"label": f"tool_calls_no_tools/agp={agp}", "messages": TOOL_MESSAGES,
                              "add_generation_prompt": agp})
                cases.append({"label": f"no_thinking/agp={agp}", "messages": CONVERSATIONS["multi"],
                              "add_generation_prompt": agp, "extra": {"enable_thinking": False}})
        if name == "gemma3":
            for agp in (True, False):
                cases.append({"label": f"list_content/agp={agp}", "messages": GEMMA_LIST, "add_generation_prompt": agp,
                              **TOKENS})
        templates.append({"name": name, "source": source, "cases": cases})
    for name, source in SYNTHETIC.items():
        cases = []
        for conv_name in ("single", "multi"):
            for agp in (True, False):
                cases.append({"label": f"{conv_name}/agp={agp}", "messages": CONVERSATIONS[conv_name],
                              "add_generation_prompt": agp, "extra": DATA, **TOKENS})
        templates.append({"name": "synthetic_" + name, "source": source, "cases": cases})
    return templates


def run(args):
    os.makedirs(args.work_dir, exist_ok=True)
    templates = build_cases(args.models_dir)
    in_path = os.path.join(args.work_dir, "input.json")
    with open(in_path, "w", encoding="utf-8") as f:
        json.dump({"templates": templates}, f, ensure_ascii=False)
    proc = subprocess.run([args.render_tool, in_path], capture_output=True, timeout=600)
    if proc.returncode != 0:
        print(proc.stderr.decode(errors="replace"))
        return 1
    ours = json.loads(proc.stdout.decode("utf-8"))
    compared = mismatches = real_compared = 0
    for t in templates:
        mine = ours.get(t["name"], {})
        if "parse_error" in mine:
            ref = reference(t["source"], t["cases"][0])
            if "parse_error" not in ref:
                mismatches += 1
                print(f"MISMATCH {t['name']}: gqa fails to parse: {mine['parse_error']}")
            continue
        for case, got in zip(t["cases"], mine["results"]):
            ref = reference(t["source"], case)
            compared += 1
            real_compared += not t["name"].startswith("synthetic_")
            where = f"{t['name']} [{case['label']}]"
            if "text" in ref:
                if got.get("text") != ref["text"]:
                    mismatches += 1
                    print(f"MISMATCH {where}:\n  jinja2: {ref['text']!r}\n  gqa:    "
                          f"{got.get('text', 'ERROR ' + str(got.get('error')))!r}")
            elif "error" in ref:
                if "error" not in got:
                    mismatches += 1
                    print(f"MISMATCH {where}: jinja2 fails ({ref['error']}), gqa renders {got['text']!r}")
                elif ref["raised"] and got["error"] != ref["error"]:
                    mismatches += 1
                    print(f"MISMATCH {where}: raise_exception message {ref['error']!r} vs {got['error']!r}")
    print(f"compared {compared} template x conversation cases ({real_compared} on real templates, "
          f"{len(templates)} templates): {mismatches} mismatches")
    return 1 if mismatches else 0
