/* test_engine_wordtok.c — datatrove's English word tokenizer
 * (text/wordtok.h) against the outputs NLTK documents for word_tokenize and
 * sent_tokenize (its doctests: nltk/test/tokenize.doctest and the
 * nltk.tokenize module docstring), plus the punkt cases sluice's fixed
 * lists decide (abbreviations, initials, numbers) and inputs that must not
 * break it (invalid UTF-8, empty text, long runs).
 */
#include <stdlib.h>

#include "check.h"
#include "text/wordtok.h"

static sl_wordtok tok;
static sl_buf out;

/* The tokens of text joined by " | ". */
static const char *words(const char *text) {
    static sl_buf joined;
    out.len = 0;
    sl_wordtok_words(&tok, text, strlen(text), &out);
    sl_buf_free(&joined);
    for (size_t i = 0; i < out.len; i++) {
        if (out.data[i] == ' ') {
            if (i + 1 < out.len) sl_buf_puts(&joined, " | ");
        } else {
            sl_buf_putc(&joined, out.data[i]);
        }
    }
    return joined.data ? joined.data : "";
}

static size_t sentences(const char *text) {
    return sl_wordtok_sentences(text, strlen(text));
}

static void test_treebank_rules(void) {
    CHECK_STR(words("On a $50,000 mortgage of 30 years at 8 percent, the monthly payment would be $366.88."),
              "On | a | $ | 50,000 | mortgage | of | 30 | years | at | 8 | percent | , | the | monthly | payment | "
              "would | be | $ | 366.88 | .");
    CHECK_STR(words("\"We beat some pretty good teams to get here,\" Slocum said."),
              "`` | We | beat | some | pretty | good | teams | to | get | here | , | '' | Slocum | said | .");
    CHECK_STR(words("Well, we couldn't have this predictable, cliche-ridden, \"Touched by an Angel\" (a show "
                    "creator John Masius worked on) wanna-be if she didn't."),
              "Well | , | we | could | n't | have | this | predictable | , | cliche-ridden | , | `` | Touched | by | "
              "an | Angel | '' | ( | a | show | creator | John | Masius | worked | on | ) | wanna-be | if | she | "
              "did | n't | .");
    CHECK_STR(words("I cannot cannot work under these conditions!"),
              "I | can | not | can | not | work | under | these | conditions | !");
    CHECK_STR(words("The company spent 40.75% of its income last year."),
              "The | company | spent | 40.75 | % | of | its | income | last | year | .");
    CHECK_STR(words("He arrived at 3:00 pm."), "He | arrived | at | 3:00 | pm | .");
    CHECK_STR(words("I bought these items: books, pencils, and pens."),
              "I | bought | these | items | : | books | , | pencils | , | and | pens | .");
    CHECK_STR(words("Though there were 150, 100 of them were old."),
              "Though | there | were | 150 | , | 100 | of | them | were | old | .");
    CHECK_STR(words("There were 300,000, but that wasn't enough."),
              "There | were | 300,000 | , | but | that | was | n't | enough | .");
    CHECK_STR(words("It's more'n enough."), "It | 's | more | 'n | enough | .");
    CHECK_STR(words("\xc2\xabNow that I can do.\xc2\xbb"), "\xc2\xab | Now | that | I | can | do | . | \xc2\xbb");
    CHECK_STR(words("The unicode 201C and 201D \xe2\x80\x9cLEFT(RIGHT) DOUBLE QUOTATION MARK\xe2\x80\x9d is also "
                    "OPEN_PUNCT and CLOSE_PUNCT."),
              "The | unicode | 201C | and | 201D | \xe2\x80\x9c | LEFT | ( | RIGHT | ) | DOUBLE | QUOTATION | MARK | "
              "\xe2\x80\x9d | is | also | OPEN_PUNCT | and | CLOSE_PUNCT | .");
    /* a URL is cut at its ':'; symbol runs are one token per symbol */
    CHECK_STR(words("see https://example.com/a?b=1 now"), "see | https | : | //example.com/a | ? | b=1 | now");
    CHECK_STR(words("#tag @user $$ 50%"), "# | tag | @ | user | $ | $ | 50 | %");
    CHECK_STR(words("wait... what"), "wait | ... | what");
}

static void test_sentences(void) {
    /* only a sentence's final period is split off the word */
    CHECK_STR(words("Good muffins cost $3.88\nin New York.  Please buy me\ntwo of them.\n\nThanks."),
              "Good | muffins | cost | $ | 3.88 | in | New | York | . | Please | buy | me | two | of | them | . | "
              "Thanks | .");
    CHECK_INT((int)sentences("Good muffins cost $3.88\nin New York.  Please buy me\ntwo of them.\n\nThanks."),
              3);
    /* abbreviations and initials do not end sentences */
    CHECK_STR(words("Mr. Smith met Dr. Jones at 5 p.m. on Friday."),
              "Mr. | Smith | met | Dr. | Jones | at | 5 | p.m. | on | Friday | .");
    CHECK_STR(words("J. R. Tolkien wrote it."), "J. | R. | Tolkien | wrote | it | .");
    CHECK_INT((int)sentences("J. R. Tolkien wrote it."), 1);
    /* a number before a lower-case word does not end one; before a capital it does */
    CHECK_INT((int)sentences("It rose 5. percent. Then it fell."), 2);
    /* ? and ! end sentences; closing quotes and brackets stay with them */
    CHECK_INT((int)sentences("Really? Yes! \"Sure.\" (Fine.) Ok"), 5);
    CHECK_STR(words("He said \"yes.\" She left."), "He | said | `` | yes | . | '' | She | left | .");
    /* "etc." before a common sentence starter ends a sentence */
    CHECK_INT((int)sentences("Apples, pears etc. The rest went."), 2);
    CHECK_INT((int)sentences(""), 0);
    CHECK_INT((int)sentences(" \n "), 0);
}

static void test_hostile_input(void) {
    /* invalid UTF-8 is read as U+FFFD */
    CHECK_STR(words("a\xff" "b. c"), "a\xef\xbf\xbd" "b | . | c");
    CHECK_STR(words(""), "");
    /* long runs of punctuation and whitespace */
    char *big = malloc(200001);
    for (int i = 0; i < 200000; i++) big[i] = "._ \n!?\"'"[i % 9];
    big[200000] = 0;
    out.len = 0;
    CHECK(sl_wordtok_words(&tok, big, 200000, &out) > 0);
    memset(big, '.', 200000);
    out.len = 0;
    CHECK_INT((int)sl_wordtok_words(&tok, big, 200000, &out), 1);
    free(big);
}

int main(void) {
    RUN(test_treebank_rules);
    RUN(test_sentences);
    RUN(test_hostile_input);
    sl_wordtok_free(&tok);
    sl_buf_free(&out);
    return check_report();
}
