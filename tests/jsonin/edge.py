#!/usr/bin/env python3
# edge.py -- writes edge.jsonl: inputs for tests/unit/test_jsonin.c, one
# per line, as raw bytes (invalid UTF-8, control characters, deep nesting
# included), valid and invalid alike: the test only asks that
# core_json_parse and json_loadb agree on each.  Edit here, rerun.
lines = [
 b'{}', b'[]', b' { } ', b'\t[ ]\r', b'{"a":1}', b'{"a":1,"b":2,"a":3}', b'{"a":{"a":{"a":[]}}}',
 b'"text"', b'1', b'true', b'null', b'', b'   ', b'{', b'}', b'[', b'{"a"}', b'{"a":}', b'{"a" 1}',
 b'{"a":1,}', b'[1,]', b'[,1]', b'{,}', b'[1 2]', b'{"a":1}{}', b'{"a":1} x', b'{"a":1}   ',
 b'{1:2}', b"{'a':1}", b'{"a":tru}', b'{"a":truex}', b'{"a":nul}', b'{"a":falsey}', b'[true,false,null]',
 b'[0]', b'[-0]', b'[01]', b'[-01]', b'[-]', b'[1.]', b'[.5]', b'[1.5]', b'[1e5]', b'[1E+5]', b'[1e-5]',
 b'[1e]', b'[1e+]', b'[+1]', b'[0x10]', b'[1.0e400]', b'[-1e400]', b'[1e-400]', b'[123456789012345678901234567890]',
 b'[9223372036854775807]', b'[9223372036854775808]', b'[-9223372036854775808]', b'[-9223372036854775809]',
 b'[0.1,0.30000000000000004,3.141592653589793,1e22,5e-324]', b'[-0.0]', b'[Infinity]', b'[NaN]',
 b'["\\u0041\\u00e9\\u20ac\\ud83d\\ude00"]', b'["\\uD83D\\uDE00"]', b'["\\ud83d"]', b'["\\ud83dx"]',
 b'["\\ude00"]', b'["\\ud83d\\u0041"]', b'["\\u0000"]', b'{"\\u0000":1}', b'["a\\u0000b"]', b'["\\u00"]', b'["\\uzzzz"]',
 b'["\\x41"]', b'["\\a"]', b'["\\"\\\\\\/\\b\\f\\n\\r\\t"]', b'["\\', b'["abc', b'["abc\\"]', b'["a\tb"]', b'["a\rb"]',
 b'["a\x01b"]', b'["a\x7fb"]', b'["a\x00b"]', b'{"k\\ney":"v\\"al"}', b'{"k\\u00e9y":1,"k\\u00e9y":2}',
 '["caf\u00e9 \u2603 \U0001F600"]'.encode(), b'["\xc3"]', b'["\xc3\x28"]', b'["\xe2\x82"]', b'["\xff"]', b'["\xc0\xaf"]',
 b'["\xe0\x80\xaf"]', b'["\xed\xa0\x80"]', b'["\xf4\x90\x80\x80"]', b'["\xf0\x9f\x98\x80"]', b'["\xf5\x80\x80\x80"]',
 b'{"\xff":1}', b'[1]\xff', b'\xef\xbb\xbf{}', b'[\xc3\xa9]', b'["ok", \xff]', b'["a\xffb", ]',
 b'{"contextId":"c","log":{"ref":"thought","id":"t","content":"\xe9t\xe9"}}',
 b'[' * 2047 + b']' * 2047, b'[' * 2048 + b']' * 2048, b'[' * 2049 + b']' * 2049,
 b'[' * 2047 + b'1' + b']' * 2047, b'[' * 2048 + b'1' + b']' * 2048,
 b'{"a":' * 2047 + b'{}' + b'}' * 2047, b'{"a":' * 2048 + b'{}' + b'}' * 2048,
 b'["' + b'x' * 9000 + b'\\n' + b'y' * 9000 + b'"]',
 b'{"' + b'k' * 5000 + b'\\t":"' + b'v\\"' * 3000 + b'"}',
 b'[1,2,3', b'{"a":[1,2,{"b":null}]', b'{"a":"b"', b'{"a":"b",',
 # for the serialiser: escapes back out, control characters, reals, integers
 b'["\\u0001\\u001f\\u007f\\b\\f\\n\\r\\t\\"\\\\/"]', b'{"k\\"ey":"v\\u00e9"}',
 b'[1.5,-0.0,1e300,1e-300,0.1,100.0,3.0,123456789012345.6,2.5e-7]',
 b'[0,-1,9223372036854775807,-9223372036854775808,42]',
 b'{"a":[],"b":{},"c":[{}],"d":[[[]]]}',
]
with open('edge.jsonl', 'wb') as f:
    for l in lines:
        assert b'\n' not in l
        f.write(l + b'\n')
