/**
 * WebAssembly SIMD kernels that run on the wasm backend's own heap (they import its memory),
 * for the elementwise and per-channel loops of a training step that tfjs-backend-wasm runs as
 * several kernels or that Pollard ran as JavaScript loops. Compiled at start-up by wabt
 * (simd-kernels.ts). All pointers are byte offsets into that heap; every loop is over 4 floats
 * (one v128) at a time.
 *
 * Channels-last data [rows, C] is read in chunks of 4 rows: 4·C floats, that is C vectors,
 * where vector k of a chunk holds the floats 4k…4k+3 of the chunk, of channels (4k + j) mod C.
 * A per-channel coefficient is passed as a "pattern": its values tiled 4 times (4·C floats),
 * so vector k of the pattern lines up with vector k of every chunk, whatever C is. Rows past
 * the last whole chunk (at most 3) are left to the caller.
 */
export const KERNELS_WAT = String.raw`
(module
  (import "env" "memory" (memory 1))

  ;; out = dy · step(x), step(x) = 1 where x > 0, 0 where x ≤ 0, NaN where x is NaN (as
  ;; tfjs's Relu gradient, dy · cast(step(x))); n floats.
  (func (export "relu_grad") (param $dy i32) (param $x i32) (param $out i32) (param $n i32)
    (local $i i32) (local $end i32) (local $vend i32) (local $xv v128) (local $st v128) (local $xs f32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vend (i32.and (local.get $end) (i32.const -16)))
    (block $vdone (loop $v
      (br_if $vdone (i32.ge_u (local.get $i) (local.get $vend)))
      (local.set $xv (v128.load (i32.add (local.get $x) (local.get $i))))
      (local.set $st (v128.and (v128.const f32x4 1 1 1 1) (f32x4.gt (local.get $xv) (v128.const f32x4 0 0 0 0))))
      (local.set $st (v128.bitselect (local.get $xv) (local.get $st) (f32x4.ne (local.get $xv) (local.get $xv))))
      (v128.store (i32.add (local.get $out) (local.get $i))
        (f32x4.mul (v128.load (i32.add (local.get $dy) (local.get $i))) (local.get $st)))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $v)))
    (block $done (loop $s
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $xs (f32.load (i32.add (local.get $x) (local.get $i))))
      (f32.store (i32.add (local.get $out) (local.get $i))
        (f32.mul (f32.load (i32.add (local.get $dy) (local.get $i)))
          (select (f32.const 1)
            (select (local.get $xs) (f32.const 0) (f32.ne (local.get $xs) (local.get $xs)))
            (f32.gt (local.get $xs) (f32.const 0)))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $s))))

  ;; Adds the f32 pattern at $p32 (4·vecs floats) into the f64 pattern at $p64 and zeroes it.
  (func $fold (param $p32 i32) (param $p64 i32) (param $vecs i32)
    (local $j i32) (local $lanes i32)
    (local.set $lanes (i32.shl (local.get $vecs) (i32.const 2)))
    (block $done (loop $f
      (br_if $done (i32.ge_u (local.get $j) (local.get $lanes)))
      (f64.store (local.get $p64)
        (f64.add (f64.load (local.get $p64)) (f64.promote_f32 (f32.load (local.get $p32)))))
      (f32.store (local.get $p32) (f32.const 0))
      (local.set $p32 (i32.add (local.get $p32) (i32.const 4)))
      (local.set $p64 (i32.add (local.get $p64) (i32.const 8)))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $f))))

  ;; Over $chunks chunks of 4 rows of C = $vecs channels: the pattern sums
  ;;   s64 += Σ a,   p64 += Σ a·(b − m)          (m: a pattern; pass zeros for Σ a·b)
  ;; accumulated in float32 (the zeroed patterns s32, p32) for 32 chunks at a time, then
  ;; added into the float64 patterns s64, p64, so that no float32 sum runs over more than
  ;; 32 terms. The caller folds the 4 lanes of each channel.
  (func (export "channel_sums")
    (param $a i32) (param $b i32) (param $m i32) (param $chunks i32) (param $vecs i32)
    (param $s32 i32) (param $p32 i32) (param $s64 i32) (param $p64 i32)
    (local $chunk i32) (local $blockEnd i32) (local $k i32) (local $off i32) (local $av v128)
    (block $done (loop $blocks
      (br_if $done (i32.ge_u (local.get $chunk) (local.get $chunks)))
      (local.set $blockEnd (i32.add (local.get $chunk) (i32.const 32)))
      (if (i32.gt_u (local.get $blockEnd) (local.get $chunks))
        (then (local.set $blockEnd (local.get $chunks))))
      (block $bdone (loop $rows
        (br_if $bdone (i32.ge_u (local.get $chunk) (local.get $blockEnd)))
        (local.set $k (i32.const 0))
        (block $kdone (loop $vec
          (br_if $kdone (i32.ge_u (local.get $k) (local.get $vecs)))
          (local.set $off (i32.shl (local.get $k) (i32.const 4)))
          (local.set $av (v128.load (local.get $a)))
          (v128.store (i32.add (local.get $s32) (local.get $off))
            (f32x4.add (v128.load (i32.add (local.get $s32) (local.get $off))) (local.get $av)))
          (v128.store (i32.add (local.get $p32) (local.get $off))
            (f32x4.add (v128.load (i32.add (local.get $p32) (local.get $off)))
              (f32x4.mul (local.get $av)
                (f32x4.sub (v128.load (local.get $b)) (v128.load (i32.add (local.get $m) (local.get $off)))))))
          (local.set $a (i32.add (local.get $a) (i32.const 16)))
          (local.set $b (i32.add (local.get $b) (i32.const 16)))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $vec)))
        (local.set $chunk (i32.add (local.get $chunk) (i32.const 1)))
        (br $rows)))
      (call $fold (local.get $s32) (local.get $s64) (local.get $vecs))
      (call $fold (local.get $p32) (local.get $p64) (local.get $vecs))
      (br $blocks))))

  ;; As channel_sums, Σ a only.
  (func (export "channel_sum")
    (param $a i32) (param $chunks i32) (param $vecs i32) (param $s32 i32) (param $s64 i32)
    (local $chunk i32) (local $blockEnd i32) (local $k i32) (local $off i32)
    (block $done (loop $blocks
      (br_if $done (i32.ge_u (local.get $chunk) (local.get $chunks)))
      (local.set $blockEnd (i32.add (local.get $chunk) (i32.const 32)))
      (if (i32.gt_u (local.get $blockEnd) (local.get $chunks))
        (then (local.set $blockEnd (local.get $chunks))))
      (block $bdone (loop $rows
        (br_if $bdone (i32.ge_u (local.get $chunk) (local.get $blockEnd)))
        (local.set $k (i32.const 0))
        (block $kdone (loop $vec
          (br_if $kdone (i32.ge_u (local.get $k) (local.get $vecs)))
          (local.set $off (i32.add (local.get $s32) (i32.shl (local.get $k) (i32.const 4))))
          (v128.store (local.get $off) (f32x4.add (v128.load (local.get $off)) (v128.load (local.get $a))))
          (local.set $a (i32.add (local.get $a) (i32.const 16)))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $vec)))
        (local.set $chunk (i32.add (local.get $chunk) (i32.const 1)))
        (br $rows)))
      (call $fold (local.get $s32) (local.get $s64) (local.get $vecs))
      (br $blocks))))

  ;; out = a·ka + shift, per channel through the patterns ka and shift; $chunks chunks of C = $vecs.
  (func (export "channel_affine")
    (param $out i32) (param $a i32) (param $ka i32) (param $shift i32) (param $chunks i32) (param $vecs i32)
    (local $chunk i32) (local $k i32) (local $off i32)
    (block $done (loop $rows
      (br_if $done (i32.ge_u (local.get $chunk) (local.get $chunks)))
      (local.set $k (i32.const 0))
      (block $kdone (loop $vec
        (br_if $kdone (i32.ge_u (local.get $k) (local.get $vecs)))
        (local.set $off (i32.shl (local.get $k) (i32.const 4)))
        (v128.store (local.get $out)
          (f32x4.add
            (f32x4.mul (v128.load (local.get $a)) (v128.load (i32.add (local.get $ka) (local.get $off))))
            (v128.load (i32.add (local.get $shift) (local.get $off)))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $vec)))
      (local.set $chunk (i32.add (local.get $chunk) (i32.const 1)))
      (br $rows))))

  ;; out = a·ka + b·kb + shift, as channel_affine.
  (func (export "channel_affine2")
    (param $out i32) (param $a i32) (param $ka i32) (param $b i32) (param $kb i32) (param $shift i32)
    (param $chunks i32) (param $vecs i32)
    (local $chunk i32) (local $k i32) (local $off i32)
    (block $done (loop $rows
      (br_if $done (i32.ge_u (local.get $chunk) (local.get $chunks)))
      (local.set $k (i32.const 0))
      (block $kdone (loop $vec
        (br_if $kdone (i32.ge_u (local.get $k) (local.get $vecs)))
        (local.set $off (i32.shl (local.get $k) (i32.const 4)))
        (v128.store (local.get $out)
          (f32x4.add
            (f32x4.add
              (f32x4.mul (v128.load (local.get $a)) (v128.load (i32.add (local.get $ka) (local.get $off))))
              (f32x4.mul (v128.load (local.get $b)) (v128.load (i32.add (local.get $kb) (local.get $off)))))
            (v128.load (i32.add (local.get $shift) (local.get $off)))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $vec)))
      (local.set $chunk (i32.add (local.get $chunk) (i32.const 1)))
      (br $rows))))

  ;; MaxPoolGrad for 2×2 windows at stride 2 that lie inside the input, 4 channels at a time
  ;; (the last C mod 4 one at a time). Each window's dy goes to its first maximum in the order
  ;; (0,0), (0,1), (1,0), (1,1), as on the cpu backend: a maximum is greater than −∞ (so never
  ;; NaN), and a window without one gets nothing. Writes the 4 positions of every window (windows do not
  ;; overlap); the caller zeroes dx where no window reaches (an odd last row or column).
  ;; $rowBytes: one input row (width · C · 4); $cb: one pixel (C · 4).
  (func (export "max_pool_grad_2x2")
    (param $xs i32) (param $dys i32) (param $dx i32) (param $batch i32) (param $inH i32)
    (param $outH i32) (param $outW i32) (param $cb i32) (param $rowBytes i32)
    (local $n i32) (local $oy i32) (local $ox i32) (local $row i32) (local $px i32) (local $g i32)
    (local $va v128) (local $vb v128) (local $vc v128) (local $vd v128) (local $dy v128)
    (local $m v128) (local $ga v128) (local $gb v128) (local $gc v128) (local $gd v128)
    (local $sa f32) (local $sb f32) (local $sc f32) (local $sd f32) (local $win i32)
    (block $ndone (loop $nl
      (br_if $ndone (i32.ge_u (local.get $n) (local.get $batch)))
      (local.set $oy (i32.const 0))
      (block $ydone (loop $yl
        (br_if $ydone (i32.ge_u (local.get $oy) (local.get $outH)))
        (local.set $row (i32.mul
          (i32.add (i32.mul (local.get $n) (local.get $inH)) (i32.shl (local.get $oy) (i32.const 1)))
          (local.get $rowBytes)))
        (local.set $ox (i32.const 0))
        (block $xdone (loop $xl
          (br_if $xdone (i32.ge_u (local.get $ox) (local.get $outW)))
          (local.set $px (i32.add (local.get $row) (i32.mul (i32.shl (local.get $ox) (i32.const 1)) (local.get $cb))))
          (local.set $g (i32.const 0))
          (block $gdone (loop $gl
            (br_if $gdone (i32.gt_u (i32.add (local.get $g) (i32.const 16)) (local.get $cb)))
            (local.set $va (v128.load (i32.add (local.get $xs) (local.get $px))))
            (local.set $vb (v128.load (i32.add (i32.add (local.get $xs) (local.get $px)) (local.get $cb))))
            (local.set $vc (v128.load (i32.add (i32.add (local.get $xs) (local.get $px)) (local.get $rowBytes))))
            (local.set $vd (v128.load (i32.add (i32.add (i32.add (local.get $xs) (local.get $px)) (local.get $rowBytes)) (local.get $cb))))
            (local.set $dy (v128.load (local.get $dys)))
            (local.set $ga (f32x4.gt (local.get $va) (v128.const f32x4 -inf -inf -inf -inf)))
            (local.set $m (v128.bitselect (local.get $va) (v128.const f32x4 -inf -inf -inf -inf) (local.get $ga)))
            (local.set $gb (f32x4.gt (local.get $vb) (local.get $m)))
            (local.set $m (v128.bitselect (local.get $vb) (local.get $m) (local.get $gb)))
            (local.set $gc (f32x4.gt (local.get $vc) (local.get $m)))
            (local.set $m (v128.bitselect (local.get $vc) (local.get $m) (local.get $gc)))
            (local.set $gd (f32x4.gt (local.get $vd) (local.get $m)))
            (v128.store (i32.add (i32.add (i32.add (local.get $dx) (local.get $px)) (local.get $rowBytes)) (local.get $cb))
              (v128.and (local.get $dy) (local.get $gd)))
            (v128.store (i32.add (i32.add (local.get $dx) (local.get $px)) (local.get $rowBytes))
              (v128.and (local.get $dy) (v128.andnot (local.get $gc) (local.get $gd))))
            (v128.store (i32.add (i32.add (local.get $dx) (local.get $px)) (local.get $cb))
              (v128.and (local.get $dy)
                (v128.andnot (v128.andnot (local.get $gb) (local.get $gc)) (local.get $gd))))
            (v128.store (i32.add (local.get $dx) (local.get $px))
              (v128.and (local.get $dy)
                (v128.andnot (local.get $ga) (v128.or (v128.or (local.get $gb) (local.get $gc)) (local.get $gd)))))
            (local.set $dys (i32.add (local.get $dys) (i32.const 16)))
            (local.set $px (i32.add (local.get $px) (i32.const 16)))
            (local.set $g (i32.add (local.get $g) (i32.const 16)))
            (br $gl)))
          ;; The last C mod 4 channels one at a time, with the same rule.
          (block $sdone (loop $sl
            (br_if $sdone (i32.ge_u (local.get $g) (local.get $cb)))
            (local.set $sa (f32.load (i32.add (local.get $xs) (local.get $px))))
            (local.set $sb (f32.load (i32.add (i32.add (local.get $xs) (local.get $px)) (local.get $cb))))
            (local.set $sc (f32.load (i32.add (i32.add (local.get $xs) (local.get $px)) (local.get $rowBytes))))
            (local.set $sd (f32.load (i32.add (i32.add (i32.add (local.get $xs) (local.get $px)) (local.get $rowBytes)) (local.get $cb))))
            (local.set $win (i32.const -1))
            (if (f32.gt (local.get $sa) (f32.const -inf))
              (then (local.set $win (i32.const 0)))
              (else (local.set $sa (f32.const -inf))))
            (if (f32.gt (local.get $sb) (local.get $sa))
              (then (local.set $sa (local.get $sb)) (local.set $win (local.get $cb))))
            (if (f32.gt (local.get $sc) (local.get $sa))
              (then (local.set $sa (local.get $sc)) (local.set $win (local.get $rowBytes))))
            (if (f32.gt (local.get $sd) (local.get $sa))
              (then (local.set $win (i32.add (local.get $rowBytes) (local.get $cb)))))
            (f32.store (i32.add (local.get $dx) (local.get $px)) (f32.const 0))
            (f32.store (i32.add (i32.add (local.get $dx) (local.get $px)) (local.get $cb)) (f32.const 0))
            (f32.store (i32.add (i32.add (local.get $dx) (local.get $px)) (local.get $rowBytes)) (f32.const 0))
            (f32.store (i32.add (i32.add (i32.add (local.get $dx) (local.get $px)) (local.get $rowBytes)) (local.get $cb)) (f32.const 0))
            (if (i32.ge_s (local.get $win) (i32.const 0))
              (then (f32.store (i32.add (i32.add (local.get $dx) (local.get $px)) (local.get $win)) (f32.load (local.get $dys)))))
            (local.set $dys (i32.add (local.get $dys) (i32.const 4)))
            (local.set $px (i32.add (local.get $px) (i32.const 4)))
            (local.set $g (i32.add (local.get $g) (i32.const 4)))
            (br $sl)))
          (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
          (br $xl)))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br $yl)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $nl))))
  ;; One Adam step over n floats (see adam-wasm.ts), in float32:
  ;;   m' = β1·m + (1 − β1)·g,  v' = β2·v + (1 − β2)·g²,  x' = x − step·m' / (√(v'·c2) + ε)
  ;; with step = lr / (1 − β1ᵗ) and c2 = 1 / (1 − β2ᵗ).
  (func (export "adam")
    (param $x i32) (param $m i32) (param $v i32) (param $g i32) (param $xo i32) (param $mo i32) (param $vo i32)
    (param $n i32) (param $b1 f32) (param $c1 f32) (param $b2 f32) (param $c2 f32) (param $eps f32)
    (param $step f32) (param $inv2 f32)
    (local $i i32) (local $end i32) (local $vend i32)
    (local $gv v128) (local $mv v128) (local $vv v128)
    (local $gs f32) (local $ms f32) (local $vs f32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vend (i32.and (local.get $end) (i32.const -16)))
    (block $vdone (loop $vl
      (br_if $vdone (i32.ge_u (local.get $i) (local.get $vend)))
      (local.set $gv (v128.load (i32.add (local.get $g) (local.get $i))))
      (local.set $mv (f32x4.add
        (f32x4.mul (v128.load (i32.add (local.get $m) (local.get $i))) (f32x4.splat (local.get $b1)))
        (f32x4.mul (local.get $gv) (f32x4.splat (local.get $c1)))))
      (local.set $vv (f32x4.add
        (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $i))) (f32x4.splat (local.get $b2)))
        (f32x4.mul (f32x4.mul (local.get $gv) (local.get $gv)) (f32x4.splat (local.get $c2)))))
      (v128.store (i32.add (local.get $mo) (local.get $i)) (local.get $mv))
      (v128.store (i32.add (local.get $vo) (local.get $i)) (local.get $vv))
      (v128.store (i32.add (local.get $xo) (local.get $i))
        (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $i)))
          (f32x4.div (f32x4.mul (f32x4.splat (local.get $step)) (local.get $mv))
            (f32x4.add (f32x4.sqrt (f32x4.mul (local.get $vv) (f32x4.splat (local.get $inv2))))
              (f32x4.splat (local.get $eps))))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $vl)))
    (block $done (loop $sl
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $gs (f32.load (i32.add (local.get $g) (local.get $i))))
      (local.set $ms (f32.add (f32.mul (f32.load (i32.add (local.get $m) (local.get $i))) (local.get $b1))
        (f32.mul (local.get $gs) (local.get $c1))))
      (local.set $vs (f32.add (f32.mul (f32.load (i32.add (local.get $v) (local.get $i))) (local.get $b2))
        (f32.mul (f32.mul (local.get $gs) (local.get $gs)) (local.get $c2))))
      (f32.store (i32.add (local.get $mo) (local.get $i)) (local.get $ms))
      (f32.store (i32.add (local.get $vo) (local.get $i)) (local.get $vs))
      (f32.store (i32.add (local.get $xo) (local.get $i))
        (f32.sub (f32.load (i32.add (local.get $x) (local.get $i)))
          (f32.div (f32.mul (local.get $step) (local.get $ms))
            (f32.add (f32.sqrt (f32.mul (local.get $vs) (local.get $inv2))) (local.get $eps)))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $sl))))

  ;; Σ (x − x) over n floats: 0 when every x is finite, NaN when one is NaN or ±Inf (x − x is
  ;; NaN for those, and NaN survives every later addition).
  (func (export "non_finite_probe") (param $x i32) (param $n i32) (result f32)
    (local $i i32) (local $end i32) (local $vend i32) (local $acc v128) (local $xv v128) (local $s f32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vend (i32.and (local.get $end) (i32.const -16)))
    (block $vdone (loop $v
      (br_if $vdone (i32.ge_u (local.get $i) (local.get $vend)))
      (local.set $xv (v128.load (i32.add (local.get $x) (local.get $i))))
      (local.set $acc (f32x4.add (local.get $acc) (f32x4.sub (local.get $xv) (local.get $xv))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $v)))
    (local.set $s (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
      (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
    (block $done (loop $t
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $s (f32.add (local.get $s)
        (f32.sub (f32.load (i32.add (local.get $x) (local.get $i))) (f32.load (i32.add (local.get $x) (local.get $i))))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $t)))
    (local.get $s))

  ;; out[i] = out[i] + a[i] over n floats (float32 additions, as tfjs's Add).
  (func (export "add_into") (param $out i32) (param $a i32) (param $n i32)
    (local $i i32) (local $end i32) (local $vend i32) (local $at i32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vend (i32.and (local.get $end) (i32.const -16)))
    (block $vdone (loop $v
      (br_if $vdone (i32.ge_u (local.get $i) (local.get $vend)))
      (local.set $at (i32.add (local.get $out) (local.get $i)))
      (v128.store (local.get $at)
        (f32x4.add (v128.load (local.get $at)) (v128.load (i32.add (local.get $a) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $v)))
    (block $done (loop $t
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $at (i32.add (local.get $out) (local.get $i)))
      (f32.store (local.get $at)
        (f32.add (f32.load (local.get $at)) (f32.load (i32.add (local.get $a) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $t))))
)
`;
