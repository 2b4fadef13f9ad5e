/* lexer.h — tokens of the expression language.
 *
 * The lexer turns the source into tokens one at a time (the parser needs one
 * token of lookahead). Each token records its byte offset so errors can point
 * at a column. Literals are decoded here: numbers into values, strings with
 * JSON escapes into arena memory, and whole field paths (".a.b[0].\"x y\"")
 * into one PATH token, because a path is written without spaces and its
 * segments ("0", "in") would otherwise lex as numbers and keywords.
 */
#ifndef SL_EXPR_LEXER_H
#define SL_EXPR_LEXER_H

#include <stddef.h>

#include "internal.h"

typedef enum {
    T_EOF, T_INT, T_FLOAT, T_STRING, T_IDENT, T_PATH,
    T_LPAREN, T_RPAREN, T_LBRACKET, T_RBRACKET, T_COMMA,
    T_OR, T_AND, T_NOT,
    T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE,
    T_PLUS, T_MINUS, T_STAR, T_SLASH, T_PERCENT,
    T_ERROR,
} sl_token_type;

typedef struct sl_token {
    sl_token_type type;
    size_t off, len;         /* where the token is in the source */
    sl_value value;          /* T_INT (int or uint), T_FLOAT, T_STRING */
    sl_path path;            /* T_PATH */
} sl_token;

typedef struct sl_lexer {
    const char *src;
    size_t len, pos;
    sl_arena *arena;         /* decoded strings and path steps */
    sl_error err;            /* T_ERROR: the message */
    size_t err_off;          /* T_ERROR: where */
} sl_lexer;

void sl_lexer_init(sl_lexer *lx, const char *src, size_t len, sl_arena *a);
/* Reads the next token; T_ERROR sets lx->err and lx->err_off. */
sl_token sl_lexer_next(sl_lexer *lx);
/* How a token is named in messages: "')'", "'foo'", "end of expression". */
void sl_token_describe(const sl_lexer *lx, const sl_token *t, char out[64]);

/* Decodes a '"'-quoted string with JSON escapes starting at src[*off] (the
 * opening quote) into arena memory; advances *off past the closing quote.
 * Returns -1 with err and *err_off on a bad escape or a missing quote. */
int sl_lex_string(const char *src, size_t len, size_t *off, sl_arena *a,
                  const char **out, size_t *out_len, sl_error *err, size_t *err_off);

#endif
