"""Checks reference_textq.py's word tokenizer against the real NLTK.

Run with a Python that has NLTK (Debian's python3-nltk: /usr/bin/python3):

    /usr/bin/python3 tests/integration/check_nltk.py FILE.jsonl...

NLTK's punkt needs its trained English model, which is not packaged. The
reference (and sluice) replace that model by two fixed lists; this script
gives NLTK's own PunktSentenceTokenizer a model made of exactly those lists
(the abbreviations, and the sentence starters marked as words seen in lower
case mid-sentence), so that NLTK's code decides with the same knowledge.
Then, per document, it compares:
  - the sentences: punkt's tokenize() against reference_textq.sentences();
  - the words: NLTKWordTokenizer on each of those sentences (what
    word_tokenize does) against reference_textq.word_tokenize().
Prints the counts and the first differences; exits 1 on any difference.
test_text_quality_reference.py runs it when NLTK is there.
"""
import collections
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import reference_textq as ref  # noqa: E402
from nltk.tokenize import punkt  # noqa: E402
from nltk.tokenize.destructive import NLTKWordTokenizer  # noqa: E402


def tokenizer():
    params = punkt.PunktParameters()
    params.abbrev_types = set(ref.ABBREVIATIONS)
    params.ortho_context = collections.defaultdict(int, {w: punkt._ORTHO_MID_LC for w in ref.STARTERS})
    return punkt.PunktSentenceTokenizer(params)


def main(paths):
    sent_tok, word_tok = tokenizer(), NLTKWordTokenizer()
    docs = same_sentences = same_words = 0
    shown = 0
    for path in paths:
        with open(path) as f:
            for line in f:
                text = json.loads(line)["text"]
                docs += 1
                nltk_sents = sent_tok.tokenize(text)
                ref_sents = ref.sentences(text)
                nltk_words = [t for s in nltk_sents for t in word_tok.tokenize(s) if t.strip()]
                ref_words = ref.word_tokenize(text)
                same_sentences += nltk_sents == ref_sents
                same_words += nltk_words == ref_words
                if (nltk_sents != ref_sents or nltk_words != ref_words) and shown < 3:
                    shown += 1
                    for a, b in zip(nltk_sents, ref_sents):
                        if a != b:
                            print("  sentence differs:\n    nltk: %r\n    ref:  %r" % (a[:200], b[:200]))
                            break
                    for i, (a, b) in enumerate(zip(nltk_words, ref_words)):
                        if a != b:
                            print("  word %d differs: nltk %r, ref %r (near %r)" % (i, a, b, nltk_words[max(0, i - 5):i + 5]))
                            break
    print("%d documents: sentences agree on %d, words agree on %d" % (docs, same_sentences, same_words))
    return 0 if same_sentences == docs and same_words == docs else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
