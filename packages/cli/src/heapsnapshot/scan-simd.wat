;; The hot loops of the download's check (verify-stream.ts), sixteen bytes at a time in
;; WebAssembly SIMD: counting a flat JSON array of integers (a heap snapshot's `edges`,
;; for FlatArrayCounter in skip.ts) and passing over its `strings` (StringArrayReader in
;; strings.ts). The caller copies the bytes into this module's memory and reads, in
;; JavaScript and byte by byte, every block these stop at: that is where all errors are
;; worded, and where anything these do not know is judged. So they take only what they
;; can vouch for, in the layouts V8 writes, and a block they stop at is never an error
;; in itself.
;;
;; Built into scan-simd.wasm.ts by scripts/build-wasm.mjs.
(module
  ;; One page (64 KiB): the caller copies at most that much at a time.
  (memory (export "memory") 1)
  ;; countNumbers: a block is taken when every byte is a digit, a comma or a line feed
  ;; (all V8 writes there), no two line feeds are adjacent, no number is missing (a comma
  ;; whose last mark before it, across line feeds and blocks, is a comma too, or which
  ;; comes first), and its commas keep the count below the limit.

  ;; Commas counted so far.
  (global $commas (export "commas") (mut i32) (i32.const 0))
  ;; 1 while the last digit or comma seen was a comma, or none was seen yet: a number must come next.
  (global $afterComma (export "afterComma") (mut i32) (i32.const 1))
  ;; 1 once a digit was seen.
  (global $anyDigit (export "anyDigit") (mut i32) (i32.const 0))

  ;; Takes the blocks of memory[from, to) from `from` for as long as they qualify, with
  ;; fewer than `limit` commas in all; returns where it stopped.
  (func (export "countNumbers") (param $from i32) (param $to i32) (param $limit i32) (result i32)
    (local $i i32)
    (local $v v128)
    (local $digits i32)
    (local $commas i32)
    (local $lineFeeds i32)
    (local $marks i32)
    (local $after i32)
    (local $total i32)
    (local.set $i (local.get $from))
    (local.set $after (global.get $afterComma))
    (local.set $total (global.get $commas))
    (block $stop
      (loop $block
        (br_if $stop (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $to)))
        (local.set $v (v128.load (local.get $i)))
        ;; Bit k of each mask stands for byte k of the block.
        (local.set $digits
          (i8x16.bitmask
            (i8x16.lt_u
              (i8x16.sub (local.get $v) (v128.const i8x16 48 48 48 48 48 48 48 48 48 48 48 48 48 48 48 48))
              (v128.const i8x16 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10))))
        (local.set $commas
          (i8x16.bitmask (i8x16.eq (local.get $v) (v128.const i8x16 44 44 44 44 44 44 44 44 44 44 44 44 44 44 44 44))))
        (local.set $lineFeeds
          (i8x16.bitmask (i8x16.eq (local.get $v) (v128.const i8x16 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10))))
        (local.set $marks (i32.or (local.get $digits) (local.get $commas)))
        ;; Only digits, commas and line feeds, never two line feeds in a row.
        (br_if $stop (i32.ne (i32.or (local.get $marks) (local.get $lineFeeds)) (i32.const 0xffff)))
        (br_if $stop (i32.and (local.get $lineFeeds) (i32.shl (local.get $lineFeeds) (i32.const 1))))
        ;; A comma whose last mark is a comma: the byte before it is one, or is a line feed
        ;; with one (or, at the block's start, the carried state) before that.
        (br_if $stop
          (i32.and
            (local.get $commas)
            (i32.or
              (i32.or (i32.shl (local.get $commas) (i32.const 1)) (local.get $after))
              (i32.and
                (i32.shl (local.get $lineFeeds) (i32.const 1))
                (i32.or (i32.shl (local.get $commas) (i32.const 2)) (i32.shl (local.get $after) (i32.const 1)))))))
        (br_if $stop (i32.ge_u (i32.add (local.get $total) (i32.popcnt (local.get $commas))) (local.get $limit)))
        (local.set $total (i32.add (local.get $total) (i32.popcnt (local.get $commas))))
        (if (local.get $digits) (then (global.set $anyDigit (i32.const 1))))
        ;; The block's last mark decides what must come next; a block of line feeds only cannot pass the checks above.
        (local.set $after
          (i32.and
            (i32.shr_u (local.get $commas) (i32.sub (i32.const 31) (i32.clz (local.get $marks))))
            (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $block)))
    (global.set $afterComma (local.get $after))
    (global.set $commas (local.get $total))
    (local.get $i))

  ;; passStrings: a block is taken when it holds no backslash, no control character
  ;; inside a string, and between strings only what V8 writes there: a comma right after
  ;; each closing quote, then at most one line feed, then the next opening quote. The
  ;; closing bracket, an escape, whitespace anywhere else, a first string: all are left
  ;; to the caller.

  ;; Where the last block ended: 1 inside a string, 2 right after its closing quote, 3
  ;; right after the comma that follows one, 4 right after the line feed after that comma.
  (global $place (export "place") (mut i32) (i32.const 1))
  ;; Strings closed so far.
  (global $strings (export "strings") (mut i32) (i32.const 0))

  ;; Takes the blocks of memory[from, to) from `from` for as long as they qualify; returns
  ;; where it stopped.
  (func (export "passStrings") (param $from i32) (param $to i32) (result i32)
    (local $i i32)
    (local $v v128)
    (local $quotes i32)
    (local $commas i32)
    (local $lineFeeds i32)
    (local $inside i32)
    (local $opening i32)
    (local $closing i32)
    (local $place i32)
    (local $count i32)
    (local $x i32)
    (local.set $i (local.get $from))
    (local.set $place (global.get $place))
    (local.set $count (global.get $strings))
    (block $stop
      (loop $block
        (br_if $stop (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $to)))
        (local.set $v (v128.load (local.get $i)))
        ;; No backslash anywhere.
        (br_if $stop (v128.any_true (i8x16.eq (local.get $v) (v128.const i8x16 92 92 92 92 92 92 92 92 92 92 92 92 92 92 92 92))))
        (local.set $quotes (i8x16.bitmask (i8x16.eq (local.get $v) (v128.const i8x16 34 34 34 34 34 34 34 34 34 34 34 34 34 34 34 34))))
        (local.set $commas (i8x16.bitmask (i8x16.eq (local.get $v) (v128.const i8x16 44 44 44 44 44 44 44 44 44 44 44 44 44 44 44 44))))
        (local.set $lineFeeds (i8x16.bitmask (i8x16.eq (local.get $v) (v128.const i8x16 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10))))
        ;; Bit k of $inside: byte k is in a string (its closing quote included): the quotes
        ;; before it, and whether the block began in one, are odd.
        (local.set $x (local.get $quotes))
        (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 1))))
        (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 2))))
        (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 4))))
        (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 8))))
        (local.set $inside
          (i32.and
            (i32.xor (i32.shl (local.get $x) (i32.const 1)) (select (i32.const 0xffff) (i32.const 0) (i32.eq (local.get $place) (i32.const 1))))
            (i32.const 0xffff)))
        (local.set $closing (i32.and (local.get $quotes) (local.get $inside)))
        (local.set $opening (i32.and (local.get $quotes) (i32.xor (local.get $inside) (i32.const 0xffff))))
        ;; No control character inside a string (unsigned: below a space).
        (br_if $stop
          (i32.and
            (i8x16.bitmask (i8x16.lt_u (local.get $v) (v128.const i8x16 32 32 32 32 32 32 32 32 32 32 32 32 32 32 32 32)))
            (i32.and (local.get $inside) (i32.xor (local.get $quotes) (i32.const 0xffff)))))
        ;; Between strings, only commas and line feeds.
        (br_if $stop
          (i32.and
            (i32.xor (i32.or (local.get $inside) (local.get $quotes)) (i32.const 0xffff))
            (i32.xor (i32.or (local.get $commas) (local.get $lineFeeds)) (i32.const 0xffff))))
        ;; Each comma right after a closing quote, each line feed right after a comma, each
        ;; opening quote right after a comma or a line feed (bit 0: what the last block ended with).
        (br_if $stop
          (i32.and (local.get $commas)
            (i32.xor (i32.or (i32.shl (local.get $closing) (i32.const 1)) (i32.eq (local.get $place) (i32.const 2))) (i32.const 0xffff))))
        (br_if $stop
          (i32.and (local.get $lineFeeds)
            (i32.xor (i32.or (i32.shl (local.get $commas) (i32.const 1)) (i32.eq (local.get $place) (i32.const 3))) (i32.const 0xffff))))
        (br_if $stop
          (i32.and (local.get $opening)
            (i32.xor
              (i32.or
                (i32.shl (i32.or (local.get $commas) (local.get $lineFeeds)) (i32.const 1))
                (i32.or (i32.eq (local.get $place) (i32.const 3)) (i32.eq (local.get $place) (i32.const 4))))
              (i32.const 0xffff))))
        ;; And the other way: after each closing quote a comma, after each comma a line feed
        ;; or an opening quote, after each line feed an opening quote (bit 15's follower is
        ;; the next block's bit 0, checked there through $place).
        (br_if $stop
          (i32.and (i32.and (i32.shl (local.get $closing) (i32.const 1)) (i32.const 0xffff)) (i32.xor (local.get $commas) (i32.const 0xffff))))
        (br_if $stop
          (i32.and (i32.and (i32.shl (local.get $commas) (i32.const 1)) (i32.const 0xffff))
            (i32.xor (i32.or (local.get $lineFeeds) (local.get $opening)) (i32.const 0xffff))))
        (br_if $stop
          (i32.and (i32.and (i32.shl (local.get $lineFeeds) (i32.const 1)) (i32.const 0xffff)) (i32.xor (local.get $opening) (i32.const 0xffff))))
        (br_if $stop (i32.and (i32.eq (local.get $place) (i32.const 2)) (i32.eqz (i32.and (local.get $commas) (i32.const 1)))))
        (br_if $stop
          (i32.and (i32.eq (local.get $place) (i32.const 3)) (i32.eqz (i32.and (i32.or (local.get $lineFeeds) (local.get $opening)) (i32.const 1)))))
        (br_if $stop (i32.and (i32.eq (local.get $place) (i32.const 4)) (i32.eqz (i32.and (local.get $opening) (i32.const 1)))))
        (local.set $count (i32.add (local.get $count) (i32.popcnt (local.get $closing))))
        ;; Where this block ends: byte 15 in a string and not its closing quote, or else what it is.
        (local.set $place
          (if (result i32) (i32.and (i32.and (local.get $inside) (i32.xor (local.get $closing) (i32.const 0xffff))) (i32.const 0x8000))
            (then (i32.const 1))
            (else
              (if (result i32) (i32.and (local.get $opening) (i32.const 0x8000))
                (then (i32.const 1))
                (else
                  (if (result i32) (i32.and (local.get $closing) (i32.const 0x8000))
                    (then (i32.const 2))
                    (else (select (i32.const 3) (i32.const 4) (i32.and (local.get $commas) (i32.const 0x8000))))))))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $block)))
    (global.set $place (local.get $place))
    (global.set $strings (local.get $count))
    (local.get $i)))
