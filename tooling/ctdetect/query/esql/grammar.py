"""The ES|QL grammar (lark, LALR), written from Elastic's ES|QL reference.

Why a grammar of our own: Elastic's parser is ANTLR inside Elasticsearch, and its only
offline checker is a live cluster. This grammar covers what the reference documents for
queries a detection rule or a hunt writes: the source commands ``FROM ... METADATA``,
``ROW``, ``SHOW``, ``TS``; the processing commands ``WHERE EVAL STATS INLINESTATS (INLINE
STATS) KEEP DROP RENAME SORT LIMIT MV_EXPAND DISSECT GROK ENRICH LOOKUP JOIN CHANGE_POINT
SAMPLE FORK COMPLETION``; ``//`` and ``/* */`` comments; ``"..."`` and ``\"\"\"...\"\"\"`` strings;
timespan literals (``10 seconds``); named and positional parameters (``?``, ``?1``,
``?name``, ``??name``); ``::`` casts; the ``:`` match operator; and function calls such as
``KQL()``, ``MATCH()``, ``QSTR()``.

Keywords are case-insensitive words; they carry a higher priority than names and must end
at a word boundary, so ``is_assume`` or ``index_name`` stay names. The contextual lexer
only offers the terminals the parser can accept at each point, which is what lets index
patterns (``logs-aws.cloudtrail-*``) and ``KEEP`` patterns (``Esql.*``) be lexed as units.
"""

from __future__ import annotations

_KEYWORDS = (
    "FROM ROW SHOW TS METADATA WHERE EVAL STATS INLINESTATS INLINE KEEP DROP RENAME SORT LIMIT MV_EXPAND "
    "DISSECT GROK ENRICH LOOKUP JOIN CHANGE_POINT SAMPLE FORK COMPLETION BY AS ON WITH ASC DESC NULLS FIRST LAST "
    "AND OR NOT IS NULL IN LIKE RLIKE TRUE FALSE"
).split()

_KEYWORD_TERMINALS = "\n".join(f"{kw}.2: /{kw.lower()}(?![A-Za-z0-9_@])/i" for kw in _KEYWORDS)

GRAMMAR = r"""
start: source_command ("|" processing_command)*

?source_command: from_cmd | row_cmd | show_cmd | ts_cmd
from_cmd: FROM index_list metadata?
ts_cmd: TS index_list metadata?
index_list: index_pattern ("," index_pattern)*
index_pattern: INDEX_PATTERN | string
metadata: METADATA qname ("," qname)*
row_cmd: ROW field_list
show_cmd: SHOW QNAME

?processing_command: where_cmd | eval_cmd | stats_cmd | inlinestats_cmd | keep_cmd | drop_cmd
    | rename_cmd | sort_cmd | limit_cmd | mv_expand_cmd | dissect_cmd | grok_cmd | enrich_cmd
    | lookup_join_cmd | change_point_cmd | sample_cmd | fork_cmd | completion_cmd

where_cmd: WHERE expr
eval_cmd: EVAL field_list
stats_cmd: STATS agg_list? by_clause?
inlinestats_cmd: (INLINESTATS | INLINE STATS) agg_list? by_clause?
agg_list: agg_field ("," agg_field)*
agg_field: field (WHERE expr)?
by_clause: BY field_list
field_list: field ("," field)*
field: qname "=" expr -> named_field
     | expr -> unnamed_field
keep_cmd: KEEP pattern_list
drop_cmd: DROP pattern_list
pattern_list: pattern ("," pattern)*
pattern: ID_PATTERN | param
rename_cmd: RENAME rename_clause ("," rename_clause)*
rename_clause: pattern AS pattern -> rename_as
             | pattern "=" pattern -> rename_assign
sort_cmd: SORT order ("," order)*
order: expr ordering? nulls?
ordering: ASC | DESC
nulls: NULLS (FIRST | LAST)
limit_cmd: LIMIT (INT | param)
mv_expand_cmd: MV_EXPAND qname
dissect_cmd: DISSECT primary string command_option*
command_option: QNAME "=" constant
grok_cmd: GROK primary string ("," string)*
enrich_cmd: ENRICH ENRICH_POLICY (ON qname)? (WITH enrich_field ("," enrich_field)*)?
enrich_field: (qname "=")? qname
lookup_join_cmd: LOOKUP JOIN index_pattern ON expr ("," expr)*
change_point_cmd: CHANGE_POINT qname (ON qname)? (AS qname "," qname)?
sample_cmd: SAMPLE number
completion_cmd: COMPLETION (qname "=")? primary WITH (map_expr | qname) (AS qname)?
fork_cmd: FORK fork_branch+
fork_branch: "(" processing_command ("|" processing_command)* ")"

?expr: expr OR expr_and -> or_expr
     | expr_and
?expr_and: expr_and AND expr_not -> and_expr
     | expr_not
?expr_not: NOT expr_not -> not_expr
     | predicate
?predicate: value IS NULL -> is_null
     | value IS NOT NULL -> is_not_null
     | value IN "(" expr_list ")" -> in_expr
     | value NOT IN "(" expr_list ")" -> not_in_expr
     | value LIKE like_patterns -> like_expr
     | value NOT LIKE like_patterns -> not_like_expr
     | value RLIKE like_patterns -> rlike_expr
     | value NOT RLIKE like_patterns -> not_rlike_expr
     | value COMP_OP value -> compare
     | value ":" value -> match_op
     | value
like_patterns: string | param | "(" string ("," string)* ")"
expr_list: expr ("," expr)*
?value: value ADD_OP term -> arith
      | term
?term: term MUL_OP factor -> arith
     | factor
?factor: ADD_OP factor -> unary
       | cast
?cast: cast "::" QNAME -> cast
     | primary
?primary: constant
        | qname -> field_ref
        | function_call
        | "(" expr ")"
        | map_expr
function_call: QNAME "(" (STAR | call_args)? ")"
call_args: expr ("," expr)*
map_expr: "{" (map_entry ("," map_entry)*)? "}"
map_entry: string ":" expr
?constant: NULL -> null_lit
         | TRUE -> true_lit
         | FALSE -> false_lit
         | number
         | number QNAME -> timespan
         | string
         | param
         | "[" (constant ("," constant)*)? "]" -> list_lit
number: INT | DECIMAL
string: TRIPLE_STRING | STRING
param: PARAM
qname: QNAME

STAR: "*"
COMP_OP: "==" | "!=" | "<=" | ">=" | "<" | ">" | "=~"
ADD_OP: "+" | "-"
MUL_OP: "*" | "/" | "%"
INT: /[0-9]+/
DECIMAL: /[0-9]+\.[0-9]*([eE][+-]?[0-9]+)?|\.[0-9]+([eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+/
TRIPLE_STRING.3: /"{3}(.|\n)*?"{3}/
STRING: /"(\\.|[^"\\\n])*"/
PARAM: /\?\??[A-Za-z0-9_]*/
QNAME: /(@?[A-Za-z_][A-Za-z0-9_@]*|`([^`]|``)+`)(\.([A-Za-z0-9_@]+|`([^`]|``)+`))*/
ID_PATTERN: /(@?[A-Za-z_*][A-Za-z0-9_@*]*|`([^`]|``)+`)(\.([A-Za-z0-9_@*]+|`([^`]|``)+`))*/
INDEX_PATTERN: /[A-Za-z0-9_.*\-:<>+\/@]+/
ENRICH_POLICY: /[A-Za-z0-9_.*\-:]+/
LINE_COMMENT: /\/\/[^\n]*/
BLOCK_COMMENT: /\/\*(.|\n)*?\*\//
%import common.WS
%ignore WS
%ignore LINE_COMMENT
%ignore BLOCK_COMMENT
""" + _KEYWORD_TERMINALS + "\n"
