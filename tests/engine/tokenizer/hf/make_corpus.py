#!/usr/bin/env python3
"""Deterministic test corpora for the HF tokenizer parity test and benchmark.

make_prose(n_bytes, seed): ordinary English prose from a built-in word list
(sentences, punctuation, numbers, quotes, paragraphs); no downloads.
hard_cases(): (name, bytes) pairs that stress tokenizers: mixed scripts, emoji
and ZWJ sequences, combining marks and NFC, numbers of every length,
whitespace runs, code, special-token strings, empty input, invalid UTF-8.
unicode_sweep(): every code point of planes 0-2 and 14 (surrogates excepted)
in a few contexts, 64 code points per entry.

  python3 make_corpus.py --prose-bytes 1000000 --out prose.txt
"""
import argparse
import random

WORDS = """
the of and to a in is it you that he was for on are with as I his they be at one have this
from or had by hot word but what some we can out other were all there when up use your how
said an each she which do their time if will way about many then them write would like so
these her long make thing see him two has look more day could go come did number sound no
most people my over know water than call first who may down side been now find any new work
part take get place made live where after back little only round man year came show every
good me give our under name very through just form sentence great think say help low line
differ turn cause much mean before move right boy old too same tell does set three want air
well also play small end put home read hand port large spell add even land here must big high
such follow act why ask men change went light kind off need house picture try us again animal
point mother world near build self earth father head stand own page should country found
answer school grow study still learn plant cover food sun four between state keep eye never
last let thought city tree cross farm hard start might story saw far sea draw left late run
while press close night real life few north open seem together next white children begin got
walk example ease paper group always music those both mark often letter until mile river car
feet care second book carry took science eat room friend began idea fish mountain stop once
base hear horse cut sure watch color face wood main enough plain girl usual young ready above
ever red list though feel talk bird soon body dog family direct pose leave song measure door
product black short numeral class wind question happen complete ship area half rock order fire
south problem piece told knew pass since top whole king space heard best hour better true
during hundred five remember step early hold west ground interest reach fast verb sing listen
six table travel less morning ten simple several vowel toward war lay against pattern slow
center love person money serve appear road map rain rule govern pull cold notice voice unit
power town fine certain fly fall lead cry dark machine note wait plan figure star box noun
field rest correct able pound done beauty drive stood contain front teach week final gave
green oh quick develop ocean warm free minute strong special mind behind clear tail produce
fact street inch multiply nothing course stay wheel full force blue object decide surface deep
moon island foot system busy test record boat common gold possible plane stead dry wonder laugh
thousand ago ran check game shape equate miss brought heat snow tire bring yes distant fill
east paint language among grand ball yet wave drop heart present heavy dance engine position
arm wide sail material size vary settle speak weight general ice matter circle pair include
divide syllable felt perhaps pick sudden count square reason length represent art subject
region energy hunt probable bed brother egg ride cell believe fraction forest sit race window
store summer train sleep prove lone leg exercise wall catch mount wish sky board joy winter sat
written wild instrument kept glass grass cow job edge sign visit past soft fun bright gas
weather month million bear finish happy hope flower clothe strange gone jump baby eight village
meet root buy raise solve metal whether push seven paragraph third shall held hair describe
cook floor either result burn hill safe cat century consider type law bit coast copy phrase
silent tall sand soil roll temperature finger industry value fight lie beat excite natural
view sense ear else quite broke case middle kill son lake moment scale loud spring observe
child straight consonant nation dictionary milk speed method organ pay age section dress cloud
surprise quiet stone tiny climb cool design poor lot experiment bottom key iron single stick
flat twenty skin smile crease hole trade melody trip office receive row mouth exact symbol die
least trouble shout except wrote seed tone join suggest clean break lady yard rise bad blow oil
blood touch grew cent mix team wire cost lost brown wear garden equal sent choose fell fit flow
fair bank collect save control decimal gentle woman captain practice separate difficult doctor
please protect noon whose locate ring character insect caught period indicate radio spoke atom
human history effect electric expect crop modern element hit student corner party supply bone
rail imagine provide agree thus capital chair danger fruit rich thick soldier process operate
guess necessary sharp wing create neighbor wash bat rather crowd corn compare poem string bell
depend meat rub tube famous dollar stream fear sight thin triangle planet hurry chief colony
clock mine tie enter major fresh search send yellow gun allow print dead spot desert suit
current lift rose continue block chart hat sell success company subtract event particular deal
swim term opposite wife shoe shoulder spread arrange camp invent cotton born determine quart
nine truck noise level chance gather shop stretch throw shine property column molecule select
wrong gray repeat require broad prepare salt nose plural anger claim continent oxygen sugar
death pretty skill women season solution magnet silver thank branch match suffix especially fig
afraid huge sister steel discuss forward similar guide experience score apple bought led pitch
coat mass card band rope slip win dream evening condition feed tool total basic smell valley
nor double seat arrive master track parent shore division sheet substance favor connect post
spend chord fat glad original share station dad bread charge proper bar offer segment slave
duck instant market degree populate chick dear enemy reply drink occur support speech nature
range steam motion path liquid log meant quotient teeth shell neck
""".split()
NAMES = ["Alice", "Bob", "Carol", "Dmitri", "Eleanor", "Farid", "Greta", "Hiroshi", "Ines",
         "Jamal", "Katarzyna", "Luis", "Mei", "Noah", "Olga", "Priya", "Quentin", "Rosa"]
CONTRACTIONS = ["don't", "it's", "I'm", "we've", "they'll", "she'd", "can't", "won't",
                "isn't", "you're", "that's", "I'll", "he's", "wouldn't"]


def _sentence(rng):
    n = rng.randint(4, 22)
    words = []
    for i in range(n):
        r = rng.random()
        if r < 0.04:
            words.append(rng.choice(NAMES) + ("'s" if rng.random() < 0.3 else ""))
        elif r < 0.07:
            words.append(rng.choice(CONTRACTIONS))
        elif r < 0.09:
            words.append(str(rng.choice([rng.randint(0, 100), rng.randint(1800, 2030),
                                         rng.randint(1000, 10 ** 7)])))
        elif r < 0.10:
            words.append(f"{rng.randint(0, 99)}.{rng.randint(0, 99)}%")
        else:
            words.append(rng.choice(WORDS))
        if i < n - 1 and rng.random() < 0.08:
            words[-1] += rng.choice([",", ",", ";", " -", ":"])
    words[0] = words[0][:1].upper() + words[0][1:]
    s = " ".join(words) + rng.choice([".", ".", ".", "?", "!", "..."])
    r = rng.random()
    if r < 0.08:
        s = '"' + s + '"'
    elif r < 0.12:
        s = "(" + s + ")"
    return s


def make_prose(n_bytes, seed=1234):
    """English prose of about n_bytes bytes, paragraphs split by blank lines."""
    rng = random.Random(seed)
    out, size = [], 0
    while size < n_bytes:
        para = " ".join(_sentence(rng) for _ in range(rng.randint(2, 8)))
        out.append(para)
        size += len(para) + 2
    text = "\n\n".join(out)
    return text[:n_bytes]


def hard_cases():
    """(name, bytes) pairs of hard tokenizer input."""
    cases = []
    add = lambda name, text: cases.append((name, text.encode("utf-8") if isinstance(text, str) else text))
    add("empty", "")
    for i, ws in enumerate([" ", "  ", "   ", "\t", "\n", "\r\n", "\r", " \n ", "\n\n", "\n\n\n",
                            "\t\t\t", " \t \n", "\u00a0", "\u3000", "\u2028", "\u2029", "\u0085",
                            "\u200b", "\ufeff", "\x0b\x0c", "        ", " " * 17, "\n" * 33]):
        add(f"ws{i}", ws)
        add(f"ws{i}_mid", "a" + ws + "b")
        add(f"ws{i}_lead", ws + "hello world")
        add(f"ws{i}_trail", "hello world" + ws)
    add("spaces_runs", "a  b   c    d     e      f\t\tg \t h\n \n i   \n\n   j")
    add("indent_code", "def f(x):\n    if x:\n        return [i for i in range(x)]\n\treturn None\n")
    for n in range(1, 26):
        add(f"digits{n}", "".join(str((i * 7 + n) % 10) for i in range(n)))
        add(f"digits{n}_words", f"I have {'9' * n} apples and {n} pears")
    add("number_formats", "3.14159 1,000,000 -42 +7 1e10 6.02e23 0x1F 0b1010 1/2 50% $9.99 €5 ¥100 10:30pm 2024-01-31")
    add("number_scripts", "١٢٣ ٤٥٦ ०१२३ ๑๒๓ ①②③ ⅻ Ⅻ ½ ¾ ²³ 𝟙𝟚𝟛 ９８７")
    add("contractions", "don't I'M they'll WE'VE it's 's 'S' 'll 'LL 'd 'D 're 'Re you'RE o'clock rock'n'roll")
    add("contractions_unicode", "ʼs ’s 'ſ 'ſt 'K 'ǅ 'ﬅ 'İ 'ı")
    add("english_mixed_case", "HELLO World hElLo WORLD's McDonald's iPhone eBay NASA's")
    add("chinese", "我们今天去公园散步，天气非常好。人工智能正在改变世界！「引号」『书名』")
    add("japanese", "東京は日本の首都です。ひらがな、カタカナ、漢字が混ざっています。ｶﾀｶﾅ")
    add("korean", "안녕하세요 세계! 한국어 텍스트입니다.")
    add("korean_jamo_nfd", "\u1100\u1161\u11a8 \u1112\u1161\u11ab\u1100\u1173\u11af")
    add("arabic", "مرحبا بالعالم! هذا نص عربي مع أرقام ١٢٣ و 456.")
    add("hebrew", "שלום עולם, זה טקסט בעברית עם ניקוד: שָׁלוֹם")
    add("hindi", "नमस्ते दुनिया! यह हिंदी पाठ है। क्षत्रिय ज्ञान")
    add("thai", "สวัสดีชาวโลก นี่คือข้อความภาษาไทย")
    add("russian", "Привет, мир! Съешь же ещё этих мягких французских булок.")
    add("greek", "Γειά σου Κόσμε! ΟΔΥΣΣΕΥΣ ὀδυσσεύς ς σ")
    add("vietnamese", "Tiếng Việt có nhiều dấu: ắ ằ ẳ ẵ ặ ế ề ể ễ ệ")
    add("vietnamese_nfd", "Tie\u0302\u0301ng Vie\u0323\u0302t")
    add("combining", "e\u0301 a\u0308\u0301 \u0301start q\u0307\u0323 q\u0323\u0307 o\u031b\u0303 A\u030a \u212b \u2126 \u0344 \u0958 \uf900 \ufb01 \u1e9b\u0323")
    add("combining_stack", "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319\u0324\u031e\u0349\u035a\u032f\u031e\u0320\u034dA\u036b\u0357\u0334\u0362\u0335\u031c\u0330\u0354L\u0368\u0367\u0369\u0358\u0320G\u0311\u0357\u030e\u0305\u035b\u0341\u0334\u033b\u0348\u034d\u0354\u0339O\u0342\u030c\u030c\u0358\u0328\u0335\u0339\u033b\u031d\u0333")
    add("emoji", "Hello 👋 world 🌍! 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 🇫🇷🇩🇪 1️⃣ #️⃣ ❤️ 🧑🏿‍🚀 😀😃😄 ✨")
    add("emoji_only", "😀" * 40)
    add("zwj_alone", "\u200d \u200c a\u200db")
    add("controls", "a\x00b\x01c\x07d\x1be\x7ff\u00adg\u2060h")
    add("code_python", 'import numpy as np\n\nclass Foo(Bar):\n    """Doc string."""\n    def __init__(self, x: int = 0) -> None:\n        self.x = x  # comment\n        print(f"{x!r:>10}", end="")\n')
    add("code_cpp", "#include <vector>\ntemplate <typename T>\nstd::vector<T> f(const T& x) {\n  return {x, x};  // ok\n}\nint main() { auto y = f<int>(42); return y[0] >> 1; }\n")
    add("code_json", '{"key": "value", "n": [1, 2.5, -3e4], "nested": {"a": null, "b": true}}')
    add("html", '<div class="x"><p>Hello &amp; <b>bold</b></p><br/><!-- c --></div>')
    add("url_path", "https://example.com/path/to/file.html?q=1&r=two#frag /usr/local/bin C:\\Windows\\System32")
    add("markdown", "# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n* item\n* **bold** _it_ `code`\n```\nx\n```")
    add("punct_runs", "!!! ??? ... --- *** ___ ~~~ ``` ''' \"\"\" ((( ))) [[[ ]]] {{{ }}} <<< >>> ||| @@@ ### $$$ %%%")
    add("special_llama3", "<|begin_of_text|>Hello<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>")
    add("special_llama2", "<s>Hello</s> <s> [INST] hi [/INST] </s><unk>")
    add("special_gemma", "<bos><start_of_turn>user\nhello<end_of_turn>\n<start_of_turn>model\n<eos><pad><mask>[multimodal]<unused0><unused99>")
    add("special_qwen", "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\n<think>x</think><tool_call>{}</tool_call><|endoftext|>")
    add("special_partial", "<|im_sta <|endoftext <s <bos <|begin_of_text| <<|endoftext|>> <|endoftext|><|endoftext|>")
    add("special_spaces", " <s> hi </s> <|im_end|> \n<|im_end|>\n <bos> ")
    add("literal_byte_token", "<0x41> <0xFF> <0x0A>")
    add("metaspace_literal", "▁▁▁hello▁world ▁ ▁▁")
    add("gemma_ws_tokens", "\n\n\n\n\t\t\t\t  \t\t\n\n\n")
    add("added_flags", "hello world helloworld xhello hello_ hello. hello\nworld <mask> a <mask>b\t<mask>\n  world  world\u2000<mask>\u2000 Hello HELLO")
    add("added_flags_edges", "<mask><mask>  <mask>  hello<mask>hello  world<mask>world")
    add("mixed_everything", "Hi! 你好 👋🏽 café naïve résumé 123456 don't\n\tπ≈3.14 — “quotes” «guillemets» ‘single’ …")
    # Ill-formed UTF-8 (HF sees Python's errors="replace" decoding).
    for i, raw in enumerate([b"\xff", b"abc\xe4\xb8", b"\xe4\xb8abc", b"\xed\xa0\x80", b"\xc0\xaf",
                             b"\xf4\x90\x80\x80", b"a\x80b", b"\xf0\x9f\x98", b"\xf0\x9f\x98 x",
                             b"\xfe\xfe\xff\xff", b"ok \xc3\x28 bad", b"\xe2\x82\xac\xe2\x82"]):
        add(f"invalid{i}", raw)
    # Long inputs.
    add("long_spaces", " " * 5000 + "x")
    add("long_newlines", "\n" * 2000 + "x")
    add("long_a", "a" * 3000)
    add("long_number", "".join(str(i % 10) for i in range(1000)))
    add("long_chinese", "人工智能正在改变世界我们今天去公园散步" * 300)
    add("long_url", "https://example.com/" + "abcdefghij/" * 300)
    add("long_emoji", "👨‍👩‍👧‍👦" * 200)
    rng = random.Random(99)
    for i in range(60):
        alphabet = [chr(c) for c in rng.sample(range(0x20, 0x2FFF), 40)] + [" ", " ", "\n", "a", "1", "'"]
        add(f"random_chars{i}", "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 300))).replace("\ud800", ""))
    return cases


def unicode_sweep():
    """Every code point of planes 0-2 and 14 in a few contexts (next to letters,
    digits, spaces, an apostrophe and combining marks)."""
    cps = [c for c in range(0x0, 0x30000) if not 0xD800 <= c <= 0xDFFF] + list(range(0xE0000, 0xE0200))
    cases = []
    for start in range(0, len(cps), 64):
        parts = []
        for c in cps[start:start + 64]:
            ch = chr(c)
            # Around marks of combining classes 1, 220 and 230 for normalizers.
            parts.append(f"a{ch} {ch}{ch}1{ch}'{ch} x{ch}\u0334 e\u0301{ch}\u0316\n")
        cases.append((f"sweep_{cps[start]:05x}", "".join(parts).encode("utf-8")))
    return cases


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prose-bytes", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(make_prose(args.prose_bytes, args.seed))


if __name__ == "__main__":
    main()
