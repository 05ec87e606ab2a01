"""The card parser expectations of the Spaced Repetition plugin, as data.

Ported from st3v3nmw/obsidian-spaced-repetition at commit 22fbea0a, ``tests/unit/parser.test.ts``
(the parser is ``src/parser.ts``). That project is MIT-licensed: Copyright (c) 2021 Stephen
Mwangi; the inputs and expected results below are its facts about the plugin, written out again
as Python data. Each case: a name, the note's text, the parser's options (None: the suite's
``parserOptions``) and the cards it expects, each as (kind, text, first line, last line) with the
plugin's 0-based line numbers; a cloze also gives the card as Anki writes it (ours).
"""

from __future__ import annotations

from typing import Any

SL, SLR, ML, MLR, CLOZE = ("SingleLineBasic", "SingleLineReversed", "MultiLineBasic",
                           "MultiLineReversed", "Cloze")
STANDARD_CLOZES = ["==[123;;]answer[;;hint]==", "**[123;;]answer[;;hint]**",
                   "{{[123;;]answer[;;hint]}}"]
DEFAULT: dict[str, Any] = {
    "singleLineCardSeparator": "::", "singleLineReversedCardSeparator": ":::",
    "multilineCardSeparator": "?", "multilineReversedCardSeparator": "??",
    "multilineCardEndMarker": "", "clozePatterns": STANDARD_CLOZES,
}


def opts(sl: str = "::", slr: str = ":::", ml: str = "?", mlr: str = "??", end: str = "---",
         clozes: list[str] | None = None) -> dict[str, Any]:
    """The options of one case (the suite writes all six each time; these are its usual ones)."""
    return {"singleLineCardSeparator": sl, "singleLineReversedCardSeparator": slr,
            "multilineCardSeparator": ml, "multilineReversedCardSeparator": mlr,
            "multilineCardEndMarker": end, "clozePatterns": clozes or []}


SRC = "<!--SR:!2021-08-11,4,270-->"
SR2 = "<!--SR:2021-08-11,4,270-->"
ANKI = "{{[123::]answer[::hint]}}"
FOOTNOTE = "==answer==[^\\[hint\\]][\\[^123\\]]"
MULTI = "Question 1\n?\nAnswer line 1\nAnswer line 2\n\n---\n"
Q12 = "Question 1\n?\nAnswer line 1\nAnswer line 2"
SECRET = ("Test 1\nTest 2\nThis is a cloze with ===secret=== text.\nWith this extra lines\n\n"
          "And more here.\nAnd even more.")
SECRET3 = SECRET.replace("1\nTest 2", "3\nTest 4").replace("===secret===", "===super secret===")
LOREM = ("Lorem ipsum dolor ==sit amet==, consectetur ==adipiscing== elit.\n"
         "Duis magna arcu, eleifend rhoncus ==euismod non,==\nlaoreet vitae enim.")
CODE = "```\nprint('Hello World!')\nprint('Howdy?')\nlambda x: x[0]\n```"
CODE_BLANKS = "```python\nprint('Hello World!')\n\n\nprint('Howdy?')\n\nlambda x: x[0]\n```"
NESTED = ("````ad-note\n\n```git\n+ print('hello')\n- print('world')\n```\n\n~~~python\n"
          "print('hello world')\n~~~\n````")
CUSTOM = "line 1\n\n\nline 2\n\nQuestion 1?\n??\nAnswer to question 1\n????\nline 3\n\nline 4\n\n"

Case = tuple[str, str, "dict[str, Any] | None", list[tuple[Any, ...]]]

CASES: list[Case] = [
    # --- single line basic cards ---
    ("sl basic", "Question::Answer", None, [(SL, "Question::Answer", 0, 0)]),
    ("sl schedule below", f"Question::Answer\n{SRC}", None,
     [(SL, f"Question::Answer\n{SRC}", 0, 1)]),
    ("sl schedule inline", f"Question::Answer {SR2}", None,
     [(SL, f"Question::Answer {SR2}", 0, 0)]),
    ("sl metadata callout", f"Question::Answer\n> [!sr|card-metadata] \n> {SRC}", None,
     [(SL, f"Question::Answer\n> [!sr|card-metadata] \n> {SRC}", 0, 2)]),
    ("sl text before", "Some text before\nQuestion ::Answer", None,
     [(SL, "Question ::Answer", 1, 1)]),
    ("sl two", "#Title\n\nQ1::A1\nQ2:: A2", None,
     [(SL, "Q1::A1", 2, 2), (SL, "Q2:: A2", 3, 3)]),
    ("sl deck tag", "#flashcards/science Question ::Answer", None,
     [(SL, "#flashcards/science Question ::Answer", 0, 0)]),
    ("sl custom &&", "Question&&Answer", opts(sl="&&"), [(SL, "Question&&Answer", 0, 0)]),
    ("sl custom =", "Question=Answer", opts(sl="="), [(SL, "Question=Answer", 0, 0)]),
    ("sl empty separator", "Question::Answer", opts(sl=""), []),
    # --- single line reversed cards ---
    ("slr reversed", "Question:::Answer", None, [(SLR, "Question:::Answer", 0, 0)]),
    ("slr text before", "Some text before\nQuestion :::Answer", None,
     [(SLR, "Question :::Answer", 1, 1)]),
    ("slr two", "#Title\n\nQ1:::A1\nQ2::: A2", None,
     [(SLR, "Q1:::A1", 2, 2), (SLR, "Q2::: A2", 3, 3)]),
    ("slr custom &&&", "Question&&&Answer", opts(slr="&&&"), [(SLR, "Question&&&Answer", 0, 0)]),
    ("slr swapped", "Question::Answer", opts(sl=":::", slr="::"),
     [(SLR, "Question::Answer", 0, 0)]),
    ("slr custom :> <:>", "Qn 1?:>Answer.\n\nQn 2?<:>Answer.\n",
     opts(sl=":>", slr="<:>", ml=";>", mlr="<;>"),
     [(SL, "Qn 1?:>Answer.", 0, 0), (SLR, "Qn 2?<:>Answer.", 2, 2)]),
    ("slr whitespace separator", "Question:::Answer", opts(sl=">", slr="  "), []),
    # --- multi line basic cards ---
    ("ml basic", "Question\n?\nAnswer", None, [(ML, "Question\n?\nAnswer", 0, 2)]),
    ("ml separator with space", "Question\n? \nAnswer", None,
     [(ML, "Question\n?\nAnswer", 0, 2)]),
    ("ml schedule inline", f"Question\n?\nAnswer {SRC}", None,
     [(ML, f"Question\n?\nAnswer {SRC}", 0, 2)]),
    ("ml schedule below", f"Question\n?\nAnswer\n{SR2}", None,
     [(ML, f"Question\n?\nAnswer\n{SR2}", 0, 3)]),
    ("ml two question lines", "Question line 1\nQuestion line 2\n?\nAnswer", None,
     [(ML, "Question line 1\nQuestion line 2\n?\nAnswer", 0, 3)]),
    ("ml two answer lines", "Question\n?\nAnswer line 1\nAnswer line 2", None,
     [(ML, "Question\n?\nAnswer line 1\nAnswer line 2", 0, 3)]),
    ("ml question back to blank line", "#Title\n\nLine0\nQ1\n?\nA1\nAnswerExtra\n\nQ2\n?\nA2",
     None, [(ML, "Line0\nQ1\n?\nA1\nAnswerExtra", 2, 6), (ML, "Q2\n?\nA2", 8, 10)]),
    ("ml deck tag above", "#flashcards/tag-on-previous-line\nQuestion\n?\nAnswer", None,
     [(ML, "#flashcards/tag-on-previous-line\nQuestion\n?\nAnswer", 0, 3)]),
    ("ml end marker", "Question\n?\nAnswer line 1\nAnswer line 2\n\n---",
     opts(clozes=["**[123;;]answer[;;hint]**"]),
     [(ML, "Question\n?\nAnswer line 1\nAnswer line 2", 0, 4)]),
    ("ml end markers", MULTI + "Question 2\n?\nAnswer line 1\nAnswer line 2\n---\n",
     opts(clozes=["**[123;;]answer[;;hint]**"]),
     [(ML, Q12, 0, 4), (ML, "Question 2\n?\nAnswer line 1\nAnswer line 2", 6, 9)]),
    ("ml blank after separator", MULTI + "Question with empty line after question mark\n?\n\n"
     "Answer line 1\nAnswer line 2\n---\n", opts(clozes=["**[123;;]answer[;;hint]**"]),
     [(ML, Q12, 0, 4), (ML, "Question with empty line after question mark\n?\n\n"
                            "Answer line 1\nAnswer line 2", 6, 10)]),
    ("ml custom @@", "Question\n@@\nAnswer\n\nsfdg", opts(ml="@@", end=""),
     [(ML, "Question\n@@\nAnswer", 0, 2)]),
    ("ml empty separator", "Question\n?\nAnswer", opts(ml=""), []),
    # --- multi line reversed cards ---
    ("mlr reversed", "Question\n??\nAnswer", None, [(MLR, "Question\n??\nAnswer", 0, 2)]),
    ("mlr two question lines", "Question line 1\nQuestion line 2\n??\nAnswer", None,
     [(MLR, "Question line 1\nQuestion line 2\n??\nAnswer", 0, 3)]),
    ("mlr two answer lines", "Question\n??\nAnswer line 1\nAnswer line 2", None,
     [(MLR, "Question\n??\nAnswer line 1\nAnswer line 2", 0, 3)]),
    ("mlr question back to blank line",
     "#Title\n\nLine0\nQ1\n??\nA1\nAnswerExtra\n\nQ2\n??\nA2", None,
     [(MLR, "Line0\nQ1\n??\nA1\nAnswerExtra", 2, 6), (MLR, "Q2\n??\nA2", 8, 10)]),
    ("mlr end marker", "Question\n??\nAnswer line 1\nAnswer line 2\n\n---",
     opts(clozes=STANDARD_CLOZES),
     [(MLR, "Question\n??\nAnswer line 1\nAnswer line 2", 0, 4)]),
    ("mlr after ml", MULTI + "Question 2\n??\nAnswer line 1\nAnswer line 2\n---\n",
     opts(clozes=STANDARD_CLOZES),
     [(ML, Q12, 0, 4), (MLR, "Question 2\n??\nAnswer line 1\nAnswer line 2", 6, 9)]),
    ("mlr custom @@@", "Question\n@@@\nAnswer\n---", opts(ml="@@", mlr="@@@"),
     [(MLR, "Question\n@@@\nAnswer", 0, 2)]),
    ("mlr custom ?? ???", CUSTOM + "Question 2?\n??\nAnswer to question 2\n????\nLine 5\n",
     opts(sl=":::", slr="::::", ml="??", mlr="???", end="????"),
     [(ML, "Question 1?\n??\nAnswer to question 1", 5, 7),
      (ML, "Question 2?\n??\nAnswer to question 2", 13, 15)]),
    ("mlr tab separator", "Question\n??\nAnswer", opts(mlr="\t"), []),
    # --- cloze cards: ==highlights== ---
    ("cloze highlight", "cloze ==deletion== test", None,
     [(CLOZE, "cloze ==deletion== test", 0, 0, "cloze {{c1::deletion}} test")]),
    ("cloze highlight schedule below", f"cloze ==deletion== test\n{SR2}", None,
     [(CLOZE, f"cloze ==deletion== test\n{SR2}", 0, 1, "cloze {{c1::deletion}} test")]),
    ("cloze highlight schedule inline", f"cloze ==deletion== test {SR2}", None,
     [(CLOZE, f"cloze ==deletion== test {SR2}", 0, 0, "cloze {{c1::deletion}} test")]),
    ("cloze highlight two", "==this== is a ==deletion==\n", None,
     [(CLOZE, "==this== is a ==deletion==", 0, 0, "{{c1::this}} is a {{c2::deletion}}")]),
    ("cloze highlight paragraphs", "some text before\n\na deletion on\nsuch ==wow==\n\n"
     "many text\nsuch surprise ==wow== more ==text==\nsome text after\n\nHmm", None,
     [(CLOZE, "a deletion on\nsuch ==wow==", 2, 3, "a deletion on\nsuch {{c1::wow}}"),
      (CLOZE, "many text\nsuch surprise ==wow== more ==text==\nsome text after", 5, 7,
       "many text\nsuch surprise {{c1::wow}} more {{c2::text}}\nsome text after")]),
    ("cloze highlight unclosed", "srdf ==", None, []),
    ("cloze highlight across lines", "lorem ipsum ==p\ndolor won==", None, []),
    ("cloze highlight half closed", "lorem ipsum ==dolor won=", None, []),
    ("cloze highlight off", "cloze ==deletion== test",
     opts(end="", clozes=STANDARD_CLOZES[1:]), []),
    # --- cloze cards: **bold** ---
    ("cloze bold", "cloze **deletion** test", None,
     [(CLOZE, "cloze **deletion** test", 0, 0, "cloze {{c1::deletion}} test")]),
    ("cloze bold schedule below", f"cloze **deletion** test\n{SR2}", None,
     [(CLOZE, f"cloze **deletion** test\n{SR2}", 0, 1, "cloze {{c1::deletion}} test")]),
    ("cloze bold schedule inline", f"cloze **deletion** test {SR2}", None,
     [(CLOZE, f"cloze **deletion** test {SR2}", 0, 0, "cloze {{c1::deletion}} test")]),
    ("cloze bold two", "**this** is a **deletion**\n", None,
     [(CLOZE, "**this** is a **deletion**", 0, 0, "{{c1::this}} is a {{c2::deletion}}")]),
    ("cloze bold paragraphs", "some text before\n\na deletion on\nsuch **wow**\n\n"
     "many text\nsuch surprise **wow** more **text**\nsome text after\n\nHmm", None,
     [(CLOZE, "a deletion on\nsuch **wow**", 2, 3, "a deletion on\nsuch {{c1::wow}}"),
      (CLOZE, "many text\nsuch surprise **wow** more **text**\nsome text after", 5, 7,
       "many text\nsuch surprise {{c1::wow}} more {{c2::text}}\nsome text after")]),
    ("cloze bold unclosed", "srdf **", None, []),
    ("cloze bold across lines", "lorem ipsum **p\ndolor won**", None, []),
    ("cloze bold half closed", "lorem ipsum **dolor won*", None, []),
    ("cloze bold off", "cloze **deletion** test",
     opts(end="", clozes=[STANDARD_CLOZES[0], STANDARD_CLOZES[2]]), []),
    # --- cloze cards: {{curly}} ---
    ("cloze curly", "cloze {{deletion}} test", None,
     [(CLOZE, "cloze {{deletion}} test", 0, 0, "cloze {{c1::deletion}} test")]),
    ("cloze curly schedule below", f"cloze {{{{deletion}}}} test\n{SR2}", None,
     [(CLOZE, f"cloze {{{{deletion}}}} test\n{SR2}", 0, 1, "cloze {{c1::deletion}} test")]),
    ("cloze curly schedule inline", f"cloze {{{{deletion}}}} test {SR2}", None,
     [(CLOZE, f"cloze {{{{deletion}}}} test {SR2}", 0, 0, "cloze {{c1::deletion}} test")]),
    ("cloze curly two", "{{this}} is a {{deletion}}\n", None,
     [(CLOZE, "{{this}} is a {{deletion}}", 0, 0, "{{c1::this}} is a {{c2::deletion}}")]),
    ("cloze curly paragraphs", "some text before\n\na deletion on\nsuch {{wow}}\n\n"
     "many text\nsuch surprise {{wow}} more {{text}}\nsome text after\n\nHmm", None,
     [(CLOZE, "a deletion on\nsuch {{wow}}", 2, 3, "a deletion on\nsuch {{c1::wow}}"),
      (CLOZE, "many text\nsuch surprise {{wow}} more {{text}}\nsome text after", 5, 7,
       "many text\nsuch surprise {{c1::wow}} more {{c2::text}}\nsome text after")]),
    ("cloze curly unclosed", "srdf {{", None, []),
    ("cloze curly closing only", "srdf }}", None, []),
    ("cloze curly across lines", "lorem ipsum {{p\ndolor won}}", None, []),
    ("cloze curly half closed", "lorem ipsum {{dolor won}", None, []),
    ("cloze curly off", "cloze {{deletion}} test", opts(end="", clozes=STANDARD_CLOZES[:2]), []),
    # --- custom cloze patterns ---
    ("cloze anki-like hint", "Brazilians speak {{Portuguese::language}}",
     opts(sl="=", slr="==", end="", clozes=[ANKI]),
     [(CLOZE, "Brazilians speak {{Portuguese::language}}", 0, 0,
       "Brazilians speak {{c1::Portuguese::language}}")]),
    ("cloze anki-like numbered", "Brazilians speak {{1::Portuguese}}\n\n"
     "Brazilians speak {{1::Portuguese::language}}", opts(sl="=", slr="==", end="", clozes=[ANKI]),
     [(CLOZE, "Brazilians speak {{1::Portuguese}}", 0, 0, "Brazilians speak {{c1::Portuguese}}"),
      (CLOZE, "Brazilians speak {{1::Portuguese::language}}", 2, 2,
       "Brazilians speak {{c1::Portuguese::language}}")]),
    ("cloze anki-like lettered", "Brazilians speak {{a::Portuguese}}\n\n"
     "Brazilians speak {{a::Portuguese::language}}", opts(sl="=", slr="==", end="", clozes=[ANKI]),
     [(CLOZE, "Brazilians speak {{a::Portuguese}}", 0, 0,
       "Brazilians speak {{c1::a::Portuguese}}"),
      (CLOZE, "Brazilians speak {{a::Portuguese::language}}", 2, 2,
       "Brazilians speak {{c1::a::Portuguese::language}}")]),
    ("cloze footnote hint", "Brazilians speak ==Portuguese==\n\n"
     "Brazilians speak ==Portuguese==^[language]", opts(end="", clozes=[FOOTNOTE]),
     [(CLOZE, "Brazilians speak ==Portuguese==", 0, 0, "Brazilians speak {{c1::Portuguese}}"),
      (CLOZE, "Brazilians speak ==Portuguese==^[language]", 2, 2,
       "Brazilians speak {{c1::Portuguese::language}}")]),
    ("cloze footnote numbered", "Brazilians speak ==Portuguese==[^1]\n\n"
     "Brazilians speak ==Portuguese==^[language][^1]", opts(end="", clozes=[FOOTNOTE]),
     [(CLOZE, "Brazilians speak ==Portuguese==[^1]", 0, 0, "Brazilians speak {{c1::Portuguese}}"),
      (CLOZE, "Brazilians speak ==Portuguese==^[language][^1]", 2, 2,
       "Brazilians speak {{c1::Portuguese::language}}")]),
    ("cloze footnote lettered", "Brazilians speak ==Portuguese==[^a]\n\n"
     "Brazilians speak ==Portuguese==^[language][^a]", opts(end="", clozes=[FOOTNOTE]),
     [(CLOZE, "Brazilians speak ==Portuguese==[^a]", 0, 0,
       "Brazilians speak {{c1::Portuguese}}[^a]"),
      (CLOZE, "Brazilians speak ==Portuguese==^[language][^a]", 2, 2,
       "Brazilians speak {{c1::Portuguese::language}}[^a]")]),
    # --- cloze combinations ---
    ("cloze combo", "cloze **deletion** test ==another deletion==!", None,
     [(CLOZE, "cloze **deletion** test ==another deletion==!", 0, 0,
       "cloze {{c1::deletion}} test {{c2::another deletion}}!")]),
    ("cloze end marker", SECRET + "\n\n---\n\n" + SECRET3 + "\n\n---\n\nHere is some more text.",
     opts(clozes=STANDARD_CLOZES[:1]),
     [(CLOZE, SECRET, 0, 7, SECRET.replace("==secret==", "{{c1::secret}}")),
      (CLOZE, SECRET3, 10, 17, SECRET3.replace("==super secret==", "{{c1::super secret}}"))]),
    ("cloze all off", "cloze {{deletion}} test and **deletion** ==another deletion==!",
     opts(end=""), []),
    # --- a mix of card types ---
    ("mix", "# Lorem Ipsum\n\n" + LOREM + "\n\nFusce placerat::velit in pharetra gravida\n\n"
     f"Donec dapibus ullamcorper aliquam.\n??\nDonec dapibus ullamcorper aliquam.\n{SR2}",
     None,
     [(CLOZE, LOREM, 2, 4, LOREM.replace("==sit amet==", "{{c1::sit amet}}").replace(
         "==adipiscing==", "{{c2::adipiscing}}").replace("==euismod non,==",
                                                           "{{c3::euismod non,}}")),
      (SL, "Fusce placerat::velit in pharetra gravida", 6, 6),
      (MLR, "Donec dapibus ullamcorper aliquam.\n??\nDonec dapibus ullamcorper aliquam.\n"
            + SR2, 8, 11)]),
    # --- cards holding code ---
    ("code inline in card", "my inline question containing `some inline code` in it::and this "
     "is answer possibly containing `inline` code.", None,
     [(SL, "my inline question containing `some inline code` in it::and this is answer "
           "possibly containing `inline` code.", 0, 0)]),
    ("code inline in cloze", "this has some ==`inline`== code", None,
     [(CLOZE, "this has some ==`inline`== code", 0, 0, "this has some {{c1::`inline`}} code")]),
    ("code block answer", "How do you ... Python?\n?\n" + CODE, None,
     [(ML, "How do you ... Python?\n?\n" + CODE, 0, 6)]),
    ("code block with blank lines", "How do you ... Python?\n?\n" + CODE_BLANKS, None,
     [(ML, "How do you ... Python?\n?\n" + CODE_BLANKS, 0, 9)]),
    ("code nested fences", "Nested Markdown?\n?\n" + NESTED, None,
     [(ML, "Nested Markdown?\n?\n" + NESTED, 0, 12)]),
    # --- nothing inside HTML comments ---
    ("comment sl", "<!--question::answer test-->", None, []),
    ("comment slr", "<!--question:::answer test-->", None, []),
    ("comment ml", f"<!--\nQuestion\n?\nAnswer {SRC}\n-->", None, []),
    ("comment ml and cloze", f"<!--\nQuestion\n?\nAnswer {SRC}\n\n"
     "<!--cloze ==deletion== test-->-->", None, []),
    ("comment cloze highlight", "<!--cloze ==deletion== test-->", None, []),
    ("comment cloze bold", "<!--cloze **deletion** test-->", None, []),
    ("comment cloze curly", "<!--cloze {{curly}} test-->", None, []),
    ("comment after text", "something something\n<!--cloze {{curly}} test-->", None, []),
    ("comment then card", "something something\n\n<!--cloze {{curly}} test-->\n\na::b", None,
     [(SL, "a::b", 4, 4)]),
    # --- nothing inside code ---
    ("code block sl", "```\nCodeblockq::CodeblockA\n```", None, []),
    ("code block slr", "```\nCodeblockq:::CodeblockA\n```", None, []),
    ("code block highlight", "# Title\n\n```markdown\nsome ==highlighted text==!\n```\n\nmore!",
     None, []),
    ("code block bold", "# Title\n```markdown\nsome **bolded text**!\n```\n\nmore!", None, []),
    ("code block curly", "# Title\n\n```\nfoo = {{'a': 2}}\n```\n\nmore!", None, []),
    ("code inline sl", "`Inlineq::InlineA`", None, []),
    ("code inline &", "# Title\n`if (a & b) {}`\nmore!",
     opts(sl="&", end="", clozes=STANDARD_CLOZES), []),
    ("code combo", "Question::Answer\n\n```\nCodeblockq::CodeblockA\n```\n\n`Inlineq::InlineA`\n",
     None, [(SL, "Question::Answer", 0, 0)]),
]
