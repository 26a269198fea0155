#!/bin/sh
# SPDX-License-Identifier: MIT
#
# test_flow.sh - the control flow of the scenario language
# (doc/SCENARIOS.md, "Control flow"): repeat, for, $NAME / ${NAME},
# param and -D NAME=VALUE, include.  Errors name the FILE:LINE of the line
# that has them - inside a loop body or an included file - and a syntax
# error exits 2.  Usage: test_flow.sh PATH/TO/pinmm.  Prints TAP.

PINMM=${1:?usage: test_flow.sh PATH/TO/pinmm}
TAP_NAME=flow
. "$(dirname "$0")/tap_lib.sh"
# The runs below start in the scratch directory.
RUN_DIR=$TMP

# ---- repeat, for, parameters --------------------------------------------------
script loops.pinmm <<'S'
param WORDS a b c
let n = 0
repeat 4 {
  let n = n+1
}
expect n == 4
let k = 0
repeat 2 {
  for W in $WORDS {
    let k = k+1
    echo "word ${W}x $W"
  }
}
expect k == 6
repeat 0 {
  expect 1 == 2
}
S
run 0 "repeat and for, nested" run loops.pinmm
count out "word ax a" 2 "for: \$V and \${V} expand, twice through repeat 2"
has out "word cx c" "for: the last word is reached"
run 1 "-D overrides a param's default" run -D WORDS=x loops.pinmm
has err "loops.pinmm:14: expectation failed: expect k == 6" "-D: the failed expectation names its line"
run 0 "-DNAME=VALUE in one word, several words in VALUE" run "-DWORDS=p q r" loops.pinmm
run 2 "-D without NAME=" run -D WORDS loops.pinmm
has err "NAME=VALUE" "-D without '=' is a usage error"
run 2 "-D with a bad NAME" run -D 9X=1 loops.pinmm

script param2.pinmm <<'S'
param SIZE 8K
param SIZE 16K
S
run 2 "a parameter defined twice" run param2.pinmm
has err "param2.pinmm:2: syntax error: parameter SIZE already defined at param2.pinmm:1" \
	"param twice names both lines"

# ---- include --------------------------------------------------------------------
script sub/inner.pinmm <<'S'
# inner
let hits = hits+1
echo "inner $TAG"
S
script sub/outer.pinmm <<'S'
include inner.pinmm
include "inner.pinmm"
S
script top.pinmm <<'S'
let hits = 0
for TAG in one two {
  include sub/outer.pinmm
}
expect hits == 4
S
run 0 "include, relative to the including file, inside a loop" run top.pinmm
count out "inner two" 2 "an included file sees the loop variable"

script sub/bad.pinmm <<'S'
echo fine
nosuchcommand 1
S
script incbad.pinmm <<'S'
repeat 3 {
  include sub/bad.pinmm
}
S
run 2 "a syntax error in an included file" run incbad.pinmm
has err "sub/bad.pinmm:2: syntax error: unknown command 'nosuchcommand'" \
	"the error names the included file and its line"
count err "nosuchcommand" 1 "a bad line repeated by a loop is reported once"

script sub/fails.pinmm <<'S'
expect 1 == 2
S
script incfail.pinmm <<'S'
for I in 1 2 {
  include sub/fails.pinmm
}
S
run 1 "a failed expectation in an included file" run incfail.pinmm
count err "sub/fails.pinmm:1: expectation failed" 2 "each iteration's failure names the included line"

script rt.pinmm <<'S'
boot ram=64M
proc P
repeat 2 {
  munmap 0x1 4096
}
S
run 1 "a runtime error in a loop body" run rt.pinmm
has err "rt.pinmm:4: munmap: EINVAL" "the runtime error names the body's line"

script cyc_a.pinmm <<'S'
echo ran_a
include cyc_b.pinmm
S
script cyc_b.pinmm <<'S'
include cyc_a.pinmm
S
run 2 "an include cycle" run cyc_a.pinmm
has err "cyc_b.pinmm:1: syntax error: include cycle" "the cycle names the include that closes it"
hasnt out "ran_a" "nothing ran"
script self.pinmm <<'S'
include self.pinmm
S
run 2 "a file including itself" run self.pinmm
has err "self.pinmm:1: syntax error: include cycle" "self include names FILE:LINE"
script missing.pinmm <<'S'
echo x
include nothere.pinmm
S
run 2 "include of a missing file" run missing.pinmm
has err "missing.pinmm:2: syntax error: include nothere.pinmm" "a missing include names FILE:LINE"

script devzero.pinmm <<'S'
include /dev/zero
S
run 2 "include of a device" run devzero.pinmm
has err "devzero.pinmm:1: syntax error: include /dev/zero: not a regular file" "only regular files are included"
head -c 5000000 /dev/zero | tr '\0' '#' >"$TMP/big.pinmm"
run 2 "a script over 4 MiB" run big.pinmm
has err "File too large" "a script over 4 MiB is refused, not read without bound"

# ---- syntax errors --------------------------------------------------------------
script open.pinmm <<'S'
echo x
repeat 2 {
  echo y
S
run 2 "an unclosed block" run open.pinmm
has err "open.pinmm:2: syntax error: '{' is never closed" "unclosed block names its line"
script close.pinmm <<'S'
echo x
}
S
run 2 "a stray '}'" run close.pinmm
has err "close.pinmm:2: syntax error: '}' without a block" "stray } names its line"
script undef.pinmm <<'S'
for V in a {
  echo $V $NOPE
}
S
run 2 "an undefined parameter" run undef.pinmm
has err "undef.pinmm:2: syntax error: undefined parameter '\$NOPE'" "undefined \$NAME names its line"
script badrep.pinmm <<'S'
repeat -1 {
}
repeat x {
}
repeat 2 {
}
for 9 in a {
}
for V a b {
}
repeat 2
S
run 2 "bad repeat and for headers" run badrep.pinmm
has err "badrep.pinmm:1: syntax error: repeat count -1" "negative count"
has err "badrep.pinmm:3: syntax error:" "a count that is no number"
has err "badrep.pinmm:7: syntax error: '9' is not a NAME" "a loop variable that is no NAME"
has err "badrep.pinmm:9: syntax error: usage: for NAME in WORD..." "for without 'in'"
has err "badrep.pinmm:11: syntax error: usage: repeat COUNT {" "repeat without '{'"
hasnt err "badrep.pinmm:5" "a good block is not an error"
script huge.pinmm <<'S'
repeat 1000 {
  repeat 1000 {
    echo x
  }
}
S
run 2 "a script expanding to a million lines is refused" run huge.pinmm
has err "huge.pinmm:3: syntax error: the script expands to more than" "the expansion limit names a line"

# ---- $SCRATCH --------------------------------------------------------------------
script scratch.pinmm <<'S'
boot ram=64M pinfs.image=$SCRATCH/img pinfs.size=4M
proc P
open /data/f rdwr,creat -> F
pwrite F 0 "kept"
fsync F
shutdown
boot pinfs.image=${SCRATCH}/img
proc Q
open /data/f rdonly -> G
expect file G 0 == "kept"
echo "dir $SCRATCH"
S
run 0 "\$SCRATCH: an image that survives a remount" run scratch.pinmm
dir=$(sed -n 's/^dir //p' "$TMP/out")
[ -n "$dir" ] && [ ! -e "$dir" ]
ok $? "\$SCRATCH is removed when the script ends ($dir)"

tap_done
